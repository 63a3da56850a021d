package api

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"

	"apptconfirm/models"
)

// A change PostgreSQL rolled back to break a deadlock (or a serialization
// failure) is answered 503 with Retry-After, as a busy database is: the
// client sends it again. Anything else unknown stays a 500.
func TestFailRetryableIs503(t *testing.T) {
	a := &API{log: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		err        error
		status     int
		retryAfter string
	}{
		{fmt.Errorf("clinic: confirm: %w", &pgconn.PgError{Code: "40P01", Message: "deadlock detected"}), http.StatusServiceUnavailable, "1"},
		{fmt.Errorf("clinic: move: %w", &pgconn.PgError{Code: "40001"}), http.StatusServiceUnavailable, "1"},
		{fmt.Errorf("store: %w", models.ErrUnavailable), http.StatusServiceUnavailable, "5"},
		{&pgconn.PgError{Code: "XX000", Message: "internal error"}, http.StatusInternalServerError, ""},
	} {
		rec := httptest.NewRecorder()
		ctx, _ := gin.CreateTestContext(rec)
		ctx.Request = httptest.NewRequest(http.MethodPost, "/api/v1/appointments/1/confirm", nil)
		a.fail(ctx, c.err)
		if rec.Code != c.status || rec.Header().Get("Retry-After") != c.retryAfter {
			t.Errorf("%v: %d, Retry-After %q; want %d, %q", c.err, rec.Code, rec.Header().Get("Retry-After"), c.status, c.retryAfter)
		}
		if c.status == http.StatusServiceUnavailable && !strings.Contains(rec.Body.String(), `"`+CodeUnavailable+`"`) {
			t.Errorf("%v: body %s lacks code %s", c.err, rec.Body, CodeUnavailable)
		}
	}
}
