package wording

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/app/outbox"
	"apptconfirm/app/render"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// Limits of what Save takes.
const (
	// MaxText is the longest text, in characters (the column).
	MaxText = 1600
	// MaxChanges is the most texts one Save changes.
	MaxChanges = 500
)

// Entry is one of the clinic's texts, in every language.
type Entry struct {
	Key outbox.Key
	// Name is the text's name as staff read it ("Reminder 48 h before",
	// "Help answer (HELP)").
	Name string
	// About says when the text goes out and what it must say.
	About string
	// Rule is the reminder rule whose text it is, or nil.
	Rule *models.ReminderRule
	// Texts are the clinic's texts by language. A language missing, or
	// with an empty text, has none: its patients get the default
	// language's text.
	Texts map[string]string
	// Missing lists the enabled languages without a text.
	Missing []string
	// Choices is set for a text that lists numbered choices with
	// {choices}; Legal for a HELP, STOP or START answer, which must name
	// the clinic with {clinic} and say STOP.
	Choices, Legal bool
	// DayWarnings maps a language to a warning when the text's fixed
	// words name a day ("today", "demain") that is wrong for some of its
	// sends (a sample of appointment times at the default location).
	DayWarnings map[string]string
}

// about says when each kind of text goes out.
var about = map[string]string{
	texts.KindBookingConfirmation: "Sent when an appointment is booked, if the clinic sends booking confirmations (reminders.booking_confirmation).",
	texts.KindAckConfirm:          "Answers a patient who replied YES.",
	texts.KindAckCancel:           "Answers a patient who replied NO.",
	texts.KindCancellationNotice:  "Sent when staff or the API cancel an appointment (reminders.cancellation_notice).",
	texts.KindRescheduleNotice:    "Sent when staff or the API move an appointment to another time or place (reminders.reschedule_notice).",
	texts.KindNoShowFollowUp:      "Sent once to a patient marked no-show, with their page's link to book again (no_show.follow_up).",
	texts.KindRescheduleAck:       "Answers a patient who asked by SMS for another time (unless reschedule.auto_offer sends the times at once).",
	texts.KindRescheduleOffer:     "Offers a patient who asked for another time up to three new times, from the inbox, the appointment page or the API. It must list them with {choices}.",
	texts.KindRescheduled:         "Confirms the new time a patient picked from an offer.",
	texts.KindOfferTaken:          "Sent when the time a patient picked was taken meanwhile, with fresh times. It must list them with {choices}.",
	texts.KindWaitlistOffer:       "Offers a waitlisted patient a time another appointment freed; {time}, {day} and {provider} are the freed time's (the location when it has no provider). YES takes it.",
	texts.KindWaitlistBooked:      "Confirms the freed time to the waitlisted patient whose YES came first.",
	texts.KindWaitlistTaken:       "Answers a YES that came after the freed time went to someone else; the patient stays on the waitlist.",
	texts.KindQuestion:            "Asks which appointment a bare YES or NO is about, when a number has several awaiting an answer. It must list them with {choices}.",
	texts.KindHelp:                "Answers HELP. It must name the clinic with {clinic} and say how to opt out with the word STOP.",
	texts.KindOptOutAck:           "The one message after STOP. It must name the clinic with {clinic} and say STOP (and START to opt back in).",
	texts.KindOptInAck:            "Answers START. It must name the clinic with {clinic} and say how to opt out with the word STOP.",
	texts.KindQuickCallUs:         "Offered in the inbox as a one-click answer, which staff can change before sending.",
	texts.KindQuickWillReply:      "Offered in the inbox as a one-click answer, which staff can change before sending.",
}

// List returns every text the app sends: those of the message kinds (in
// the order outbox.TemplateKinds lists them), then each reminder rule's,
// the earliest sent first.
func (s *Service) List(ctx context.Context) ([]Entry, error) {
	stored, err := s.store.Texts(ctx)
	if err != nil {
		return nil, fmt.Errorf("wording: list: %w", err)
	}
	rules, err := s.store.RulesByTiming(ctx)
	if err != nil {
		return nil, fmt.Errorf("wording: list: %w", err)
	}
	langs, err := s.Languages(ctx)
	if err != nil {
		return nil, err
	}
	samples, err := s.samples(ctx)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, kind := range outbox.TemplateKinds() {
		out = append(out, s.entry(outbox.KindKey(kind), nil, stored.Kinds[kind], langs, samples))
	}
	for i := range rules {
		r := &rules[i]
		out = append(out, s.entry(outbox.RuleKey(r), r, stored.Rules[r.ID], langs, samples))
	}
	return out, nil
}

