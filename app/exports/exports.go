// Package exports writes the clinic's appointments out as CSV, in the
// columns the import reads (so that importing an export changes nothing)
// followed by what only apptconfirm knows: the appointment's state, when
// it was confirmed or cancelled, and each message's status.
package exports

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"apptconfirm/app/csvout"
	"apptconfirm/models"
)

// batch is how many appointments are read at a time: the export streams,
// whatever the range holds.
const batch = 500

// Columns is the header of an export: the import's columns, then
// apptconfirm's own.
var Columns = []string{
	"external_id", "patient_external_id", "first_name", "last_name", "phone", "language",
	"location", "provider", "type", "starts_at", "duration_minutes", "notes", "status",
	"apptconfirm_id", "apptconfirm_state", "confirmed_at", "cancelled_at", "messages",
}

// Store is what an export reads.
type Store interface {
	AppointmentIDs(ctx context.Context, f models.AppointmentFilter) ([]uint, error)
	AppointmentsByID(ctx context.Context, ids []uint) (map[uint]*models.Appointment, error)
	MessageSummaries(ctx context.Context, ids []uint) (map[uint][]models.Message, error)
}

// Service writes exports.
type Service struct {
	store Store
	// label names a message for people ("Reminder 48 h before").
	label func(*models.Message) string
}

// New returns a Service; label names a message in the messages column.
func New(store Store, label func(*models.Message) string) *Service {
	return &Service{store: store, label: label}
}

// WriteAppointments writes the appointments starting in [from, to) (zero
// bounds are open), by start, as CSV to w, every cell neutralised against
// spreadsheet formulas. Times are RFC 3339 with the location's offset.
// The status column holds what the import understands (scheduled,
// confirmed, cancelled; empty for an appointment that is over), the
// apptconfirm_state column the state itself.
func (s *Service) WriteAppointments(ctx context.Context, w io.Writer, from, to time.Time) error {
	ids, err := s.store.AppointmentIDs(ctx, models.AppointmentFilter{From: from, To: to, Order: models.AppointmentsByStart})
	if err != nil {
		return fmt.Errorf("exports: %w", err)
	}
	cw := csvout.NewWriter(w, csvout.Options{BOM: true})
	if err := cw.Write(Columns); err != nil {
		return fmt.Errorf("exports: %w", err)
	}
	for len(ids) > 0 {
		n := min(batch, len(ids))
		page := ids[:n]
		ids = ids[n:]
		as, err := s.store.AppointmentsByID(ctx, page)
		if err != nil {
			return fmt.Errorf("exports: %w", err)
		}
		msgs, err := s.store.MessageSummaries(ctx, page)
		if err != nil {
			return fmt.Errorf("exports: %w", err)
		}
		for _, id := range page {
			a, ok := as[id]
			if !ok {
				continue // deleted meanwhile
			}
			if err := cw.Write(s.record(a, msgs[id])); err != nil {
				return fmt.Errorf("exports: %w", err)
			}
		}
		if err := cw.Flush(); err != nil {
			return fmt.Errorf("exports: %w", err)
		}
	}
	return nil
}

// record is one appointment's row.
func (s *Service) record(a *models.Appointment, msgs []models.Message) []string {
	zone := time.UTC
	loc := ""
	if a.Location != nil {
		zone, loc = a.Location.Zone(), a.Location.Name
	}
	var p models.Patient
	if a.Patient != nil && a.Patient.ErasedAt == nil {
		p = *a.Patient
	}
	provider := ""
	if a.Provider != nil {
		provider = a.Provider.Name
	}
	typ := ""
	if a.AppointmentType != nil {
		typ = a.AppointmentType.Name
	}
	status := ""
	switch a.Status {
	case models.Scheduled, models.Confirmed, models.Cancelled:
		status = string(a.Status)
	}
	parts := make([]string, 0, len(msgs))
	for i := range msgs {
		parts = append(parts, s.label(&msgs[i])+": "+string(msgs[i].Status))
	}
	return []string{
		a.ExternalID, p.ExternalID, p.FirstName, p.LastName, p.Phone, p.Language,
		loc, provider, typ, a.StartsAt.In(zone).Format(time.RFC3339), strconv.Itoa(a.DurationMinutes), a.Notes, status,
		strconv.FormatUint(uint64(a.ID), 10), string(a.Status), stamp(a.ConfirmedAt, zone), stamp(a.CancelledAt, zone),
		strings.Join(parts, "; "),
	}
}

func stamp(t *time.Time, zone *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(zone).Format(time.RFC3339)
}
