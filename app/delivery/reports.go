// Package delivery applies what SMS.CX reports about the messages we sent
// and the people we sent them to: delivery reports (a message accepted,
// sent, delivered or failed), opt-outs made on SMS.CX's side, and clicks on
// short links and opens of attachments. The webhook receiver stores each
// callback; its processor hands them here, one at a time, inside a
// transaction that also claims the stored event.
package delivery

import (
	"context"
	"fmt"
	"strings"
	"time"

	// The v1 API on the v2 engine, which the receiver decodes the same
	// item with: a report is decoded once more to be applied, and this
	// takes about 60% of encoding/json's time, with 1 allocation for 10.
	json "github.com/go-json-experiment/json/v1"

	"apptconfirm/app/outbox"
	"apptconfirm/app/phone"
	"apptconfirm/app/smscx"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
)

// OptOuter opts a patient out inside the transaction ctx carries;
// *clinic.Service implements it.
type OptOuter interface {
	OptOut(ctx context.Context, actor models.Actor, patientID uint, source string) error
}

// Service applies SMS.CX's delivery reports, opt-outs and link hits. It is
// safe for concurrent use.
type Service struct {
	store  *models.Store
	outbox *outbox.Outbox
	optOut OptOuter
	now    func() time.Time
	// numbers reads the numbers of opt-outs and hits.
	numbers *phone.Memo
}

// New returns a Service on store; reports move messages through ob, and
// opt-outs go through optOut. now is the clock (nil means time.Now).
func New(store *models.Store, ob *outbox.Outbox, optOut OptOuter, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, outbox: ob, optOut: optOut, now: now, numbers: &phone.Memo{}}
}

// Apply implements webhook.Applier for dlr_update, new_optout and the four
// link and attachment hit events.
func (s *Service) Apply(ctx context.Context, event string, raw []byte) (webhook.Result, error) {
	switch event {
	case smscx.EventDLRUpdate:
		return s.applyReport(ctx, raw)
	case smscx.EventNewOptout:
		return s.applyOptOut(ctx, raw)
	case smscx.EventShortlinkHit, smscx.EventShortlinkHitUpdate, smscx.EventAttachmentHit, smscx.EventAttachmentHitUpdate:
		return s.applyHit(ctx, event, raw)
	}
	return webhook.Result{Text: "ignored: event type not handled"}, nil
}

// deliveryStatus maps an SMS.CX status onto ours. SCHEDULED is accepted
// (SMS.CX holds it); NO COVERAGE is a failure with its own reason.
func deliveryStatus(s string) (models.MessageStatus, bool) {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case smscx.StatusAccepted, smscx.StatusScheduled:
		return models.MsgAccepted, true
	case smscx.StatusSent:
		return models.MsgSent, true
	case smscx.StatusDelivered:
		return models.MsgDelivered, true
	case smscx.StatusFailed, smscx.StatusNoCoverage:
		return models.MsgFailed, true
	case smscx.StatusRejected:
		return models.MsgRejected, true
	}
	return "", false
}

// failureReason says in words why a message was not delivered. SMS.CX does
// not publish its error codes, so the code is shown as it came.
func failureReason(d *smscx.DLRUpdate) string {
	switch strings.ToUpper(strings.TrimSpace(d.Status)) {
	case smscx.StatusNoCoverage:
		return "Not delivered: SMS.CX has no coverage for this number"
	case smscx.StatusRejected:
		return "Rejected by SMS.CX: the number is on its opt-out list"
	}
	if d.ErrorCode != nil {
		return fmt.Sprintf("Not delivered: the carrier reported a failure (SMS.CX error code %d)", *d.ErrorCode)
	}
	return "Not delivered: the carrier reported a failure"
}

// applyReport moves a message forward on a delivery report; a REJECTED
// one also opts the patient out, since SMS.CX refuses numbers on its
// opt-out list.
func (s *Service) applyReport(ctx context.Context, raw []byte) (webhook.Result, error) {
	r, bad := decodeReport(raw)
	if bad != nil {
		return *bad, nil
	}
	res, err := s.outbox.ApplyReport(ctx, r)
	if err != nil {
		return webhook.Result{}, err
	}
	if res.Applied && res.Message.Status == models.MsgRejected {
		if err := s.rejected(ctx, res.Message); err != nil {
			return webhook.Result{}, err
		}
	}
	return webhook.Result{Text: res.Text, Flagged: res.Flagged}, nil
}

// rejected opts out the patient of a message SMS.CX rejected.
func (s *Service) rejected(ctx context.Context, m *models.Message) error {
	if m.PatientID == nil || s.optOut == nil {
		return nil
	}
	return s.optOut.OptOut(ctx, models.SystemActor(), *m.PatientID, "rejected")
}

// decodeReport reads a stored dlr_update item as a report in our terms;
// an item that does not decode is a flagged result instead.
func decodeReport(raw []byte) (outbox.Report, *webhook.Result) {
	var d smscx.DLRUpdate
	if err := json.Unmarshal(raw, &d); err != nil {
		return outbox.Report{}, &webhook.Result{Text: "undecodable: " + err.Error(), Flagged: true}
	}
	r := outbox.Report{
		MsgID: strings.TrimSpace(d.MsgID), TrackData: strings.TrimSpace(d.TrackData), CampaignID: d.CampaignID,
		ProviderState: models.ClipBytes(strings.ToUpper(strings.TrimSpace(d.Status)), 16), ErrorCode: d.ErrorCode,
	}
	r.Status, _ = deliveryStatus(d.Status) // unknown: "", which the outbox reports
	r.RawStatus = d.Status
	if t, err := smscx.ParseTime(d.Datetime); err == nil {
		r.At = t
	}
	if r.Status == models.MsgFailed || r.Status == models.MsgRejected {
		r.Reason = failureReason(&d)
	}
	return r, nil
}
