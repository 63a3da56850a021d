package wording

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/outbox"
	"apptconfirm/app/render"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// Preview is a text shown on one appointment in every enabled language,
// as a patient of each language would get it.
type Preview struct {
	// AppointmentID is the appointment shown; 0 for a sample one.
	AppointmentID uint
	// For says whose appointment it is ("Marie Dupont · Tue 3 Mar 10:00
	// CET · Main St") or that it is a sample.
	For string
	// SendAt is when the message would go out for that appointment, which
	// {day} is seen from; When says it in the location's zone.
	SendAt time.Time
	When   string
	// Past is set when SendAt is already past: for this appointment the
	// message is not sent (planning skips it).
	Past bool
	// Languages has one preview per enabled language, default first.
	Languages []LanguagePreview
}

// LanguagePreview is the text one language's patients would get.
type LanguagePreview struct {
	Language string
	// Name is the language's name ("French").
	Name string
	// Preview is the written text with its length, encoding (Unicode or
	// GSM-7) and SMS parts; empty when Error is set.
	render.Preview
	// Error says why the text cannot be written (an unknown placeholder).
	Error string
	// DayWarning is set when the fixed words name a wrong day for SendAt.
	DayWarning string
	// Fallback is set when the language has no text and its patients get
	// the default language's text, which Preview then shows.
	Fallback string
}

// Preview writes bodies (by language: the text as an admin is typing it)
// of the text key for appointment appointmentID (0 for the first upcoming
// one, or a sample appointment when there is none), in every enabled
// language: a language with no body shows the default language's text, as
// its patients would get it. models.ErrNotFound for an unknown key.
func (s *Service) Preview(ctx context.Context, key string, bodies map[string]string, appointmentID uint) (*Preview, error) {
	k, rule, err := s.resolve(ctx, key)
	if err != nil {
		return nil, err
	}
	langs, err := s.Languages(ctx)
	if err != nil {
		return nil, err
	}
	a, err := s.previewAppointment(ctx, appointmentID)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	p := &Preview{}
	if a.ID != 0 {
		p.AppointmentID = a.ID
		p.For = AppointmentLabel(a)
	} else {
		p.For = "a sample appointment (there is no upcoming appointment to show)"
	}
	base := s.outbox.PreviewData(k, rule, a, now)
	p.SendAt = base.SendAt
	p.When = outbox.When(base.SendAt, base.Location)
	p.Past = base.SendAt.Before(now)
	order := append([]string{langs.Default}, without(langs.Enabled, langs.Default)...)
	defBody := strings.TrimSpace(bodies[langs.Default])
	for _, lang := range order {
		lp := LanguagePreview{Language: lang, Name: texts.LanguageName(lang)}
		body, from := strings.TrimSpace(bodies[lang]), lang
		if body == "" && lang != langs.Default {
			body, from = defBody, langs.Default
			lp.Fallback = fmt.Sprintf("No %s text: %s patients get the %s text.",
				texts.LanguageName(lang), texts.LanguageName(lang), texts.LanguageName(langs.Default))
		}
		d := base
		d.Language = from
		if k.Kind == texts.KindQuestion {
			d.Choices = outbox.ChoicesFor(a, from)
		}
		if err := preview(&lp, k, body, d, from == langs.Default); err != nil {
			return nil, err
		}
		p.Languages = append(p.Languages, lp)
	}
	return p, nil
}

// preview writes body with d into lp: its text and measures, or why it
// cannot be written.
func preview(lp *LanguagePreview, k outbox.Key, body string, d render.Data, isDefault bool) error {
	if body == "" {
		lp.Error = "there is no text to show"
		return nil
	}
	if m := checkText(k, body, isDefault); m != "" {
		lp.Error = m
		return nil
	}
	pv, err := render.PreviewText(body, d)
	var rerr *render.Error
	switch {
	case errors.As(err, &rerr):
		lp.Error = strings.TrimPrefix(rerr.Error(), "render: ")
	case err != nil:
		return err
	default:
		lp.Preview = pv
		lp.DayWarning = render.DayContradiction(body, d)
	}
	return nil
}

func without(list []string, drop string) []string {
	out := make([]string, 0, len(list))
	for _, x := range list {
		if x != drop {
			out = append(out, x)
		}
	}
	return out
}

// previewAppointment loads the appointment to preview on: id when it is
// upcoming, else the first upcoming one, else a sample.
func (s *Service) previewAppointment(ctx context.Context, id uint) (*models.Appointment, error) {
	choices, err := s.PreviewAppointments(ctx, 1)
	if err != nil {
		return nil, err
	}
	if id != 0 {
		a, err := s.store.Appointment(ctx, id)
		switch {
		case errors.Is(err, models.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("wording: preview: %w", err)
		case a.Status.Active() && a.StartsAt.After(s.clock()):
			return a, nil
		}
	}
	if len(choices) > 0 {
		return &choices[0], nil
	}
	samples, err := s.samples(ctx)
	if err != nil {
		return nil, err
	}
	if len(samples) == 0 {
		loc := &models.Location{Name: "Main Street Clinic", TimeZone: "UTC", Phone: "+12025550100"}
		return sampleAppointment(loc, s.clock().Add(50*time.Hour).Truncate(time.Hour)), nil
	}
	return samples[len(samples)-1], nil
}

// PreviewAppointments returns up to limit active appointments that have not
// started, soonest first, with Patient and Location loaded: the choices
// for a preview.
func (s *Service) PreviewAppointments(ctx context.Context, limit int) ([]models.Appointment, error) {
	out, err := s.store.FindAppointments(ctx, models.AppointmentFilter{
		From: s.clock().Add(time.Microsecond), Statuses: models.ActiveStatuses, Limit: limit,
	})
	if err != nil {
		return nil, fmt.Errorf("wording: preview appointments: %w", err)
	}
	return out, nil
}

// AppointmentLabel names an appointment in the preview's choice: "Marie
// Dupont (French) · Tue 3 Mar 10:00 CET · Main St".
func AppointmentLabel(a *models.Appointment) string {
	return AppointmentLabelWith(a, outbox.When)
}

// AppointmentLabelWith is AppointmentLabel with the start written by when
// (a page writes it on the clinic's clock).
func AppointmentLabelWith(a *models.Appointment, when func(time.Time, *time.Location) string) string {
	label := ""
	if a.Patient != nil {
		label = a.Patient.Name() + " (" + texts.LanguageName(a.Patient.Language) + ") · "
	}
	var zone *time.Location
	if a.Location != nil {
		zone = a.Location.Zone()
	}
	label += when(a.StartsAt, zone)
	if a.Location != nil {
		label += " · " + a.Location.Name
	}
	return label
}
