package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/reminders"
	"apptconfirm/app/render"
	"apptconfirm/models"
)

// Rules is what the reminder-rule editor needs; *reminders.Service
// implements it.
type Rules interface {
	ListRules(ctx context.Context) ([]models.ReminderRule, error)
	GetRule(ctx context.Context, id uint) (*models.ReminderRule, error)
	CreateRule(ctx context.Context, actor models.Actor, in reminders.RuleInput) (*models.ReminderRule, error)
	UpdateRule(ctx context.Context, actor models.Actor, id uint, in reminders.RuleInput) (*models.ReminderRule, error)
	SetRuleEnabled(ctx context.Context, actor models.Actor, id uint, enabled bool) (*models.ReminderRule, error)
	Preview(ctx context.Context, tmpl string, appointmentID uint) (render.Preview, error)
	PreviewAppointments(ctx context.Context, limit int) ([]models.Appointment, error)
}

// previewChoices is how many upcoming appointments the preview offers.
const previewChoices = 50

// rulesData is the rule list.
type rulesData struct {
	Rules []ruleRow
}

type ruleRow struct {
	Rule   models.ReminderRule
	Before string
}

// ruleForm is the rule form as typed.
type ruleForm struct {
	Name              string
	Before            string
	Template          string
	OnlyIfUnconfirmed bool
	Enabled           bool
	// AppointmentID is the appointment chosen for the preview (0: the
	// first upcoming one, or sample data when there is none).
	AppointmentID uint
}

func readRuleForm(c *gin.Context) (ruleForm, models.FieldErrors) {
	fe := models.FieldErrors{}
	f := ruleForm{
		Name:              c.PostForm("name"),
		Before:            strings.TrimSpace(c.PostForm("before")),
		Template:          c.PostForm("template"),
		OnlyIfUnconfirmed: checked(c, "only_if_unconfirmed"),
		Enabled:           checked(c, "enabled"),
	}
	f.AppointmentID = optionalID(fe, "preview_appointment", c.PostForm("preview_appointment"))
	return f, fe
}

func (f ruleForm) input() reminders.RuleInput {
	return reminders.RuleInput{Name: f.Name, Before: f.Before, Template: f.Template, OnlyIfUnconfirmed: f.OnlyIfUnconfirmed, Enabled: f.Enabled}
}

func ruleFormOf(r *models.ReminderRule) ruleForm {
	return ruleForm{Name: r.Name, Before: reminders.FormatBefore(r.Before()), Template: r.Template, OnlyIfUnconfirmed: r.OnlyIfUnconfirmed, Enabled: r.Enabled}
}

// ruleFormData is the new/edit rule form with its preview.
type ruleFormData struct {
	ID     uint
	Form   ruleForm
	Errors models.FieldErrors
	Other  []string
	// Choices are the upcoming appointments the preview may use.
	Choices []option
	// Preview is the template rendered for the chosen appointment; nil
	// when the template is empty or does not render (PreviewError says why).
	Preview      *render.Preview
	PreviewError string
	// PreviewFor says whose appointment the preview shows.
	PreviewFor   string
	Placeholders []string
}

