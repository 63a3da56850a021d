package web

import (
	"context"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

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
	// Name is the rule's reminders' readable name; TextsURL edits its texts.
	Name, TextsURL string
}

// ruleForm is the rule form as typed.
type ruleForm struct {
	Name              string
	Before            string
	OnlyIfUnconfirmed bool
	Enabled           bool
}

func readRuleForm(c *gin.Context) ruleForm {
	return ruleForm{
		Name:              c.PostForm("name"),
		Before:            strings.TrimSpace(c.PostForm("before")),
		OnlyIfUnconfirmed: checked(c, "only_if_unconfirmed"),
		Enabled:           checked(c, "enabled"),
	}
}

func (f ruleForm) input() reminders.RuleInput {
	return reminders.RuleInput{Name: f.Name, Before: f.Before, OnlyIfUnconfirmed: f.OnlyIfUnconfirmed, Enabled: f.Enabled}
}

func ruleFormOf(r *models.ReminderRule) ruleForm {
	return ruleForm{Name: r.Name, Before: reminders.FormatBefore(r.Before()), OnlyIfUnconfirmed: r.OnlyIfUnconfirmed, Enabled: r.Enabled}
}

// ruleFormData is the new/edit rule form.
type ruleFormData struct {
	ID     uint
	Form   ruleForm
	Errors models.FieldErrors
	Other  []string
	// TextsURL edits the rule's texts (an existing rule).
	TextsURL string
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
		rows[i] = ruleRow{
			Rule: r, Before: reminders.FormatBefore(r.Before()),
			Name:     outbox.Name(&models.Message{Kind: models.KindReminder, RuleName: r.Name}, &rules[i]),
			TextsURL: textURL(outbox.RuleKey(&rules[i]).String()),
		}
	}
	s.html(c, http.StatusOK, "rules", s.page(c, "Reminder rules", "admin", rulesData{Rules: rows}))
}

// ruleFormPage renders the form.
func (s *Server) ruleFormPage(c *gin.Context, status int, id uint, f ruleForm, fe models.FieldErrors) {
	d := ruleFormData{
		ID: id, Form: f, Errors: fe,
		Other: otherErrors(fe, "name", "before", "only_if_unconfirmed", "enabled"),
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
	s.ruleFormPage(c, http.StatusOK, 0, ruleForm{Before: "24h", Enabled: true}, nil)
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
