package web

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/csvimport"
	"apptconfirm/app/csvout"
	"apptconfirm/app/imports"
	"apptconfirm/models"
)

// importPages serves the CSV import: upload, mapping and preview, import,
// progress and the refused rows.
type importPages struct {
	s        *Server
	jobs     *imports.Jobs
	maxBytes int64
}

// importData is the import page.
type importData struct {
	// MaxSize is the largest file, for people ("50 MB").
	MaxSize string
	// Job is the file on its way in; nil on the upload form.
	Job *imports.Job
	// Columns are the file's columns, for the mapping's selects.
	Columns []importColumn
	// Fields are our fields with the column each is mapped to.
	Fields []importField
	// DateOrder is "mdy" or "dmy".
	DateOrder string
	// Sync, From and To are the sync options of the form.
	Sync     bool
	From, To string
	// Running says a run is under way (the progress bar polls).
	Running bool
	// Refused lists the first refused rows of the result shown.
	Refused []csvimport.FieldError
	// MoreRefused counts those not listed.
	MoreRefused int
	Errors      models.FieldErrors
}

// importColumn is a column of the file, for a select.
type importColumn struct {
	Index int
	Label string
}

// importField is one of our fields and the column mapped to it (-1: none).
type importField struct {
	Name   string
	Label  string
	Column int
}

// fieldLabels name our fields on the mapping screen.
var fieldLabels = map[csvimport.Field]string{
	csvimport.FieldExternalID:        "Appointment id (required)",
	csvimport.FieldPatientExternalID: "Patient id",
	csvimport.FieldFirstName:         "First name",
	csvimport.FieldLastName:          "Last name",
	csvimport.FieldName:              "Full name (one column)",
	csvimport.FieldPhone:             "Mobile phone",
	csvimport.FieldLanguage:          "Language",
	csvimport.FieldLocation:          "Location",
	csvimport.FieldProvider:          "Provider",
	csvimport.FieldStartsAt:          "Date and time (one column)",
	csvimport.FieldDate:              "Date",
	csvimport.FieldTime:              "Time",
	csvimport.FieldDuration:          "Duration (minutes)",
	csvimport.FieldNotes:             "Notes",
	csvimport.FieldStatus:            "Status",
}

// refusedShown is how many refused rows the page lists.
const refusedShown = 50

func (p *importPages) form(c *gin.Context) {
	p.render(c, http.StatusOK, importData{})
}

func (p *importPages) render(c *gin.Context, status int, d importData) {
	d.MaxSize = byteSize(p.maxBytes)
	c.Header("Cache-Control", "no-store")
	p.s.html(c, status, "imports", p.s.page(c, "Import appointments", "appointments", d))
}

// upload takes the file and shows its first rows with the proposed mapping.
func (p *importPages) upload(c *gin.Context) {
	u, _ := currentUser(c)
	fh, err := c.FormFile("file")
	if err != nil {
		p.render(c, http.StatusUnprocessableEntity, importData{Errors: models.FieldErrors{"file": "choose a CSV file"}})
		return
	}
	f, err := fh.Open()
	if err != nil {
		p.s.fail(c, fmt.Errorf("web: open upload: %w", err))
		return
	}
	defer func() { _ = f.Close() }()
	job, err := p.jobs.Upload(c.Request.Context(), u.ID, fh.Filename, f, p.maxBytes)
	var fe *csvimport.FileError
	var tl *csvimport.TooLargeError
	switch {
	case errors.As(err, &fe):
		p.render(c, http.StatusUnprocessableEntity, importData{Errors: models.FieldErrors{"file": fe.Message}})
		return
	case errors.As(err, &tl):
		p.render(c, http.StatusRequestEntityTooLarge, importData{Errors: models.FieldErrors{"file": tl.Error()}})
		return
	case err != nil:
		p.s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/imports/"+job.ID)
}

// job loads the job of the URL for the user.
func (p *importPages) job(c *gin.Context) (imports.Job, bool) {
	u, _ := currentUser(c)
	job, err := p.jobs.Get(u.ID, c.Param("id"))
	if err != nil {
		p.s.fail(c, err)
		return imports.Job{}, false
	}
	return job, true
}

// show shows a job: the mapping, the progress, the preview or the result.
func (p *importPages) show(c *gin.Context) {
	job, ok := p.job(c)
	if !ok {
		return
	}
	p.render(c, http.StatusOK, p.data(job, nil))
}

// data is the page of job; fe holds the mapping form's errors.
func (p *importPages) data(job imports.Job, fe models.FieldErrors) importData {
	d := importData{
		Job: &job, DateOrder: string(job.Mapping.DateOrder), Errors: fe,
		Running: job.State == imports.JobPreviewing || job.State == imports.JobApplying,
	}
	for i, h := range job.Sample.Header {
		label := h
		if label == "" {
			label = fmt.Sprintf("(column %d)", i+1)
		}
		d.Columns = append(d.Columns, importColumn{Index: i, Label: label})
	}
	for _, f := range csvimport.Fields() {
		col := -1
		if c, ok := job.Mapping.Columns[f]; ok {
			col = c.Index
		}
		d.Fields = append(d.Fields, importField{Name: string(f), Label: fieldLabels[f], Column: col})
	}
	o := job.Options
	d.Sync = o.Sync
	if o.Sync {
		d.From, d.To = dateString(o.From), dateString(o.To)
	}
	res := job.Result
	if res == nil {
		res = job.Preview
	}
	if res != nil {
		d.Refused = res.Errors
		if len(d.Refused) > refusedShown {
			d.MoreRefused = len(d.Refused) - refusedShown
			d.Refused = d.Refused[:refusedShown]
		}
	}
	return d
}

func dateString(d csvimport.Date) string {
	if d.Year == 0 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day)
}

