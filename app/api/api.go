// Package api is apptconfirm's REST API under /api/v1 (PRODUCT.md 3 and 3a),
// its bearer tokens, its OpenAPI document, and the operations endpoints
// /healthz, /readyz and /metrics.
//
// Handlers are thin: they decode a request into a body struct, call one
// method of the clinic service (or the stats query here), and write JSON.
// Every error leaves as {"error": {"code", "message", "field"}}; the mapping
// from service errors to status codes lives in errors.go, in one place.
package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/clinic"
	"apptconfirm/models"
)

// BasePath is where the REST API lives.
const BasePath = "/api/v1"

// MaxBodyBytes caps a request body; a larger one gets 413.
const MaxBodyBytes = 1 << 20

// Metrics is what the API records and serves; *metrics.Metrics (package
// app/metrics) implements it.
type Metrics interface {
	// HTTPRequest counts one answered request by route pattern and status.
	HTTPRequest(route string, status int)
	// Handler serves the registry in the Prometheus text format.
	Handler() http.Handler
}

// noMetrics records nothing and serves 404.
type noMetrics struct{}

func (noMetrics) HTTPRequest(string, int) {}
func (noMetrics) Handler() http.Handler   { return http.NotFoundHandler() }

// Deps are the collaborators of the API.
type Deps struct {
	Store  *models.Store
	Clinic *clinic.Service
	// Metrics may be nil (nothing recorded, /metrics answers 404).
	Metrics Metrics
	// Logger may be nil (logs discarded).
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// API serves the REST API and the operations endpoints. It holds no
// package-level state.
type API struct {
	store   *models.Store
	clinic  *clinic.Service
	metrics Metrics
	log     *slog.Logger
	now     func() time.Time
	tokens  *Tokens
	// routes is the API's own route table (method, pattern), used to tell
	// 404 from 405 under /api/ and checked against the OpenAPI document.
	routes []route
}

type route struct {
	method, path string
}

// New builds the API.
func New(d Deps) *API {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = noMetrics{}
	}
	return &API{
		store: d.Store, clinic: d.Clinic, metrics: d.Metrics, log: d.Logger, now: d.Now,
		tokens: NewTokens(d.Store, d.Now),
	}
}

// Tokens returns the token service the API authenticates with.
func (a *API) Tokens() *Tokens { return a.tokens }

// Register adds the /api/v1 routes to e: the OpenAPI document without
// authentication, everything else behind a bearer token. It also installs
// an engine-wide middleware that answers unknown paths and wrong methods
// under /api/ with JSON errors instead of the web UI's pages.
func (a *API) Register(e *gin.Engine) {
	e.Use(a.fallback)
	v1 := e.Group(BasePath, a.countRequest, a.recoverJSON, a.noStore)
	a.handle(v1, http.MethodGet, "/openapi.json", a.openAPI)

	authed := v1.Group("", a.authenticate)
	a.handle(authed, http.MethodGet, "/appointments", a.listAppointments)
	a.handle(authed, http.MethodPost, "/appointments", a.createAppointment)
	a.handle(authed, http.MethodGet, "/appointments/:id", a.getAppointment)
	a.handle(authed, http.MethodPatch, "/appointments/:id", a.updateAppointment)
	a.handle(authed, http.MethodPost, "/appointments/:id/cancel", a.cancelAppointment)
	a.handle(authed, http.MethodGet, "/appointments/:id/timeline", a.timeline)
	a.handle(authed, http.MethodGet, "/patients", a.listPatients)
	a.handle(authed, http.MethodPost, "/patients", a.createPatient)
	a.handle(authed, http.MethodGet, "/patients/:id", a.getPatient)
	a.handle(authed, http.MethodGet, "/stats", a.stats)
}

// handle registers one route on g and remembers it.
func (a *API) handle(g *gin.RouterGroup, method, rel string, h gin.HandlerFunc) {
	g.Handle(method, rel, h)
	a.routes = append(a.routes, route{method: method, path: joinPath(g.BasePath(), rel)})
}

func joinPath(base, rel string) string {
	return strings.TrimSuffix(base, "/") + rel
}

// allowedMethods lists the methods registered for a concrete path (nil when
// no API route has that shape).
func (a *API) allowedMethods(path string) []string {
	var out []string
	for _, r := range a.routes {
		if matchPattern(r.path, path) {
			out = append(out, r.method)
		}
	}
	return out
}

// matchPattern reports whether path fits a gin pattern whose parameters are
// whole segments (":id").
func matchPattern(pattern, path string) bool {
	ps := strings.Split(pattern, "/")
	xs := strings.Split(path, "/")
	if len(ps) != len(xs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], ":") {
			if xs[i] == "" {
				return false
			}
			continue
		}
		if ps[i] != xs[i] {
			return false
		}
	}
	return true
}

// fallback answers requests under /api/ that matched no route with a JSON
// 404, or 405 and an Allow header when the path exists for other methods.
// Matched routes pass straight through.
func (a *API) fallback(c *gin.Context) {
	if c.FullPath() != "" || !strings.HasPrefix(c.Request.URL.Path, "/api/") {
		c.Next()
		return
	}
	if allowed := a.allowedMethods(c.Request.URL.Path); len(allowed) > 0 {
		c.Header("Allow", strings.Join(allowed, ", "))
		writeError(c, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
			"method "+c.Request.Method+" is not allowed here; use "+strings.Join(allowed, " or "), "")
	} else {
		writeError(c, http.StatusNotFound, CodeNotFound, "no such endpoint; see "+BasePath+"/openapi.json", "")
	}
	a.metrics.HTTPRequest("", c.Writer.Status())
	c.Abort()
}

// countRequest records the request in apptconfirm_http_requests_total by its
// route pattern.
func (a *API) countRequest(c *gin.Context) {
	c.Next()
	a.metrics.HTTPRequest(c.FullPath(), c.Writer.Status())
}

// noStore keeps API answers (patient data) out of caches.
func (a *API) noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}
