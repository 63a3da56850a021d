package api

import (
	"errors"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/csvimport"
	"apptconfirm/app/imports"
	"apptconfirm/models"
)

// importReadTime bounds reading an imported file, and importTime the
// whole import: both take longer than the server's timeouts allow an
// ordinary request.
const (
	importReadTime = 10 * time.Minute
	importTime     = time.Hour
)

// Import answers POST /imports?dry_run=true|false[&mode=sync&from=&to=]:
// the text/csv body, in our own column names (see csvimport), is imported
// or previewed and the answer says what was or would be done. A file that
// cannot be imported at all answers 422 (413 when too large) and imports
// nothing.
func (a *API) Import(c *gin.Context) {
	if a.imports == nil {
		a.NotFound(c)
		return
	}
	ctx := c.Request.Context()
	fe := models.FieldErrors{}
	opts := imports.Options{}
	switch c.DefaultQuery("dry_run", "false") {
	case "true":
		opts.DryRun = true
	case "false":
	default:
		fe["dry_run"] = "must be true or false"
	}
	switch mode := c.Query("mode"); mode {
	case "":
		for _, p := range []string{"from", "to"} {
			if c.Query(p) != "" {
				fe[p] = "only with mode=sync"
			}
		}
	case "sync":
		opts.Sync = true
		opts.From = queryDate(c, "from", fe)
		opts.To = queryDate(c, "to", fe)
	default:
		fe["mode"] = "must be sync or left out"
	}
	if ct := c.GetHeader("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "text/csv" && mt != "text/plain" && mt != "application/octet-stream") {
			writeError(c, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType, "send the file as text/csv", "")
			return
		}
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	if c.Request.ContentLength > a.maxImport {
		writeError(c, http.StatusRequestEntityTooLarge, CodeTooLarge, (&csvimport.TooLargeError{Limit: a.maxImport}).Error(), "")
		return
	}
	rc := http.NewResponseController(c.Writer)
	_ = rc.SetReadDeadline(time.Now().Add(importReadTime))
	_ = rc.SetWriteDeadline(time.Now().Add(importTime))
	file, err := imports.Spool(c.Request.Body, a.maxImport)
	var tooLarge *csvimport.TooLargeError
	switch {
	case errors.As(err, &tooLarge):
		writeError(c, http.StatusRequestEntityTooLarge, CodeTooLarge, tooLarge.Error(), "")
		return
	case err != nil:
		writeError(c, http.StatusBadRequest, CodeMalformed, "the file could not be read to its end", "")
		return
	}
	defer func() { _ = file.Close() }()
	res, err := a.imports.Import(ctx, actor(c), file, opts)
	var fileErr *csvimport.FileError
	switch {
	case errors.As(err, &fileErr):
		writeError(c, http.StatusUnprocessableEntity, CodeInvalid, fileErr.Message, string(fileErr.Field))
		return
	case err != nil:
		a.fail(c, err)
		return
	}
	writeJSON(c, http.StatusOK, res)
}

// queryDate reads a required YYYY-MM-DD query parameter.
func queryDate(c *gin.Context, name string, fe models.FieldErrors) csvimport.Date {
	raw := strings.TrimSpace(c.Query(name))
	if raw == "" {
		fe[name] = "required with mode=sync (YYYY-MM-DD)"
		return csvimport.Date{}
	}
	t, err := time.Parse(time.DateOnly, raw)
	if err != nil {
		fe[name] = "must be a date as YYYY-MM-DD"
		return csvimport.Date{}
	}
	return csvimport.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}
}
