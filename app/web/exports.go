package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/csvout"
	"apptconfirm/models"
)

// exportAppointments downloads the appointments of a range of days
// (from and to, YYYY-MM-DD, both included, in the default location's
// zone; either may be left out) as CSV.
func (s *Server) exportAppointments(c *gin.Context) {
	ctx := c.Request.Context()
	zone := time.UTC
	if l, err := s.clinic.DefaultLocation(ctx); err == nil {
		zone = l.Zone()
	} else if !errors.Is(err, models.ErrNotFound) {
		s.fail(c, err)
		return
	}
	var from, to time.Time
	for _, p := range []struct {
		name string
		dst  *time.Time
		next bool
	}{{"from", &from, false}, {"to", &to, true}} {
		raw := strings.TrimSpace(c.Query(p.name))
		if raw == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, raw, zone)
		if err != nil {
			s.errorPage(c, http.StatusBadRequest, "Bad date", "The dates of an export are written as YYYY-MM-DD.")
			return
		}
		if p.next {
			d = d.AddDate(0, 0, 1)
		}
		*p.dst = d
	}
	// A large export streams for longer than an ordinary page may take.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(30 * time.Minute))
	c.Header("Content-Type", csvout.ContentType)
	c.Header("Content-Disposition", `attachment; filename="appointments.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	if err := s.exports.WriteAppointments(ctx, c.Writer, from, to); err != nil {
		// The header is gone: the download is cut short.
		s.log.ErrorContext(ctx, "web: export failed", "err", err)
	}
}
