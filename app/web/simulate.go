package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/smscx"
)

// simulateReply is POST /appointments/:id/simulate-reply (simulator mode
// only): the fake gateway posts a receive_sms webhook from the patient's
// phone to the clinic's sender through the app's real webhook endpoint, as
// SMS.CX would when the patient answers. In live mode it is a 404.
func (h *smscxPages) simulateReply(c *gin.Context) {
	if h.d.Simulator == nil {
		h.s.notFound(c)
		return
	}
	a, ok := h.s.loadAppointment(c)
	if !ok {
		return
	}
	back := fmt.Sprintf("/appointments/%d", a.ID)
	text := strings.TrimSpace(c.PostForm("text"))
	switch {
	case text == "":
		h.s.flashError(c, "Type the patient's reply, or use one of the quick buttons.")
	case !utf8.ValidString(text):
		h.s.flashError(c, "The reply is not valid text.")
	case utf8.RuneCountInString(text) > replyMaxChars:
		h.s.flashError(c, fmt.Sprintf("The reply is too long: at most %d characters.", replyMaxChars))
	default:
		h.emitReply(c, a.Patient.Phone, text)
	}
	c.Redirect(http.StatusSeeOther, back)
}

// emitReply sends text as the patient and flashes the outcome.
func (h *smscxPages) emitReply(c *gin.Context, from, text string) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), h.d.SendTimeout)
	defer cancel()
	if _, err := h.d.Simulator.EmitReceiveSMS(ctx, from, h.d.Sender, text); err != nil {
		// The error may hold the webhook URL, whose last segment is a secret.
		msg := err.Error()
		if h.d.WebhookURL != "" {
			msg = strings.ReplaceAll(msg, h.d.WebhookURL, "<webhook URL>")
		}
		h.s.log.WarnContext(ctx, "simulated reply not delivered", slog.String("from", smscx.MaskPhone(from)),
			slog.String("err", msg), slog.Bool("timeout", errors.Is(err, context.DeadlineExceeded)))
		h.s.flashError(c, "The simulator could not deliver the reply: the app's webhook did not take it. The server log has the details.")
		return
	}
	h.s.flash(c, "Sent as the patient: "+shorten(text, 80))
}

// shorten cuts s to n runes, marking the cut with "…".
func shorten(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
