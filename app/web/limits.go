package web

import (
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// DefaultMaxFormBytes caps the body of a request to a page (a form post):
// far more than any form of the UI sends, and small enough that anonymous
// posts cannot make the server hold much. A route that takes an upload is
// given more with setBodyLimit.
const DefaultMaxFormBytes = 1 << 20

// maxFormMemory is how much of a multipart form is kept in memory; the rest
// of a large upload goes to temporary files.
const maxFormMemory = 8 << 20

// setBodyLimit lets the page route method + pattern (as registered, such as
// "/imports" or "/admin/patients/:id/erase") take a body of up to n bytes
// instead of DefaultMaxFormBytes. Call it in routes, next to the route.
func (s *Server) setBodyLimit(method, pattern string, n int64) {
	s.bodyLimits[method+" "+pattern] = n
}

// bodyLimit returns the body cap of the request's route.
func (s *Server) bodyLimit(c *gin.Context) int64 {
	if n, ok := s.bodyLimits[c.Request.Method+" "+c.FullPath()]; ok {
		return n
	}
	return DefaultMaxFormBytes
}

// capBody caps the body of a page request at its route's limit (413 past
// it), before anything reads it. A form body is parsed here, so that one
// over the limit is answered 413 rather than read as a form with its
// fields missing.
func (s *Server) capBody(c *gin.Context) {
	limit := s.bodyLimit(c)
	if c.Request.ContentLength > limit {
		s.tooLarge(c, limit)
		return
	}
	if c.Request.Body == nil || c.Request.Body == http.NoBody {
		c.Next()
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
	switch c.Request.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		mt, _, _ := mime.ParseMediaType(c.Request.Header.Get("Content-Type"))
		var err error
		switch mt {
		case "application/x-www-form-urlencoded":
			err = c.Request.ParseForm()
		case "multipart/form-data":
			err = c.Request.ParseMultipartForm(maxFormMemory)
		}
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.tooLarge(c, limit)
			return
		}
	}
	c.Next()
}

// tooLarge answers 413 and closes the connection, so that the rest of the
// body is not read.
func (s *Server) tooLarge(c *gin.Context, limit int64) {
	c.Header("Connection", "close")
	s.errorPage(c, http.StatusRequestEntityTooLarge, "Too large",
		fmt.Sprintf("The form sent more than %s; nothing was saved.", byteSize(limit)))
	c.Abort()
}

// byteSize writes n bytes for people: "1 MB", "512 KB".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return strings.TrimSpace(fmt.Sprintf("%d bytes", n))
}
