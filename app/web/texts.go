package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/render"
	"apptconfirm/app/texts"
	"apptconfirm/app/wording"
	"apptconfirm/models"
)

// Texts is what the text editor needs; *wording.Service implements it.
type Texts interface {
	Languages(ctx context.Context) (wording.Languages, error)
	SetLanguages(ctx context.Context, actor models.Actor, langs []string) (wording.Languages, error)
	List(ctx context.Context) ([]wording.Entry, error)
	Get(ctx context.Context, key string) (*wording.Entry, error)
	Save(ctx context.Context, actor models.Actor, changes []wording.Change) (int, error)
	Preview(ctx context.Context, key string, bodies map[string]string, appointmentID uint) (*wording.Preview, error)
	PreviewAppointments(ctx context.Context, limit int) ([]models.Appointment, error)
}

// textsData is the list of every text with the clinic's languages.
type textsData struct {
	Languages []languageRow
	Entries   []textRow
}

// languageRow is one language of the languages form.
type languageRow struct {
	Code, Name       string
	Enabled, Default bool
}

// textRow is one text of the list.
type textRow struct {
	Entry wording.Entry
	URL   string
	// Default is the text in the clinic's language.
	Default string
	// Missing names the enabled languages without a text.
	Missing []string
	// DayWarnings are the day warnings, each with its language's name.
	DayWarnings []string
}

// textURL is the editor page of a text.
func textURL(key string) string { return "/admin/texts/" + url.PathEscape(key) }

func languageRows(l wording.Languages) []languageRow {
	rows := make([]languageRow, 0, len(l.All))
	for _, code := range l.All {
		rows = append(rows, languageRow{Code: code, Name: texts.LanguageName(code), Enabled: l.IsEnabled(code), Default: code == l.Default})
	}
	return rows
}

