package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sort"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/models"
)

// Error codes of {"error": {"code": ...}}. They are part of the public
// contract (the OpenAPI document lists them).
const (
	CodeUnauthorized         = "unauthorized"
	CodeInsufficientScope    = "insufficient_scope"
	CodeNotFound             = "not_found"
	CodeMethodNotAllowed     = "method_not_allowed"
	CodeMalformed            = "malformed_json"
	CodeInvalid              = "invalid"
	CodeTooLarge             = "body_too_large"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeConflict             = "conflict"
	CodeUnavailable          = "unavailable"
	CodeInternal             = "internal"
)

// ErrorBody is the JSON envelope of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong. Field names the offending request field
// ("starts_at", "patient.phone") for 422 answers; Fields lists every
// offending field with its message when there are several.
type ErrorDetail struct {
	Code    string            `json:"code"`
	Message string            `json:"message"`
	Field   string            `json:"field,omitempty"`
	Fields  map[string]string `json:"fields,omitempty"`
}

// writeJSON writes v with status.
func writeJSON(c *gin.Context, status int, v any) {
	c.Header("Content-Type", "application/json; charset=utf-8")
	c.Status(status)
	enc := json.NewEncoder(c.Writer)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// writeError writes an error envelope with status.
func writeError(c *gin.Context, status int, code, message, field string) {
	writeJSON(c, status, ErrorBody{Error: ErrorDetail{Code: code, Message: message, Field: field}})
}

// invalid answers 422 for field errors: the message names every field, the
// first (in sorted order) is the "field" member.
func invalid(c *gin.Context, fe models.FieldErrors) {
	keys := make([]string, 0, len(fe))
	for k := range fe {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + fe[k]
	}
	d := ErrorDetail{Code: CodeInvalid, Message: strings.Join(parts, "; ")}
	if len(keys) > 0 {
		d.Field = keys[0]
	}
	if len(keys) > 1 {
		d.Fields = map[string]string(fe)
	}
	writeJSON(c, http.StatusUnprocessableEntity, ErrorBody{Error: d})
}

// fail maps a service error onto an answer, once: field errors 422, a
// missing row 404, an impossible state change or a concurrent edit 409, a
// busy or closed database or a change it rolled back (a deadlock) 503,
// anything else 500 with one log line. The text of a 500 never reaches the
// client.
func (a *API) fail(c *gin.Context, err error) {
	var bt *models.ErrBadTransition
	if fe, ok := models.AsFieldErrors(err); ok {
		invalid(c, fe)
		return
	}
	switch {
	case errors.Is(err, models.ErrNotFound):
		writeError(c, http.StatusNotFound, CodeNotFound, "not found", "")
	case errors.As(err, &bt):
		writeError(c, http.StatusConflict, CodeConflict, bt.Error(), "status")
	case errors.Is(err, models.ErrConflict):
		writeError(c, http.StatusConflict, CodeConflict, "the resource was changed by another request; try again", "")
	case errors.Is(err, models.ErrUnavailable):
		a.log.WarnContext(c.Request.Context(), "api: database unavailable", slog.String("route", c.FullPath()), slog.Any("err", err))
		c.Header("Retry-After", "5")
		writeError(c, http.StatusServiceUnavailable, CodeUnavailable, "the database is unavailable; try again shortly", "")
	case models.Retryable(err):
		// A deadlock or serialization failure rolled the request back
		// whole; the same request succeeds when sent again.
		a.log.WarnContext(c.Request.Context(), "api: transaction rolled back by the database; retry", slog.String("route", c.FullPath()), slog.Any("err", err))
		c.Header("Retry-After", "1")
		writeError(c, http.StatusServiceUnavailable, CodeUnavailable, "the database rolled the change back to let a concurrent one through; send it again", "")
	default:
		a.log.ErrorContext(c.Request.Context(), "api: request failed", slog.String("route", c.FullPath()), slog.Any("err", err))
		writeError(c, http.StatusInternalServerError, CodeInternal, "internal error; it was logged", "")
	}
}

// failID is fail for a request about one resource: a missing row says
// which ("appointment 42 not found").
func (a *API) failID(c *gin.Context, err error, what string, id uint) {
	if errors.Is(err, models.ErrNotFound) {
		writeError(c, http.StatusNotFound, CodeNotFound, fmt.Sprintf("%s %d not found", what, id), "")
		return
	}
	a.fail(c, err)
}

// RecoverJSON turns a panic in an API handler into a JSON 500 and one log
// line with the stack.
func (a *API) RecoverJSON(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(r)
			}
			a.log.ErrorContext(c.Request.Context(), "api: panic in handler", slog.Any("panic", r),
				slog.String("route", c.FullPath()), slog.String("stack", string(debug.Stack())))
			if !c.Writer.Written() {
				writeError(c, http.StatusInternalServerError, CodeInternal, "internal error; it was logged", "")
			}
			c.Abort()
		}
	}()
	c.Next()
}
