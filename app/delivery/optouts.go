package delivery

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"apptconfirm/app/clinic"
	"apptconfirm/app/smscx"
	"apptconfirm/app/webhook"
	"apptconfirm/models"
)

// optOutRequest is a new_optout as read: the number it names (empty
// when none), how it was made, or the result of an item that names no
// number.
type optOutRequest struct {
	number string
	source string
	actor  models.Actor
	bad    *webhook.Result
}

// decodeOptOut reads a stored new_optout item.
func (s *Service) decodeOptOut(raw []byte) optOutRequest {
	var o smscx.NewOptout
	if err := json.Unmarshal(raw, &o); err != nil {
		return optOutRequest{bad: &webhook.Result{Text: "undecodable: " + err.Error(), Flagged: true}}
	}
	number := s.numbers.Loose(o.PhoneNumber, o.CountryISO)
	if number == "" {
		return optOutRequest{bad: &webhook.Result{Text: "unmatched: the opt-out names no phone number", Flagged: true}}
	}
	r := optOutRequest{number: number, source: "smscx_link", actor: models.PatientActor()}
	if strings.EqualFold(strings.TrimSpace(o.OptoutType), smscx.OptoutTypeAdmin) {
		r.source, r.actor = "smscx_admin", models.SystemActor()
	}
	return r
}

// unmatchedOptOut is the result of an opt-out whose number no patient has.
var unmatchedOptOut = webhook.Result{Text: "unmatched: no patient has this number", Flagged: true}

// optOutResult is the result of an opt-out that opted out changed patients.
func optOutResult(changed int, source string) webhook.Result {
	if changed == 0 {
		return webhook.Result{Text: "already opted out"}
	}
	return webhook.Result{Text: fmt.Sprintf("opted out %d patient(s) (%s)", changed, source)}
}

// SetOptOuter is an OptOuter that also opts out several patients at once
// (*clinic.Service implements it).
type SetOptOuter interface {
	OptOutPatients(ctx context.Context, outs []clinic.OptOutOf) error
}

// applyOptOuts applies a run of new_optout items as applyOptOut applies
// them one after another, with the same rows: the patients of all their
// numbers are read (and locked) in one statement, and opted out together
// by the OptOuter. A patient opted out by an earlier item of the run (or
// before) is "already opted out" for the later ones.
func (s *Service) applyOptOuts(ctx context.Context, raws [][]byte) ([]webhook.Result, error) {
	set, ok := s.optOut.(SetOptOuter)
	if !ok {
		return s.applyEach(ctx, smscx.EventNewOptout, raws)
	}
	out := make([]webhook.Result, len(raws))
	reqs := make([]optOutRequest, len(raws))
	numbers := make([]string, 0, len(raws))
	for i, raw := range raws {
		reqs[i] = s.decodeOptOut(raw)
		numbers = append(numbers, reqs[i].number)
	}
	patients, err := s.store.LockPatientsByPhones(ctx, numbers)
	if err != nil {
		return nil, err
	}
	done := map[uint]bool{}
	var outs []clinic.OptOutOf
	for i, r := range reqs {
		if r.bad != nil {
			out[i] = *r.bad
			continue
		}
		ps := patients[r.number]
		if len(ps) == 0 {
			out[i] = unmatchedOptOut
			continue
		}
		changed := 0
		for k := range ps {
			pt := &ps[k]
			if pt.OptedOut() || done[pt.ID] {
				continue
			}
			done[pt.ID] = true
			outs = append(outs, clinic.OptOutOf{Patient: pt, Actor: r.actor, Source: r.source})
			changed++
		}
		out[i] = optOutResult(changed, r.source)
	}
	if err := set.OptOutPatients(ctx, outs); err != nil {
		return nil, err
	}
	return out, nil
}

