package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/app/outbox"
	"apptconfirm/app/reminders"
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
	// Scope says which appointments the rule covers ("" for all).
	Scope string
	// Name is the rule's reminders' readable name; TextsURL edits its texts.
	Name, TextsURL string
}

// ruleForm is the rule form as typed.
type ruleForm struct {
	reminders.RuleInput
	// BadIDs: a list of ids could not be read (a tampered form).
	BadIDs string
}

// formIDs reads the ids a form's checkboxes or select give under name.
func formIDs(c *gin.Context, name string) ([]uint, bool) {
	var out []uint
	for _, v := range c.PostFormArray(name) {
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
		if err != nil || n == 0 {
			return nil, false
		}
		out = append(out, uint(n))
	}
	return out, true
}

func readRuleForm(c *gin.Context) ruleForm {
	f := ruleForm{RuleInput: reminders.RuleInput{
		Name:              c.PostForm("name"),
		Timing:            strings.TrimSpace(c.PostForm("timing")),
		Before:            strings.TrimSpace(c.PostForm("before")),
		DaysBefore:        strings.TrimSpace(c.PostForm("days_before")),
		LocalTime:         strings.TrimSpace(c.PostForm("local_time")),
		After:             strings.TrimSpace(c.PostForm("after")),
		Signal:            strings.TrimSpace(c.PostForm("signal")),
		OnlyIfUnconfirmed: checked(c, "only_if_unconfirmed"),
		Enabled:           checked(c, "enabled"),
	}}
	if raw := strings.TrimSpace(c.PostForm("after_rule_id")); raw != "" {
		if n, err := strconv.ParseUint(raw, 10, 32); err == nil {
			f.AfterRuleID = uint(n)
		} else {
			f.BadIDs = "after_rule_id"
		}
	}
	for _, l := range []struct {
		name string
		dst  *[]uint
	}{{"type_ids", &f.TypeIDs}, {"location_ids", &f.LocationIDs}, {"provider_ids", &f.ProviderIDs}} {
		ids, ok := formIDs(c, l.name)
		if !ok {
			f.BadIDs = l.name
		}
		*l.dst = ids
	}
	return f
}

func (f ruleForm) input() reminders.RuleInput { return f.RuleInput }

func ruleFormOf(r *models.ReminderRule) ruleForm {
	return ruleForm{RuleInput: reminders.InputOf(r)}
}

// Has reports whether id is among ids (the form's checkboxes).
func (f ruleForm) Has(ids []uint, id uint) bool { return models.IDList(ids).Has(id) }

// ruleFormData is the new/edit rule form.
type ruleFormData struct {
	ID     uint
	Form   ruleForm
	Errors models.FieldErrors
	Other  []string
	// TextsURL edits the rule's texts (an existing rule).
	TextsURL string
	// The choices of the scope and of the reminder a nudge follows.
	Types     []models.AppointmentType
	Locations []models.Location
	Providers []models.Provider
	Reminders []models.ReminderRule
	Signals   []choice
}

// choice is one option of a select.
type choice struct{ Value, Label string }

// signalChoices are the nudge signals, in words.
var signalChoices = []choice{
	{models.SignalClickedNotConfirmed, "the patient opened the link but has not confirmed"},
	{models.SignalNotConfirmed, "the patient has not confirmed"},
	{models.SignalDeliveredNoReply, "the reminder was delivered and the patient has not replied"},
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
	names := s.scopeNames(c)
	if names == nil {
		return
	}
	byID := map[uint]string{}
	for _, r := range rules {
		byID[r.ID] = r.Name
	}
	rows := make([]ruleRow, len(rules))
	for i, r := range rules {
		rows[i] = ruleRow{
			Rule: r, Before: timingWords(&rules[i], byID), Scope: names.words(&rules[i]),
			Name:     outbox.Name(&models.Message{Kind: models.KindReminder, RuleName: r.Name}, &rules[i]),
			TextsURL: textURL(outbox.RuleKey(&rules[i]).String()),
		}
	}
	s.html(c, http.StatusOK, "rules", s.page(c, "Reminder rules", "admin", rulesData{Rules: rows}))
}