func (s *Server) rulesList(c *gin.Context) {
	if s.rules == nil {
		s.notFound(c)
		return
	}
	rules, err := s.rules.ListRules(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	rows := make([]ruleRow, len(rules))
	for i, r := range rules {
		rows[i] = ruleRow{Rule: r, Before: reminders.FormatBefore(r.Before())}
	}
	s.html(c, http.StatusOK, "rules", s.page(c, "Reminder rules", "admin", rulesData{Rules: rows}))
}

// ruleFormPage renders the form with a preview of its template.
func (s *Server) ruleFormPage(c *gin.Context, status int, id uint, f ruleForm, fe models.FieldErrors) {
	ctx := c.Request.Context()
	appts, err := s.rules.PreviewAppointments(ctx, previewChoices)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := ruleFormData{
		ID: id, Form: f, Errors: fe, Placeholders: render.Placeholders(),
		Other: otherErrors(fe, "name", "before", "template", "only_if_unconfirmed", "enabled"),
	}
	chosen := f.AppointmentID
	for _, a := range appts {
		label := a.Patient.Name() + " · " + outbox.When(a.StartsAt, a.Location.Zone()) + " · " + a.Location.Name
		d.Choices = append(d.Choices, option{Value: strconv.FormatUint(uint64(a.ID), 10), Label: label})
		if chosen == 0 {
			chosen = a.ID
		}
		if a.ID == chosen {
			d.PreviewFor = label
		}
	}
	if chosen != 0 && d.PreviewFor == "" {
		chosen = 0 // not an upcoming appointment (any more): fall back
	}
	if chosen == 0 {
		d.PreviewFor = "a sample appointment (there is no upcoming appointment to show)"
		if len(appts) > 0 {
			chosen = appts[0].ID
			d.PreviewFor = d.Choices[0].Label
		}
	}
	d.Form.AppointmentID = chosen
	if strings.TrimSpace(f.Template) != "" {
		pv, err := s.rules.Preview(ctx, strings.TrimSpace(f.Template), chosen)
		var rerr *render.Error
		switch {
		case errors.As(err, &rerr):
			d.PreviewError = strings.TrimPrefix(rerr.Error(), "render: ")
		case err != nil:
			s.fail(c, err)
			return
		default:
			d.Preview = &pv
		}
	}
	title := "New reminder rule"
	if id != 0 {
		title = "Edit reminder rule"
	}
	s.html(c, status, "rule_form", s.page(c, title, "admin", d))
}

func (s *Server) ruleNew(c *gin.Context) {
	if s.rules == nil {
		s.notFound(c)
		return
	}
	s.ruleFormPage(c, http.StatusOK, 0, ruleForm{Before: "24h", Template: clinic.TemplateReminder, Enabled: true}, nil)
}

func (s *Server) ruleEdit(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if s.rules == nil {
		s.notFound(c)
		return
	}
	r, err := s.rules.GetRule(c.Request.Context(), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.ruleFormPage(c, http.StatusOK, id, ruleFormOf(r), nil)
}

// ruleSave handles both submit buttons of the form: "preview" shows the
// form again with the preview and saves nothing; "save" saves.
func (s *Server) ruleSave(c *gin.Context, id uint) {
	if s.rules == nil {
		s.notFound(c)
		return
	}
	f, fe := readRuleForm(c)
	if c.PostForm("action") == "preview" || len(fe) > 0 {
		status := http.StatusOK
		if len(fe) > 0 {
			status = http.StatusUnprocessableEntity
		}
		s.ruleFormPage(c, status, id, f, fe)
		return
	}
	var r *models.ReminderRule
	var err error
	if id == 0 {
		r, err = s.rules.CreateRule(c.Request.Context(), actorOf(c), f.input())
	} else {
		r, err = s.rules.UpdateRule(c.Request.Context(), actorOf(c), id, f.input())
	}
	if fe, ok := models.AsFieldErrors(err); ok {
		s.ruleFormPage(c, http.StatusUnprocessableEntity, id, f, fe)
		return
	}
	if err != nil && r == nil {
		s.fail(c, err)
		return
	}
	if err != nil {
		// Saved, but replanning the appointments stopped: say so.
		s.log.ErrorContext(c.Request.Context(), "replanning after a rule change failed", "err", err)
		s.flashError(c, "Rule "+r.Name+" saved, but replanning the appointments failed; save it again to retry.")
	} else {
		s.flash(c, "Rule "+r.Name+" saved; upcoming appointments were replanned.")
	}
	c.Redirect(http.StatusSeeOther, "/admin/rules")
}

func (s *Server) ruleCreate(c *gin.Context) { s.ruleSave(c, 0) }

func (s *Server) ruleUpdate(c *gin.Context) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	s.ruleSave(c, id)
}

func (s *Server) ruleSetEnabled(c *gin.Context, enabled bool) {
	id, ok := s.pathID(c)
	if !ok {
		return
	}
	if s.rules == nil {
		s.notFound(c)
		return
	}
	r, err := s.rules.SetRuleEnabled(c.Request.Context(), actorOf(c), id, enabled)
	if fe, ok := models.AsFieldErrors(err); ok {
		// A rule saved before templates were checked: edit it first.
		s.flashError(c, "This rule cannot be changed as it is ("+strings.Join(otherErrors(fe), "; ")+"); edit it first.")
		c.Redirect(http.StatusSeeOther, "/admin/rules")
		return
	}
	if err != nil && r == nil {
		s.fail(c, err)
		return
	}
	word := "disabled"
	if enabled {
		word = "enabled"
	}
	if err != nil {
		s.log.ErrorContext(c.Request.Context(), "replanning after a rule change failed", "err", err)
		s.flashError(c, "Rule "+r.Name+" "+word+", but replanning the appointments failed; try again.")
	} else {
		s.flash(c, "Rule "+r.Name+" "+word+".")
	}
	c.Redirect(http.StatusSeeOther, "/admin/rules")
}