// applyOptOut opts out the patients with the number a new_optout names;
// their pending messages are cancelled with the opt-out. No SMS is sent:
// SMS.CX's opt-out page already told the patient.
func (s *Service) applyOptOut(ctx context.Context, raw []byte) (webhook.Result, error) {
	r := s.decodeOptOut(raw)
	if r.bad != nil {
		return *r.bad, nil
	}
	number, source, actor := r.number, r.source, r.actor
	patients, err := s.store.PatientsByPhone(ctx, number)
	if err != nil {
		return webhook.Result{}, err
	}
	if len(patients) == 0 {
		return unmatchedOptOut, nil
	}
	changed := 0
	for _, pt := range patients {
		if pt.OptedOut() {
			continue
		}
		if err := s.optOut.OptOut(ctx, actor, pt.ID, source); err != nil {
			return webhook.Result{}, err
		}
		changed++
	}
	return optOutResult(changed, source), nil
}

// applyHit records a short-link click or attachment open on the timeline of
// the appointment whose message carried the link: the message to that
// number in that campaign, else the latest message to that number about an
// appointment.
func (s *Service) applyHit(ctx context.Context, event string, raw []byte) (webhook.Result, error) {
	res, line, ev, err := s.decideHit(ctx, event, raw)
	if err != nil || line == nil {
		return res, err
	}
	if err := s.store.AddTimeline(ctx, *line); err != nil {
		return webhook.Result{}, err
	}
	if err := s.store.Record(ctx, *ev); err != nil {
		return webhook.Result{}, err
	}
	return res, nil
}

// decideHit finds the message a hit is about and returns what to record:
// a timeline line and a domain event (nil when the hit matched nothing).
// It reads and writes nothing else, so hits can be recorded a set at a
// time.
func (s *Service) decideHit(ctx context.Context, event string, raw []byte) (webhook.Result, *models.TimelineEntry, *models.Event, error) {
	var h smscx.Hit
	if err := json.Unmarshal(raw, &h); err != nil {
		return webhook.Result{Text: "undecodable: " + err.Error(), Flagged: true}, nil, nil, nil
	}
	number := s.numbers.Loose(h.PhoneNumber, "")
	if number == "" {
		return webhook.Result{Text: "unmatched: the hit names no phone number"}, nil, nil, nil
	}
	campaign := strings.TrimSpace(h.CampaignID)
	if len(campaign) > 36 {
		campaign = ""
	}
	m, err := s.store.LinkedMessage(ctx, number, campaign)
	if err != nil {
		return webhook.Result{}, nil, nil, err
	}
	if m == nil {
		return webhook.Result{Text: "unmatched: no message about an appointment was sent to this number"}, nil, nil, nil
	}
	kind, what := models.TimelineClick, "Link"
	if strings.HasPrefix(event, "attachment") {
		kind, what = models.TimelineOpen, "Attachment"
	}
	detail := what + " opened"
	if id := h.ID(); id != "" {
		detail += " (" + models.ClipBytes(id, 40) + ")"
	}
	if where := describeVisitor(&h); where != "" {
		detail += " on " + where
	}
	mid := m.ID
	at := models.DBTime(s.now())
	line := &models.TimelineEntry{AppointmentID: *m.AppointmentID, At: at, Kind: kind, Detail: detail, MessageID: &mid}
	var pid uint
	if m.PatientID != nil {
		pid = *m.PatientID
	}
	ev := &models.Event{
		At: at, Type: models.EventAppointmentSignal, AppointmentID: *m.AppointmentID, MessageID: m.ID, PatientID: pid,
		Source: kind, Detail: detail,
	}
	return webhook.Result{Text: fmt.Sprintf("recorded on appointment %d", *m.AppointmentID)}, line, ev, nil
}

// describeVisitor summarises the device of a hit for the timeline.
func describeVisitor(h *smscx.Hit) string {
	var parts []string
	for _, s := range []string{h.Device, h.OS, h.Browser, h.City} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, models.ClipBytes(models.CleanText(s, 2000), 40))
		}
	}
	return strings.Join(parts, ", ")
}
