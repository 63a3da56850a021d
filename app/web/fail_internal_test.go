package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/jackc/pgx/v5/pgconn"
)

// A change PostgreSQL rolled back to break a deadlock shows the "busy,
// try again" page (503), not the "something went wrong" one.
func TestFailRetryableIsBusy(t *testing.T) {
	s := &Server{log: slog.New(slog.DiscardHandler)}
	for _, c := range []struct {
		err    error
		status int
		title  string
	}{
		{fmt.Errorf("clinic: confirm: %w", &pgconn.PgError{Code: "40P01"}), http.StatusServiceUnavailable, "Busy\n"},
		{fmt.Errorf("clinic: confirm: %w", &pgconn.PgError{Code: "23514"}), http.StatusInternalServerError, "Something went wrong\n"},
	} {
		rec := httptest.NewRecorder()
		ctx, _ := gin.CreateTestContext(rec)
		ctx.Request = httptest.NewRequest(http.MethodPost, "/appointments/1/confirm", nil)
		s.fail(ctx, c.err)
		if rec.Code != c.status || rec.Body.String() != c.title {
			t.Errorf("%v: %d %q; want %d %q", c.err, rec.Code, rec.Body, c.status, c.title)
		}
	}
}
