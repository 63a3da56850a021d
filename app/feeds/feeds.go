// Package feeds serves the clinic's calendar feeds: a secret URL per
// provider or location that Google Calendar, Outlook and Apple Calendar
// subscribe to, answering RFC 5545 with one event per appointment from 30
// days back to 180 days ahead. Patients' details are private: unless the
// feed was made to show names, an event says the patient's initials and
// the appointment's state, nothing more.
package feeds

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/app/ical"
	"apptconfirm/models"
)

// The window of a feed.
const (
	Back  = 30 * 24 * time.Hour
	Ahead = 180 * 24 * time.Hour
)

// Refresh is how often subscribers are asked to fetch the feed again.
const Refresh = time.Hour

// PathPrefix starts a feed's URL: PathPrefix + token + ".ics".
const PathPrefix = "/feeds/"

// EntityFeed names feeds in the audit log.
const EntityFeed = "calendar_feed"

// Store is what the feeds need of the store.
type Store interface {
	Tx(ctx context.Context, fn func(ctx context.Context) error) error
	CreateCalendarFeed(ctx context.Context, f *models.CalendarFeed) error
	CalendarFeeds(ctx context.Context) ([]models.CalendarFeed, error)
	CalendarFeedByHash(ctx context.Context, hash string) (*models.CalendarFeed, error)
	RevokeCalendarFeed(ctx context.Context, id uint, at time.Time) error
	Provider(ctx context.Context, id uint) (*models.Provider, error)
	Location(ctx context.Context, id uint) (*models.Location, error)
	FindAppointments(ctx context.Context, f models.AppointmentFilter) ([]models.Appointment, error)
	Audit(ctx context.Context, at time.Time, actor models.Actor, action, entity string, entityID uint, detail string) error
}

// Service creates, revokes and writes feeds.
type Service struct {
	store Store
	// base is the public URL the feeds' URLs start with.
	base string
	now  func() time.Time
}

// New returns a Service; publicURL is the app's public base URL.
func New(store Store, publicURL string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, base: strings.TrimRight(publicURL, "/"), now: now}
}

// Input says whose feed to make: a provider's or a location's.
type Input struct {
	ProviderID, LocationID uint
	// ShowNames puts patients' full names in the events.
	ShowNames bool
}

// Feed is a feed as listed, with what it covers.
type Feed struct {
	models.CalendarFeed
	// Of names the provider or location.
	Of string
}

// Create makes a feed and returns it with its URL, which holds the token:
// the URL is shown this once (only the token's hash is kept).
func (s *Service) Create(ctx context.Context, actor models.Actor, in Input) (*models.CalendarFeed, string, error) {
	fe := models.FieldErrors{}
	if (in.ProviderID == 0) == (in.LocationID == 0) {
		fe.Add("provider_id", "give either provider_id or location_id")
		return nil, "", fe
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return nil, "", fmt.Errorf("feeds: token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	f := &models.CalendarFeed{TokenHash: hash(token), ShowNames: in.ShowNames, CreatedAt: models.DBTime(s.now())}
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		var of string
		if in.ProviderID != 0 {
			p, err := s.store.Provider(ctx, in.ProviderID)
			if errors.Is(err, models.ErrNotFound) {
				return models.FieldErrors{"provider_id": "not found"}
			} else if err != nil {
				return err
			}
			f.ProviderID, of = &p.ID, "provider "+p.Name
		} else {
			l, err := s.store.Location(ctx, in.LocationID)
			if errors.Is(err, models.ErrNotFound) {
				return models.FieldErrors{"location_id": "not found"}
			} else if err != nil {
				return err
			}
			f.LocationID, of = &l.ID, "location "+l.Name
		}
		if err := s.store.CreateCalendarFeed(ctx, f); err != nil {
			return err
		}
		detail := of
		if in.ShowNames {
			detail += ", with patients' names"
		}
		return s.store.Audit(ctx, f.CreatedAt, actor, "calendar_feed.create", EntityFeed, f.ID, detail)
	})
	if err != nil {
		if _, ok := models.AsFieldErrors(err); ok {
			return nil, "", err
		}
		return nil, "", fmt.Errorf("feeds: create: %w", err)
	}
	return f, s.base + PathPrefix + token + ".ics", nil
}