// preview reads the mapping and sync options and starts the dry run.
func (p *importPages) preview(c *gin.Context) {
	job, ok := p.job(c)
	if !ok {
		return
	}
	fe := models.FieldErrors{}
	m := csvimport.Mapping{Columns: map[csvimport.Field]csvimport.Column{}}
	switch order := csvimport.DateOrder(c.PostForm("date_order")); order {
	case csvimport.MonthFirst, csvimport.DayFirst:
		m.DateOrder = order
	default:
		fe["date_order"] = "choose how dates are written"
	}
	for _, f := range csvimport.Fields() {
		raw := c.PostForm("col_" + string(f))
		if raw == "" || raw == "-1" {
			continue
		}
		i, err := strconv.Atoi(raw)
		if err != nil || i < 0 || i >= len(job.Sample.Header) {
			fe[string(f)] = "choose one of the file's columns"
			continue
		}
		m.Columns[f] = csvimport.Column{Index: i, Name: job.Sample.Header[i]}
	}
	opts := imports.Options{DryRun: true, Mapping: &m}
	if checked(c, "sync") {
		opts.Sync = true
		opts.From = formDate(c, "from", fe)
		opts.To = formDate(c, "to", fe)
	}
	if len(fe) > 0 {
		job.Mapping = m
		p.render(c, http.StatusUnprocessableEntity, p.data(job, fe))
		return
	}
	u, _ := currentUser(c)
	err := p.jobs.Start(c.Request.Context(), u.ID, actorOf(c), job.ID, opts)
	var fileErr *csvimport.FileError
	switch {
	case errors.As(err, &fileErr):
		job.Mapping = m
		field := string(fileErr.Field)
		if field == "" {
			field = "mapping"
		}
		p.render(c, http.StatusUnprocessableEntity, p.data(job, models.FieldErrors{field: fileErr.Message}))
		return
	case errors.Is(err, imports.ErrJobBusy):
		p.s.flashError(c, "This file is being read or was imported already.")
	case err != nil:
		p.s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/imports/"+job.ID)
}

// formDate reads a YYYY-MM-DD date field of the form.
func formDate(c *gin.Context, name string, fe models.FieldErrors) csvimport.Date {
	t, err := time.Parse(time.DateOnly, strings.TrimSpace(c.PostForm(name)))
	if err != nil {
		fe[name] = "required to sync: a date"
		return csvimport.Date{}
	}
	return csvimport.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}

// apply imports the previewed file with the previewed options.
func (p *importPages) apply(c *gin.Context) {
	job, ok := p.job(c)
	if !ok {
		return
	}
	if job.State != imports.JobPreviewed {
		p.s.flashError(c, "Preview the file before importing it.")
		c.Redirect(http.StatusSeeOther, "/imports/"+job.ID)
		return
	}
	opts := job.Options
	opts.DryRun = false
	u, _ := currentUser(c)
	err := p.jobs.Start(c.Request.Context(), u.ID, actorOf(c), job.ID, opts)
	switch {
	case errors.Is(err, imports.ErrJobBusy):
		p.s.flashError(c, "This file is being read or was imported already.")
	case err != nil:
		p.s.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/imports/"+job.ID)
}

// importStatus is the JSON the progress bar polls.
type importStatus struct {
	State string `json:"state"`
	Done  int    `json:"done"`
	Total int    `json:"total"`
}

// status answers the job's progress as JSON.
func (p *importPages) status(c *gin.Context) {
	job, ok := p.job(c)
	if !ok {
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, importStatus{State: job.State, Done: job.Done, Total: job.Total})
}

// refused downloads the refused rows of the job's last result as CSV.
func (p *importPages) refused(c *gin.Context) {
	job, ok := p.job(c)
	if !ok {
		return
	}
	res := job.Result
	if res == nil {
		res = job.Preview
	}
	if res == nil {
		p.s.notFound(c)
		return
	}
	c.Header("Content-Type", csvout.ContentType)
	c.Header("Content-Disposition", `attachment; filename="refused-rows.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	w := csvout.NewWriter(c.Writer, csvout.Options{BOM: true})
	_ = w.Write([]string{"row", "field", "message"})
	for _, e := range res.Errors {
		_ = w.Write([]string{strconv.Itoa(e.Row), string(e.Field), e.Message})
	}
	_ = w.Flush() // the client went away; nothing to do
}
