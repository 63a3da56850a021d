package api

import (
	"context"
	"fmt"
	"net/http"
	"sort"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/wording"
	"apptconfirm/models"
)

// Texts is what GET and PUT /templates need; *wording.Service (package
// app/wording) implements it.
type Texts interface {
	Languages(ctx context.Context) (wording.Languages, error)
	List(ctx context.Context) ([]wording.Entry, error)
	Save(ctx context.Context, actor models.Actor, changes []wording.Change) (int, error)
}

// Templates is the answer of GET and PUT /templates: every text the app
// sends, in every language, with the clinic's languages.
type Templates struct {
	// DefaultLanguage is the clinic's language: a patient whose language
	// has no text gets this one.
	DefaultLanguage string `json:"default_language"`
	// Languages are the languages the clinic writes to patients in.
	Languages []string `json:"languages"`
	// Changed is how many texts a PUT changed (absent for GET).
	Changed   *int       `json:"changed,omitempty"`
	Templates []Template `json:"templates"`
}

// Template is one text in every language. Key is the message kind
// ("ack_confirm") or "rule:" and a reminder rule's id ("rule:3").
type Template struct {
	Key         string `json:"key"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// RuleID and Rule name the reminder rule of a rule's text.
	RuleID *uint   `json:"rule_id"`
	Rule   *string `json:"rule"`
	// Texts maps a language to the text; a language without one gets the
	// default language's text.
	Texts map[string]string `json:"texts"`
	// Missing lists the enabled languages without a text.
	Missing []string `json:"missing"`
	// Legal marks a HELP, STOP or START answer, which must name the clinic
	// with {clinic} and say STOP; Choices a text that must list numbered
	// choices with {choices}.
	Legal   bool `json:"legal"`
	Choices bool `json:"choices"`
}

// putTemplatesBody is the body of PUT /templates.
type putTemplatesBody struct {
	Templates []putTemplate `json:"templates"`
}

// putTemplate is one text's changes: Texts maps a language to its new
// text; an empty text removes it (its patients get the default language's).
type putTemplate struct {
	Key   string             `json:"key"`
	Texts map[string]*string `json:"texts"`
}

// ListTemplates answers GET /templates.
func (a *API) ListTemplates(c *gin.Context) {
	out, err := a.templates(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, out)
}

// PutTemplates answers PUT /templates: it saves the given texts, all or
// none, and answers as GET does, with how many changed. A refused text is
// a 422 naming it as "<key>.<language>" ("help.fr").
func (a *API) PutTemplates(c *gin.Context) {
	if a.texts == nil {
		a.NotFound(c)
		return
	}
	var b putTemplatesBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	fe := models.FieldErrors{}
	if len(b.Templates) == 0 {
		fe.Add("templates", "give at least one text to change")
	}
	var changes []wording.Change
	for i, t := range b.Templates {
		switch {
		case t.Key == "":
			fe.Add(fmt.Sprintf("templates[%d].key", i), "required")
			continue
		case len(t.Texts) == 0:
			fe.Add(fmt.Sprintf("templates[%d].texts", i), "give at least one language's text")
			continue
		}
		langs := make([]string, 0, len(t.Texts))
		for l := range t.Texts {
			langs = append(langs, l)
		}
		sort.Strings(langs)
		for _, l := range langs {
			body := ""
			if p := t.Texts[l]; p != nil {
				body = *p
			}
			changes = append(changes, wording.Change{Key: t.Key, Language: l, Body: body})
		}
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	ctx := c.Request.Context()
	n, err := a.texts.Save(ctx, actor(c), changes)
	if err != nil {
		a.fail(c, err)
		return
	}
	out, err := a.templates(ctx)
	if err != nil {
		a.fail(c, err)
		return
	}
	out.Changed = &n
	writeJSON(c, http.StatusOK, out)
}

// templates lists every text.
func (a *API) templates(ctx context.Context) (*Templates, error) {
	if a.texts == nil {
		return nil, fmt.Errorf("api: templates: %w", models.ErrNotFound)
	}
	langs, err := a.texts.Languages(ctx)
	if err != nil {
		return nil, err
	}
	entries, err := a.texts.List(ctx)
	if err != nil {
		return nil, err
	}
	out := &Templates{DefaultLanguage: langs.Default, Languages: langs.Enabled, Templates: make([]Template, 0, len(entries))}
	for _, e := range entries {
		t := Template{
			Key: e.Key.String(), Name: e.Name, Description: e.About, Texts: e.Texts,
			Missing: e.Missing, Legal: e.Legal, Choices: e.Choices,
		}
		if t.Missing == nil {
			t.Missing = []string{}
		}
		if e.Rule != nil {
			id, name := e.Rule.ID, e.Rule.Name
			t.RuleID, t.Rule = &id, &name
		}
		out.Templates = append(out.Templates, t)
	}
	return out, nil
}
