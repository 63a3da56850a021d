package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// readyTimeout bounds the readiness checks.
const readyTimeout = 3 * time.Second

// Readiness is the answer of GET /readyz.
type Readiness struct {
	// Status is "ready" or "unavailable".
	Status string `json:"status"`
	// Reason says what is wrong when unavailable; only a caller with an
	// API token is told.
	Reason string `json:"reason,omitempty"`
	// Checks gives each check's result: "ok", or the problem for a caller
	// with an API token and "failed" for anyone else ("not checked" when
	// an earlier check failed).
	Checks map[string]string `json:"checks"`
}

// Results of a readiness check as anonymous callers see them.
const (
	checkOK         = "ok"
	checkFailed     = "failed"
	checkNotChecked = "not checked"
)

// Healthz answers GET /healthz: the process answers. The operations
// endpoints need no authentication; expose them only where operators and
// the load balancer can reach them.
func (a *API) Healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.String(http.StatusOK, "ok\n")
}

// Readyz answers 200 when the database answers a ping and its schema is at
// the version this build needs, else 503. Anyone (a load balancer) sees
// which check failed; only a caller that sends a valid API token (any
// scope) sees the error text, which may name hosts, files and versions.
// The text is logged either way.
func (a *API) Readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	r := a.Ready(ctx)
	status := http.StatusOK
	if r.Status != "ready" {
		status = http.StatusServiceUnavailable
		a.log.WarnContext(ctx, "not ready", slog.String("reason", r.Reason))
		if !a.operator(ctx, c.GetHeader("Authorization")) {
			r = r.public()
		}
	}
	writeJSON(c, status, r)
}

// operator reports whether an Authorization header carries a valid API
// token (a database that cannot check it counts as no).
func (a *API) operator(ctx context.Context, header string) bool {
	plain, ok := bearer(header)
	if !ok {
		return false
	}
	_, err := a.tokens.Authenticate(ctx, plain)
	return err == nil
}

// public is r without its error texts.
func (r Readiness) public() Readiness {
	out := Readiness{Status: r.Status, Checks: make(map[string]string, len(r.Checks))}
	for k, v := range r.Checks {
		switch v {
		case checkOK, checkNotChecked:
			out.Checks[k] = v
		default:
			out.Checks[k] = checkFailed
		}
	}
	return out
}

// Ready runs the readiness checks: database ping, then schema version.
func (a *API) Ready(ctx context.Context) Readiness {
	r := Readiness{Status: "ready", Checks: map[string]string{"database": checkOK, "schema": checkOK}}
	if err := a.store.Ping(ctx); err != nil {
		r.Status, r.Reason = "unavailable", "database: "+err.Error()
		r.Checks["database"] = err.Error()
		r.Checks["schema"] = checkNotChecked
		return r
	}
	if err := a.store.CheckSchema(ctx); err != nil {
		r.Status, r.Reason = "unavailable", "schema: "+err.Error()
		r.Checks["schema"] = err.Error()
	}
	return r
}
