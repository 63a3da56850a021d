// Package api is apptconfirm's REST API under /api/v1, its bearer tokens,
// its OpenAPI document, and the operations endpoints /healthz, /readyz and
// /metrics. Its routes are in app/web's route table, with every other route
// of the HTTP surface.
//
// Handlers are thin: they decode a request into a body struct, call one
// method of a service (clinic, stats, wording), and write JSON.
// Every error leaves as {"error": {"code", "message", "field"}}; the mapping
// from service errors to status codes lives in errors.go, in one place.
package api

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/analytics"
	"apptconfirm/app/availability"
	"apptconfirm/app/clinic"
	"apptconfirm/app/exports"
	"apptconfirm/app/feeds"
	"apptconfirm/app/imports"
	"apptconfirm/app/outbound"
	"apptconfirm/app/stats"
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
	// Availability serves working hours and free times; nil answers those
	// routes with 404.
	Availability *availability.Service
	// Stats computes the figures of GET /stats.
	Stats *stats.Service
	// Texts serves GET and PUT /templates; nil answers them with 404.
	Texts Texts
	// Outbound manages the outbound webhook endpoints; nil answers their
	// routes with 404.
	Outbound *outbound.Service
	// Offers sends offers of new times (POST /appointments/{id}/offers);
	// nil answers it with 404.
	Offers Offers
	// Metrics may be nil (nothing recorded, /metrics answers 404).
	Metrics Metrics
	// Logger may be nil (logs discarded).
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Imports serves POST /imports; nil answers it with 404.
	Imports *imports.Service
	// MaxImportBytes caps an imported file (config import.max_bytes).
	MaxImportBytes int64
	// Exports serves GET /exports/appointments; nil answers it with 404.
	Exports *exports.Service
	// Feeds serves POST /calendar-feeds; nil answers it with 404.
	Feeds *feeds.Service
	// Waitlist serves /waitlist; nil answers it with 404.
	Waitlist Waitlist
	// Analytics serves GET /analytics; nil answers it with 404.
	Analytics *analytics.Service
}

// API serves the REST API and the operations endpoints. It holds no
// package-level state.
type API struct {
	store    *models.Store
	clinic   *clinic.Service
	avail    *availability.Service
	figures  *stats.Service
	texts    Texts
	outbound *outbound.Service
	offers   Offers
	metrics  Metrics
	log      *slog.Logger
	now      func() time.Time
	tokens   *Tokens
	imports  *imports.Service
	// maxImport caps an imported file.
	maxImport int64
	exports   *exports.Service
	feeds     *feeds.Service
	waitlist  Waitlist
	analytics *analytics.Service
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
		store: d.Store, clinic: d.Clinic, avail: d.Availability, figures: d.Stats, texts: d.Texts, outbound: d.Outbound, offers: d.Offers, metrics: d.Metrics, log: d.Logger, now: d.Now,
		tokens: NewTokens(d.Store, d.Now), imports: d.Imports, maxImport: d.MaxImportBytes, exports: d.Exports, feeds: d.Feeds, waitlist: d.Waitlist,
		analytics: d.Analytics,
	}
}

// Tokens returns the token service the API authenticates with.
func (a *API) Tokens() *Tokens { return a.tokens }

// Middleware is what every request under BasePath goes through: it is
// counted by its route pattern, a panic becomes a JSON 500, and the answer
// is kept out of caches.
func (a *API) Middleware() []gin.HandlerFunc {
	return []gin.HandlerFunc{a.CountRequest, a.RecoverJSON, a.NoStore}
}

// NotFound answers a request under BasePath that matched no route with a
// JSON 404.
func (a *API) NotFound(c *gin.Context) {
	writeError(c, http.StatusNotFound, CodeNotFound, "no such endpoint; see "+BasePath+"/openapi.json", "")
	a.metrics.HTTPRequest("", c.Writer.Status())
}

// MethodNotAllowed answers a request under BasePath whose path exists for
// other methods with a JSON 405; the router has set the Allow header.
func (a *API) MethodNotAllowed(c *gin.Context) {
	allowed := c.Writer.Header().Get("Allow")
	writeError(c, http.StatusMethodNotAllowed, CodeMethodNotAllowed,
		"method "+c.Request.Method+" is not allowed here; use "+strings.ReplaceAll(allowed, ", ", " or "), "")
	a.metrics.HTTPRequest("", c.Writer.Status())
}

// Metrics serves the Prometheus registry.
func (a *API) Metrics(c *gin.Context) { a.metrics.Handler().ServeHTTP(c.Writer, c.Request) }

// CountRequest records the request in apptconfirm_http_requests_total by its
// route pattern.
func (a *API) CountRequest(c *gin.Context) {
	c.Next()
	a.metrics.HTTPRequest(c.FullPath(), c.Writer.Status())
}

// NoStore keeps API answers (patient data) out of caches.
func (a *API) NoStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Next()
}