// Get returns one text by its key ("ack_confirm", "rule:3"), or
// models.ErrNotFound.
func (s *Service) Get(ctx context.Context, key string) (*Entry, error) {
	k, rule, err := s.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	var stored map[string]string
	if rule != nil {
		if stored, err = s.store.RuleTexts(ctx, rule.ID); err != nil {
			return nil, fmt.Errorf("wording: get: %w", err)
		}
	} else {
		all, err := s.store.Texts(ctx)
		if err != nil {
			return nil, fmt.Errorf("wording: get: %w", err)
		}
		stored = all.Kinds[k.Kind]
	}
	langs, err := s.Languages(ctx)
	if err != nil {
		return nil, err
	}
	samples, err := s.samples(ctx)
	if err != nil {
		return nil, err
	}
	e := s.entry(k, rule, stored, langs, samples)
	return &e, nil
}

// resolve reads a key and loads its rule; models.ErrNotFound for a key
// that names no text.
func (s *Service) resolve(ctx context.Context, key string) (outbox.Key, *models.ReminderRule, error) {
	k, ok := outbox.ParseKey(key)
	switch {
	case !ok:
	case k.IsRule():
		rule, err := s.store.Rule(ctx, k.RuleID)
		if err != nil {
			return k, nil, fmt.Errorf("wording: text %q: %w", key, err)
		}
		return outbox.RuleKey(rule), rule, nil
	case outbox.IsTemplateKind(k.Kind):
		return k, nil, nil
	}
	return k, nil, fmt.Errorf("wording: no text %q: %w", models.Clip(key, 50), models.ErrNotFound)
}

// entry describes one text.
func (s *Service) entry(k outbox.Key, rule *models.ReminderRule, stored map[string]string, langs Languages, samples []*models.Appointment) Entry {
	e := Entry{Key: k, Rule: rule, Texts: map[string]string{}, DayWarnings: map[string]string{}}
	for l, body := range stored {
		e.Texts[l] = body
	}
	if rule != nil {
		e.Name = outbox.Name(&models.Message{Kind: models.KindReminder, RuleName: rule.Name}, rule)
		e.About = "Sent " + strings.TrimPrefix(texts.ReminderName(rule.Before()), "Reminder ") + " each appointment"
		if rule.OnlyIfUnconfirmed {
			e.About += " that is still unconfirmed"
		}
		e.About += ", by the reminder rule " + rule.Name + "."
		if !rule.Enabled {
			e.About += " The rule is disabled: nothing is sent."
		}
	} else {
		e.Name, e.About = texts.KindName(k.Kind), about[k.Kind]
		e.Choices, e.Legal = texts.UsesChoices(k.Kind), texts.IsLegal(k.Kind)
	}
	for _, l := range langs.Enabled {
		body := strings.TrimSpace(e.Texts[l])
		if body == "" {
			e.Missing = append(e.Missing, l)
			continue
		}
		if w := s.dayWarning(k, rule, body, l, samples); w != "" {
			e.DayWarnings[l] = w
		}
	}
	return e
}

// samples are made-up appointments at the default location, at times that
// test a text's day words: later today, tomorrow early (before the end of
// quiet hours) and at 09:00, and in three days. nil when there is no
// default location.
func (s *Service) samples(ctx context.Context) ([]*models.Appointment, error) {
	loc, err := s.store.DefaultLocation(ctx)
	if errors.Is(err, models.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("wording: samples: %w", err)
	}
	zone := loc.Zone()
	now := s.clock().In(zone)
	day := func(d, h, m int) time.Time {
		return time.Date(now.Year(), now.Month(), now.Day()+d, h, m, 0, 0, zone).UTC()
	}
	starts := []time.Time{now.Add(3 * time.Hour).UTC(), day(1, 8, 30), day(1, 9, 0), day(1, 15, 0), day(3, 10, 0)}
	out := make([]*models.Appointment, len(starts))
	for i, t := range starts {
		out[i] = sampleAppointment(loc, t)
	}
	return out, nil
}

// sampleAppointment is a made-up appointment at loc starting at t.
func sampleAppointment(loc *models.Location, t time.Time) *models.Appointment {
	return &models.Appointment{
		StartsAt: t, DurationMinutes: 30, Status: models.Scheduled, Location: loc, LocationID: loc.ID,
		Patient:  &models.Patient{FirstName: "Alex", LastName: "Sample", Language: "en", Phone: "+12025550100"},
		Provider: &models.Provider{Name: "Dr. Grey"},
	}
}

// dayWarning returns the first day contradiction of body over samples.
func (s *Service) dayWarning(k outbox.Key, rule *models.ReminderRule, body, lang string, samples []*models.Appointment) string {
	now := s.clock()
	for _, a := range samples {
		d := s.outbox.PreviewData(k, rule, a, now)
		d.Language = lang
		if w := render.DayContradiction(body, d); w != "" {
			return w
		}
	}
	return ""
}

// Change is one text to save: Body in Language for the text Key
// ("ack_confirm", "rule:3"). An empty Body clears the text: patients of
// that language get the default language's text.
type Change struct {
	Key      string
	Language string
	Body     string
}

