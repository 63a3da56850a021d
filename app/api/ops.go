package api

import (
	"context"
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
	// Reason says what is wrong when unavailable.
	Reason string `json:"reason,omitempty"`
	// Checks gives each check's result: "ok" or the problem.
	Checks map[string]string `json:"checks"`
}

// Healthz answers GET /healthz: the process answers. The operations
// endpoints need no authentication; expose them only where operators and
// the load balancer can reach them.
func (a *API) Healthz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Type", "text/plain; charset=utf-8")
	c.String(http.StatusOK, "ok\n")
}

// Readyz answers 200 when the database answers a ping and its schema is at
// the version this build needs, else 503 with the reason.
func (a *API) Readyz(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	r := a.Ready(ctx)
	status := http.StatusOK
	if r.Status != "ready" {
		status = http.StatusServiceUnavailable
	}
	writeJSON(c, status, r)
}

// Ready runs the readiness checks: database ping, then schema version.
func (a *API) Ready(ctx context.Context) Readiness {
	r := Readiness{Status: "ready", Checks: map[string]string{"database": "ok", "schema": "ok"}}
	if err := a.store.Ping(ctx); err != nil {
		r.Status, r.Reason = "unavailable", "database: "+err.Error()
		r.Checks["database"] = err.Error()
		r.Checks["schema"] = "not checked"
		return r
	}
	if err := a.store.CheckSchema(ctx); err != nil {
		r.Status, r.Reason = "unavailable", "schema: "+err.Error()
		r.Checks["schema"] = err.Error()
	}
	return r
}