func (s *Server) textsList(c *gin.Context) {
	if s.texts == nil {
		s.notFound(c)
		return
	}
	ctx := c.Request.Context()
	langs, err := s.texts.Languages(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, err := s.texts.List(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := textsData{Languages: languageRows(langs)}
	for _, e := range entries {
		row := textRow{Entry: e, URL: textURL(e.Key.String()), Default: e.Texts[langs.Default]}
		for _, l := range e.Missing {
			row.Missing = append(row.Missing, texts.LanguageName(l))
		}
		for _, l := range langs.Enabled {
			if w := e.DayWarnings[l]; w != "" {
				row.DayWarnings = append(row.DayWarnings, texts.LanguageName(l)+", for some sends: "+w)
			}
		}
		d.Entries = append(d.Entries, row)
	}
	s.html(c, http.StatusOK, "texts", s.page(c, "Texts", "admin", d))
}

// textsLanguages saves the languages the clinic writes in.
func (s *Server) textsLanguages(c *gin.Context) {
	if s.texts == nil {
		s.notFound(c)
		return
	}
	_ = c.Request.ParseForm()
	langs, err := s.texts.SetLanguages(c.Request.Context(), actorOf(c), c.Request.PostForm["languages"])
	if fe, ok := models.AsFieldErrors(err); ok {
		s.flashError(c, "Languages not saved: "+strings.Join(otherErrors(fe), "; "))
		c.Redirect(http.StatusSeeOther, "/admin/texts")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	names := make([]string, len(langs.Enabled))
	for i, l := range langs.Enabled {
		names[i] = texts.LanguageName(l)
	}
	s.flash(c, "Patients get their messages in "+strings.Join(names, ", ")+"; any other language gets "+texts.LanguageName(langs.Default)+".")
	c.Redirect(http.StatusSeeOther, "/admin/texts")
}

// textFormData is the editor of one text in every enabled language, with
// its preview on an appointment.
type textFormData struct {
	Entry *wording.Entry
	// Action is where the form posts.
	Action string
	// Columns has one column per enabled language, the default first.
	Columns []textColumn
	// Choices are the upcoming appointments the preview may use.
	Choices []option
	// AppointmentID is the appointment previewed (0: a sample).
	AppointmentID uint
	// Preview says for whom and when the preview is written.
	Preview      *wording.Preview
	Other        []string
	Placeholders []string
	// RuleURL is the edit page of the text's rule, for its timing.
	RuleURL string
}

// textColumn is one language of the editor.
type textColumn struct {
	Lang, Name string
	Default    bool
	Body       string
	// Error is the refusal of the last save for this language.
	Error   string
	Preview *wording.LanguagePreview
}

// textFormPage renders the editor with bodies (by language) and a preview
// for appointmentID.
func (s *Server) textFormPage(c *gin.Context, status int, e *wording.Entry, bodies map[string]string, appointmentID uint, fe models.FieldErrors) {
	ctx := c.Request.Context()
	key := e.Key.String()
	langs, err := s.texts.Languages(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	appts, err := s.texts.PreviewAppointments(ctx, previewChoices)
	if err != nil {
		s.fail(c, err)
		return
	}
	pv, err := s.texts.Preview(ctx, key, bodies, appointmentID)
	if err != nil {
		s.fail(c, err)
		return
	}
	d := textFormData{
		Entry: e, Action: textURL(key), AppointmentID: pv.AppointmentID, Preview: pv,
		Placeholders: render.Placeholders(),
	}
	if e.Choices {
		d.Placeholders = append(d.Placeholders, render.ChoicesPlaceholder)
	}
	if e.Rule != nil {
		d.RuleURL = "/admin/rules/" + strconv.FormatUint(uint64(e.Rule.ID), 10) + "/edit"
	}
	// Times on the clinic's clock, in each appointment's zone.
	when := func(t time.Time, zone *time.Location) string { return s.clock.in(t, zone, "Mon 2 Jan 15:04 MST") }
	for i := range appts {
		a := &appts[i]
		label := wording.AppointmentLabelWith(a, when)
		d.Choices = append(d.Choices, option{Value: strconv.FormatUint(uint64(a.ID), 10), Label: label})
		if a.ID == pv.AppointmentID && a.Location != nil {
			shownPv := *pv
			shownPv.For, shownPv.When = label, when(pv.SendAt, a.Location.Zone())
			d.Preview = &shownPv
		}
	}
	shown := map[string]bool{}
	for i := range pv.Languages {
		lp := &pv.Languages[i]
		field := key + "." + lp.Language
		shown[field] = true
		d.Columns = append(d.Columns, textColumn{
			Lang: lp.Language, Name: lp.Name, Default: lp.Language == langs.Default,
			Body: bodies[lp.Language], Error: fe[field], Preview: lp,
		})
	}
	for f, m := range fe {
		if !shown[f] {
			d.Other = append(d.Other, f+": "+m)
		}
	}
	s.html(c, status, "text_form", s.page(c, e.Name, "admin", d))
}

func (s *Server) textEdit(c *gin.Context) {
	if s.texts == nil {
		s.notFound(c)
		return
	}
	e, err := s.texts.Get(c.Request.Context(), c.Param("key"))
	if err != nil {
		s.fail(c, err)
		return
	}
	id := optionalID(models.FieldErrors{}, "appointment", c.Query("appointment"))
	s.textFormPage(c, http.StatusOK, e, e.Texts, id, nil)
}

// textSave handles both buttons of the editor: "preview" shows the texts
// as typed on the chosen appointment and saves nothing; "save" saves every
// language at once, or none when one is refused.
func (s *Server) textSave(c *gin.Context) {
	if s.texts == nil {
		s.notFound(c)
		return
	}
	ctx := c.Request.Context()
	e, err := s.texts.Get(ctx, c.Param("key"))
	if err != nil {
		s.fail(c, err)
		return
	}
	langs, err := s.texts.Languages(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	fe := models.FieldErrors{}
	id := optionalID(fe, "preview_appointment", c.PostForm("preview_appointment"))
	bodies := map[string]string{}
	var changes []wording.Change
	for _, l := range langs.Enabled {
		body, ok := c.GetPostForm("text_" + l)
		if !ok {
			continue // enabled since the page was shown: left as it is
		}
		bodies[l] = body
		changes = append(changes, wording.Change{Key: e.Key.String(), Language: l, Body: body})
	}
	for l, body := range e.Texts {
		if _, ok := bodies[l]; !ok {
			bodies[l] = body
		}
	}
	if c.PostForm("action") == "preview" || len(fe) > 0 {
		s.textFormPage(c, http.StatusOK, e, bodies, id, nil)
		return
	}
	n, err := s.texts.Save(ctx, actorOf(c), changes)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.textFormPage(c, http.StatusUnprocessableEntity, e, bodies, id, fe)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	switch n {
	case 0:
		s.flash(c, e.Name+": nothing changed.")
	case 1:
		s.flash(c, e.Name+": 1 text saved. Messages are written from it when they go out.")
	default:
		s.flash(c, e.Name+": "+strconv.Itoa(n)+" texts saved. Messages are written from them when they go out.")
	}
	c.Redirect(http.StatusSeeOther, textURL(e.Key.String())+"?appointment="+strconv.FormatUint(uint64(id), 10))
}