// Save checks and stores changes, all or none, and returns how many texts
// changed. Every refused text is named in models.FieldErrors as
// "<key>.<language>" ("help.fr": "must name the clinic with {clinic}"):
// an unknown key or language, a text over MaxText characters or with
// control characters, an unknown placeholder (render.Validate), a
// numbered question without {choices}, a HELP, STOP or START answer that
// does not name the clinic or say STOP, and an empty text in the clinic's
// default language (it is what every other language falls back to).
func (s *Service) Save(ctx context.Context, actor models.Actor, changes []Change) (int, error) {
	if len(changes) > MaxChanges {
		return 0, models.FieldErrors{"templates": fmt.Sprintf("at most %d texts at once", MaxChanges)}
	}
	def := s.outbox.DefaultLanguage()
	now := s.clock()
	saved := 0
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		stored, err := s.store.Texts(ctx)
		if err != nil {
			return err
		}
		fe := models.FieldErrors{}
		type write struct {
			key  outbox.Key
			lang string
			body string
		}
		var writes []write
		seen := map[string]bool{}
		for _, c := range changes {
			field := models.Clip(c.Key, 50) + "." + models.Clip(c.Language, 10)
			if seen[field] {
				fe.Add(field, "is given twice")
				continue
			}
			seen[field] = true
			k, _, err := s.resolve(ctx, c.Key)
			if errors.Is(err, models.ErrNotFound) {
				fe.Add(field, "names no text: a key is a message kind ("+strings.Join(outbox.TemplateKinds(), ", ")+") or rule:<id>")
				continue
			}
			if err != nil {
				return err
			}
			if !texts.IsLanguage(c.Language) {
				fe.Add(field, "is not a language the app writes in; choose among "+strings.Join(texts.Languages(), ", "))
				continue
			}
			body := strings.TrimSpace(strings.ReplaceAll(c.Body, "\r\n", "\n"))
			if m := checkText(k, body, c.Language == def); m != "" {
				fe.Add(field, m)
				continue
			}
			cur, had := storedText(stored, k, c.Language)
			if had && cur == body {
				continue
			}
			writes = append(writes, write{key: k, lang: c.Language, body: body})
		}
		if err := fe.Err(); err != nil {
			return err
		}
		byKey := map[string][]string{}
		var keys []string
		for _, w := range writes {
			if w.key.IsRule() {
				err = s.store.PutRuleTemplate(ctx, w.key.RuleID, w.lang, w.body, now)
			} else {
				err = s.store.PutMessageTemplate(ctx, w.key.Kind, w.lang, w.body, now)
			}
			if err != nil {
				return err
			}
			ks := w.key.String()
			if byKey[ks] == nil {
				keys = append(keys, ks)
			}
			lang := w.lang
			if w.body == "" {
				lang += " (cleared)"
			}
			byKey[ks] = append(byKey[ks], lang)
		}
		sort.Strings(keys)
		for _, ks := range keys {
			detail := ks + ": " + strings.Join(byKey[ks], ", ")
			if err := s.store.Audit(ctx, now, actor, "message_template.update", entityTexts, 0, detail); err != nil {
				return err
			}
			if err := s.store.Record(ctx, models.Event{At: now, Type: models.EventTextsChanged, Source: "texts", Detail: models.Clip(detail, 300)}); err != nil {
				return err
			}
		}
		saved = len(writes)
		return nil
	})
	if _, ok := models.AsFieldErrors(err); ok {
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("wording: save: %w", models.Classify(err))
	}
	return saved, nil
}

// storedText returns k's stored text in lang.
func storedText(stored models.Texts, k outbox.Key, lang string) (string, bool) {
	var byLang map[string]string
	if k.IsRule() {
		byLang = stored.Rules[k.RuleID]
	} else {
		byLang = stored.Kinds[k.Kind]
	}
	body, ok := byLang[lang]
	return body, ok
}

// checkText checks one text of k and returns a message for people, or "".
func checkText(k outbox.Key, body string, isDefault bool) string {
	switch {
	case body == "" && isDefault:
		return "is required: it is the clinic's language, which every other language falls back to"
	case body == "":
		return ""
	case !utf8.ValidString(body):
		return "is not valid text"
	case utf8.RuneCountInString(body) > MaxText:
		return fmt.Sprintf("must be at most %d characters (got %d)", MaxText, utf8.RuneCountInString(body))
	}
	for _, r := range body {
		if r != '\n' && (unicode.IsControl(r) || r == '\u2028' || r == '\u2029') {
			return "must not contain control characters"
		}
	}
	kind := k.Kind
	if k.IsRule() {
		kind = texts.KindReminder
	}
	err := texts.Check(kind, body)
	var rerr *render.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &rerr):
		return strings.TrimPrefix(rerr.Error(), "render: ")
	case errors.Is(err, texts.ErrNoClinicName):
		return "must name the clinic with {clinic}: the law and the carriers require it in HELP, STOP and START answers"
	case errors.Is(err, texts.ErrNoStopInstruction):
		return "must tell the patient how to opt out with the word STOP: the law and the carriers require it in HELP, STOP and START answers"
	}
	return strings.TrimPrefix(err.Error(), "texts: ")
}
