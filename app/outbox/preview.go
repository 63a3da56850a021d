package outbox

import (
	"time"

	"apptconfirm/app/render"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// SendTime is when a message of key k about appointment a would go out,
// seen from now, for a preview: the planned time of a rule's reminder
// (moved out of quiet hours as planning moves it, even when that is
// already past), the end of quiet hours for a notice sent now, and now for
// an answer to a reply. a needs its Location; rule is k's rule, for a
// reminder.
func (o *Outbox) SendTime(k Key, rule *models.ReminderRule, a *models.Appointment, now time.Time) time.Time {
	zone, quiet := time.UTC, schedule.QuietHours{}
	if a.Location != nil {
		zone, quiet = a.Location.Zone(), Quiet(a.Location)
	}
	switch {
	case k.IsRule() && rule != nil:
		plan := schedule.Plan(schedule.Input{
			AppointmentID: a.ID, StartsAt: a.StartsAt, Location: zone, Quiet: quiet, MinLead: o.opts.MinLead,
			Rules:  []schedule.Rule{{ID: rule.ID, Name: rule.Name, Before: rule.Before(), Enabled: true}},
			Active: true,
		})
		if len(plan) == 1 && plan[0].Outcome == schedule.OutcomePlanned {
			return plan[0].SendAt
		}
		return a.StartsAt.Add(-rule.Before())
	case automated(k.Kind):
		if at, ok := AfterQuiet(now, zone, quiet); ok {
			return at
		}
	}
	return now
}

// PreviewData is the template data of appointment a (with its Patient and
// Location) for a preview of k's text: as TemplateData, with the clinic's
// name, the send time of SendTime, and for the numbered question a
// {choices} list of a and a second appointment a day later, in each
// language the preview asks for (see ChoicesFor).
func (o *Outbox) PreviewData(k Key, rule *models.ReminderRule, a *models.Appointment, now time.Time) render.Data {
	d := TemplateData(a)
	d.ClinicName = o.opts.ClinicName
	d.SendAt = o.SendTime(k, rule, a, now)
	if o.opts.Links != nil {
		// A sample appointment (id 0) gets a link of the same length.
		d.Link = o.opts.Links.URL(max(a.ID, 1))
	}
	return d
}

// ChoicesFor lists appointment a and a made-up second one a day later as
// the numbered question would, in lang: what {choices} shows in a preview.
func ChoicesFor(a *models.Appointment, lang string) string {
	second := *a
	second.ID = a.ID + 1
	second.StartsAt = a.StartsAt.Add(26 * time.Hour)
	return choicesText([]models.Appointment{*a, second}, lang)
}
