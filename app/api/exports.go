package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/csvout"
	"apptconfirm/models"
)

// exportTime bounds writing an export.
const exportTime = 30 * time.Minute

// ExportAppointments answers GET /exports/appointments?from=&to=: the
// appointments starting in the range (dates in the default location's
// zone, or RFC 3339 instants; both optional) as CSV, streamed.
func (a *API) ExportAppointments(c *gin.Context) {
	if a.exports == nil {
		a.NotFound(c)
		return
	}
	ctx := c.Request.Context()
	zone, err := a.rangeZone(ctx, 0)
	if err != nil {
		a.fail(c, err)
		return
	}
	fe := models.FieldErrors{}
	from := rangeBound(c, "from", zone, false, fe)
	to := rangeBound(c, "to", zone, true, fe)
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		fe["to"] = "must be after from"
	}
	if len(fe) > 0 {
		invalid(c, fe)
		return
	}
	// A large export streams for longer than an ordinary answer may take.
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(exportTime))
	c.Header("Content-Type", csvout.ContentType)
	c.Header("Content-Disposition", `attachment; filename="appointments.csv"`)
	c.Status(http.StatusOK)
	if err := a.exports.WriteAppointments(ctx, c.Writer, from, to); err != nil {
		// The header is gone: the client sees a cut file.
		a.log.ErrorContext(ctx, "api: export failed", "err", err)
	}
}