// ruleFormPage renders the form.
func (s *Server) ruleFormPage(c *gin.Context, status int, id uint, f ruleForm, fe models.FieldErrors) {
	d := ruleFormData{
		ID: id, Form: f, Errors: fe, Signals: signalChoices,
		Other: otherErrors(fe, "name", "timing", "before", "days_before", "local_time", "after_rule_id", "after", "signal",
			"type_ids", "location_ids", "provider_ids", "only_if_unconfirmed", "enabled"),
	}
	ctx := c.Request.Context()
	var err error
	if d.Types, err = s.clinic.ListTypes(ctx); err != nil {
		s.fail(c, err)
		return
	}
	if d.Locations, err = s.clinic.ListLocations(ctx); err != nil {
		s.fail(c, err)
		return
	}
	if d.Providers, err = s.clinic.ListProviders(ctx, clinic.ProviderQuery{}); err != nil {
		s.fail(c, err)
		return
	}
	rules, err := s.rules.ListRules(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, r := range rules {
		if !r.IsNudge() && r.ID != id {
			d.Reminders = append(d.Reminders, r)
		}
	}
	title := "New reminder rule"
	if id != 0 {
		title = "Edit reminder rule"
		d.TextsURL = textURL(outbox.Key{Kind: models.KindReminder, RuleID: id}.String())
	}
	s.html(c, status, "rule_form", s.page(c, title, "admin", d))
}

func (s *Server) ruleNew(c *gin.Context) {
	if s.rules == nil {
		s.notFound(c)
		return
	}
	s.ruleFormPage(c, http.StatusOK, 0, ruleForm{RuleInput: reminders.RuleInput{
		Timing: models.RuleBefore, Before: "24h", DaysBefore: "1", LocalTime: "10:00", After: "2h", Enabled: true,
	}}, nil)
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

// ruleSave saves the form; a new rule goes on to the editor of its texts.
func (s *Server) ruleSave(c *gin.Context, id uint) {
	if s.rules == nil {
		s.notFound(c)
		return
	}
	f := readRuleForm(c)
	if f.BadIDs != "" {
		s.ruleFormPage(c, http.StatusUnprocessableEntity, id, f, models.FieldErrors{f.BadIDs: "could not be read"})
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
	if id == 0 && s.texts != nil {
		if err == nil {
			s.flash(c, "Rule "+r.Name+" added, with the texts the app ships in every language: word them your way here.")
		}
		c.Redirect(http.StatusSeeOther, textURL(outbox.RuleKey(r).String()))
		return
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

// timingWords says when a rule sends: "48h before", "1 day before at
// 10:00", "2h after '48h' if the link was opened, not confirmed".
func timingWords(r *models.ReminderRule, ruleNames map[uint]string) string {
	switch r.Timing {
	case models.RuleDayBefore:
		switch r.DaysBefore {
		case 0:
			return "the same day at " + r.LocalTime
		case 1:
			return "the day before at " + r.LocalTime
		}
		return strconv.Itoa(r.DaysBefore) + " days before at " + r.LocalTime
	case models.RuleNudge:
		after := ""
		if r.AfterRuleID != nil {
			after = " '" + ruleNames[*r.AfterRuleID] + "'"
		}
		return outbox.FormatAfter(r.AfterSeconds) + " after" + after + ", if " + outbox.SignalWords(r.Signal)
	}
	return reminders.FormatBefore(r.Before()) + " before"
}

// scopeNames names the types, locations and providers by id.
type scopeNames struct{ types, locations, providers map[uint]string }

func (s *Server) scopeNames(c *gin.Context) *scopeNames {
	ctx := c.Request.Context()
	n := &scopeNames{types: map[uint]string{}, locations: map[uint]string{}, providers: map[uint]string{}}
	ts, err := s.clinic.ListTypes(ctx)
	if err != nil {
		s.fail(c, err)
		return nil
	}
	for _, t := range ts {
		n.types[t.ID] = t.Name
	}
	ls, err := s.clinic.ListLocations(ctx)
	if err != nil {
		s.fail(c, err)
		return nil
	}
	for _, l := range ls {
		n.locations[l.ID] = l.Name
	}
	ps, err := s.clinic.ListProviders(ctx, clinic.ProviderQuery{})
	if err != nil {
		s.fail(c, err)
		return nil
	}
	for _, p := range ps {
		n.providers[p.ID] = p.Name
	}
	return n
}

// words says a rule's scope: "types Check-up; locations Paris"; "" for all.
func (n *scopeNames) words(r *models.ReminderRule) string {
	var parts []string
	for _, g := range []struct {
		label string
		ids   models.IDList
		names map[uint]string
	}{{"types", r.TypeIDs, n.types}, {"locations", r.LocationIDs, n.locations}, {"providers", r.ProviderIDs, n.providers}} {
		if len(g.ids) == 0 {
			continue
		}
		var ns []string
		for _, id := range g.ids {
			ns = append(ns, g.names[id])
		}
		parts = append(parts, g.label+" "+strings.Join(ns, ", "))
	}
	return strings.Join(parts, "; ")
}