// Revoke stops feed id from answering; models.ErrNotFound when there is
// no such feed.
func (s *Service) Revoke(ctx context.Context, actor models.Actor, id uint) error {
	now := s.now()
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		if err := s.store.RevokeCalendarFeed(ctx, id, now); err != nil {
			return err
		}
		return s.store.Audit(ctx, now, actor, "calendar_feed.revoke", EntityFeed, id, "")
	})
	if err != nil {
		return fmt.Errorf("feeds: revoke: %w", err)
	}
	return nil
}

// List returns every feed, newest first, with what each covers.
func (s *Service) List(ctx context.Context) ([]Feed, error) {
	fs, err := s.store.CalendarFeeds(ctx)
	if err != nil {
		return nil, fmt.Errorf("feeds: list: %w", err)
	}
	out := make([]Feed, 0, len(fs))
	for _, f := range fs {
		of := "?"
		switch {
		case f.ProviderID != nil:
			if p, err := s.store.Provider(ctx, *f.ProviderID); err == nil {
				of = "Provider: " + p.Name
			}
		case f.LocationID != nil:
			if l, err := s.store.Location(ctx, *f.LocationID); err == nil {
				of = "Location: " + l.Name
			}
		}
		out = append(out, Feed{CalendarFeed: f, Of: of})
	}
	return out, nil
}

// Write writes the calendar of the feed whose token is token to w; an
// unknown or revoked token is models.ErrNotFound (before anything is
// written).
func (s *Service) Write(ctx context.Context, w io.Writer, token string) error {
	f, err := s.store.CalendarFeedByHash(ctx, hash(token))
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	if f.RevokedAt != nil {
		return fmt.Errorf("feeds: feed %d revoked: %w", f.ID, models.ErrNotFound)
	}
	now := s.now().UTC()
	filter := models.AppointmentFilter{From: now.Add(-Back), To: now.Add(Ahead), Order: models.AppointmentsByStart}
	name := "Appointments"
	if f.ProviderID != nil {
		filter.ProviderID = *f.ProviderID
		if p, err := s.store.Provider(ctx, *f.ProviderID); err == nil {
			name = p.Name
		}
	} else if f.LocationID != nil {
		filter.LocationID = *f.LocationID
		if l, err := s.store.Location(ctx, *f.LocationID); err == nil {
			name = l.Name
		}
	}
	as, err := s.store.FindAppointments(ctx, filter)
	if err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	host := "apptconfirm"
	if u, err := url.Parse(s.base); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	cw := ical.NewWriter(w, ical.Calendar{Name: name, Refresh: Refresh, Stamp: now})
	for i := range as {
		if err := cw.Write(event(&as[i], f.ShowNames, host)); err != nil && !errors.Is(err, ical.ErrInvalid) {
			return fmt.Errorf("feeds: %w", err)
		}
	}
	if err := cw.Close(); err != nil {
		return fmt.Errorf("feeds: %w", err)
	}
	return nil
}

// event is one appointment as a VEVENT.
func event(a *models.Appointment, showNames bool, host string) ical.Event {
	who := "Patient"
	if p := a.Patient; p != nil && p.ErasedAt == nil {
		if showNames {
			who = p.Name()
		} else {
			who = initials(p.FirstName, p.LastName)
		}
	}
	e := ical.Event{
		UID:          "appointment-" + strconv.FormatUint(uint64(a.ID), 10) + "@" + host,
		Start:        a.StartsAt,
		End:          a.EndsAt(),
		Summary:      who + " · " + stateWord(a.Status),
		Status:       status(a.Status),
		LastModified: a.UpdatedAt,
	}
	if a.Location != nil {
		e.Location = a.Location.Name
	}
	if showNames && a.Provider != nil {
		e.Description = "With " + a.Provider.Name
	}
	return e
}

// status is the event status of an appointment state.
func status(s models.AppointmentStatus) ical.Status {
	switch s {
	case models.Confirmed, models.Completed:
		return ical.StatusConfirmed
	case models.Cancelled, models.NoShow:
		return ical.StatusCancelled
	}
	return ical.StatusTentative
}

// stateWord is a state as people say it.
func stateWord(s models.AppointmentStatus) string {
	if s == models.NoShow {
		return "no-show"
	}
	return string(s)
}

// initials returns "A. L." for Ana Lopez.
func initials(first, last string) string {
	var parts []string
	for _, n := range []string{first, last} {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		r, _ := utf8.DecodeRuneInString(n)
		parts = append(parts, string(unicode.ToUpper(r))+".")
	}
	if len(parts) == 0 {
		return "Patient"
	}
	return strings.Join(parts, " ")
}

// hash is what is stored of a token.
func hash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
