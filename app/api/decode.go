package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"apptconfirm/models"

	"github.com/gin-gonic/gin"
)

// decodeOpts tune decodeBody.
type decodeOpts struct {
	// optional lets an empty body through (dst stays as it was).
	optional bool
}

// decodeBody reads the request body, one JSON object, into dst. Unknown
// members are refused, the body is capped at MaxBodyBytes. On failure it
// writes the answer (400, 413, 415 or 422 naming the field) and returns false.
func decodeBody(c *gin.Context, dst any, o decodeOpts) bool {
	r := c.Request
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			writeError(c, http.StatusUnsupportedMediaType, CodeUnsupportedMediaType,
				"send the body as JSON with Content-Type: application/json", "")
			return false
		}
	}
	if r.ContentLength > MaxBodyBytes {
		tooLarge(c)
		return false
	}
	dec := json.NewDecoder(http.MaxBytesReader(c.Writer, r.Body, MaxBodyBytes))
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if err == nil {
		// Exactly one value: anything after it but white space is a mistake.
		var extra json.RawMessage
		switch err2 := dec.Decode(&extra); {
		case errors.Is(err2, io.EOF):
			return true
		case err2 == nil:
			err = errors.New("the body holds more than one JSON value")
		default:
			err = err2
		}
	}
	if errors.Is(err, io.EOF) && o.optional {
		return true
	}
	writeDecodeError(c, err)
	return false
}

func tooLarge(c *gin.Context) {
	writeError(c, http.StatusRequestEntityTooLarge, CodeTooLarge,
		fmt.Sprintf("the body is larger than %d bytes", MaxBodyBytes), "")
}

// writeDecodeError answers a failed decode: an oversized body 413, a value
// of the wrong type or an unknown member 422 naming the field, anything
// else (bad syntax, an empty body) 400.
func writeDecodeError(c *gin.Context, err error) {
	var mbe *http.MaxBytesError
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &mbe):
		tooLarge(c)
	case errors.Is(err, io.EOF):
		writeError(c, http.StatusBadRequest, CodeMalformed, "the body is empty; send a JSON object", "")
	case errors.As(err, &se):
		writeError(c, http.StatusBadRequest, CodeMalformed, fmt.Sprintf("malformed JSON at byte %d: %s", se.Offset, se.Error()), "")
	case errors.Is(err, io.ErrUnexpectedEOF):
		writeError(c, http.StatusBadRequest, CodeMalformed, "malformed JSON: the body ends too early", "")
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			invalid(c, models.FieldErrors{"body": "must be a JSON object"})
			return
		}
		invalid(c, models.FieldErrors{field: "must be " + kindWords(te.Type)})
	default:
		if name, ok := unknownField(err); ok {
			invalid(c, models.FieldErrors{name: "is not a known field"})
			return
		}
		writeError(c, http.StatusBadRequest, CodeMalformed, "malformed JSON: "+err.Error(), "")
	}
}

// unknownField reads the member name out of encoding/json's
// DisallowUnknownFields error (`json: unknown field "x"`).
func unknownField(err error) (string, bool) {
	const p = "json: unknown field "
	msg := err.Error()
	if !strings.HasPrefix(msg, p) {
		return "", false
	}
	name, uerr := strconv.Unquote(strings.TrimPrefix(msg, p))
	if uerr != nil || name == "" {
		return "", false
	}
	return name, true
}

// kindWords says in words what a Go type accepts.
func kindWords(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a positive whole number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "of another type"
}

// parseID reads a path id; anything that is not a positive integer is an
// unknown id (404).
func parseID(c *gin.Context, what string) (uint, bool) {
	raw := c.Param("id")
	id, err := strconv.ParseUint(raw, 10, 32)
	if err != nil || id == 0 {
		writeError(c, http.StatusNotFound, CodeNotFound, what+" "+strconv.Quote(raw)+" not found", "")
		return 0, false
	}
	return uint(id), true
}

// parseInstant reads an RFC 3339 time that carries its offset.
func parseInstant(s string) (time.Time, bool) {
	t, err := time.Parse(time.RFC3339, strings.TrimSpace(s))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// instantMessage is the field message for a time that is not RFC 3339.
const instantMessage = "must be an RFC 3339 time with an offset, like 2026-03-10T09:30:00+01:00"

// dateOrInstant reads a range bound: an RFC 3339 time, or a date
// (YYYY-MM-DD) meaning that day's midnight in zone. A date as an upper
// bound (end true) includes that whole day.
func dateOrInstant(s string, zone *time.Location, end bool) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, ok := parseInstant(s); ok {
		return t, true
	}
	d, err := time.ParseInLocation("2006-01-02", s, zone)
	if err != nil {
		return time.Time{}, false
	}
	if end {
		d = time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, zone)
	}
	return d, true
}

// rangeMessage is the field message for a bad range bound.
const rangeMessage = "must be a date (2026-03-10) or an RFC 3339 time with an offset (2026-03-10T09:30:00+01:00)"

// queryInt reads an optional integer query parameter into fe's care.
func queryInt(c *gin.Context, name string, fe models.FieldErrors) int {
	raw, ok := c.GetQuery(name)
	if !ok || raw == "" {
		return 0
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		fe[name] = "must be a whole number"
		return 0
	}
	return n
}
