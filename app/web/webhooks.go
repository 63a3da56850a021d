package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/outbound"
	"apptconfirm/models"
)

// webhookPages are Admin → Webhooks: the outbound webhook endpoints, their
// recent deliveries, "send again" and "send a test event".
type webhookPages struct {
	s   *Server
	svc *outbound.Service
}

// recentDeliveries is how many deliveries an endpoint's page lists.
const recentDeliveries = 50

// webhookForm is an endpoint's form values.
type webhookForm struct {
	URL          string
	Description  string
	Events       map[string]bool
	IncludePhone bool
	Enabled      bool
}

// webhooksData is the list page, with the form of a new endpoint and,
// right after a creation, its secret (shown this once).
type webhooksData struct {
	Endpoints []webhookRow
	Form      webhookForm
	Types     []string
	Errors    models.FieldErrors
	New       *webhookRow
	NewSecret string
}

// webhookRow is one endpoint as the pages show it.
type webhookRow struct {
	ID             uint
	URL            string
	Description    string
	Events         []string
	IncludePhone   bool
	Enabled        bool
	DisabledReason string
	FailingSince   string
	OldSecretUntil string
}

// webhookData is one endpoint's page.
type webhookData struct {
	Endpoint   webhookRow
	Form       webhookForm
	Types      []string
	Errors     models.FieldErrors
	Deliveries []deliveryRow
	// NewSecret is set right after a rotation.
	NewSecret string
}

// deliveryRow is one delivery as the endpoint's page lists it.
type deliveryRow struct {
	ID        uint
	MsgID     string
	Type      string
	Status    string
	Badge     string
	Attempts  int
	Created   string
	LastAt    string
	NextAt    string
	Code      int
	LatencyMS int
	Error     string
	Response  string
}

func (p *webhookPages) zone(ctx context.Context) *time.Location {
	if p.s.clinic == nil {
		return time.UTC
	}
	l, err := p.s.clinic.DefaultLocation(ctx)
	if err != nil {
		return time.UTC
	}
	return l.Zone()
}

const webhookTimeLayout = "2 Jan 2006 15:04:05 MST"

func (p *webhookPages) fmtIn(t *time.Time, zone *time.Location) string {
	if t == nil || t.IsZero() {
		return ""
	}
	return p.s.clock.in(*t, zone, webhookTimeLayout)
}

func (p *webhookPages) row(e *models.WebhookEndpoint, zone *time.Location) webhookRow {
	r := webhookRow{
		ID: e.ID, URL: e.URL, Description: e.Description, Events: e.EventList(), IncludePhone: e.IncludePhone,
		Enabled: e.Enabled, DisabledReason: e.DisabledReason, FailingSince: p.fmtIn(e.FailingSince, zone),
	}
	if e.OldSecret != "" && e.OldSecretUntil != nil && p.s.now().Before(*e.OldSecretUntil) {
		r.OldSecretUntil = p.fmtIn(e.OldSecretUntil, zone)
	}
	return r
}

func formOf(e *models.WebhookEndpoint) webhookForm {
	f := webhookForm{URL: e.URL, Description: e.Description, IncludePhone: e.IncludePhone, Enabled: e.Enabled, Events: map[string]bool{}}
	for _, t := range e.EventList() {
		f.Events[t] = true
	}
	return f
}

// readForm reads the endpoint form; enabled only on the edit form.
func readWebhookForm(c *gin.Context, withEnabled bool) (webhookForm, outbound.EndpointInput) {
	f := webhookForm{
		URL: strings.TrimSpace(c.PostForm("url")), Description: strings.TrimSpace(c.PostForm("description")),
		IncludePhone: c.PostForm("include_phone") == "1", Enabled: c.PostForm("enabled") == "1", Events: map[string]bool{},
	}
	events := c.PostFormArray("events")
	for _, t := range events {
		f.Events[t] = true
	}
	if events == nil {
		events = []string{}
	}
	in := outbound.EndpointInput{URL: &f.URL, Description: &f.Description, IncludePhone: &f.IncludePhone, Events: events}
	if withEnabled {
		in.Enabled = &f.Enabled
	}
	return f, in
}

func (p *webhookPages) list(c *gin.Context) {
	p.listPage(c, http.StatusOK, webhooksData{Form: webhookForm{Events: map[string]bool{}}})
}

func (p *webhookPages) listPage(c *gin.Context, status int, d webhooksData) {
	ctx := c.Request.Context()
	eps, err := p.svc.Endpoints(ctx)
	if err != nil {
		p.s.fail(c, err)
		return
	}
	zone := p.zone(ctx)
	for i := range eps {
		d.Endpoints = append(d.Endpoints, p.row(&eps[i], zone))
	}
	d.Types = outbound.Types
	// A new secret must not linger in caches or the browser's history.
	c.Header("Cache-Control", "no-store")
	p.s.html(c, status, "webhooks", p.s.page(c, "Webhooks", "admin", d))
}

func (p *webhookPages) create(c *gin.Context) {
	f, in := readWebhookForm(c, false)
	e, err := p.svc.Create(c.Request.Context(), tokenActor(c), in)
	if fe, ok := models.AsFieldErrors(err); ok {
		p.listPage(c, http.StatusUnprocessableEntity, webhooksData{Form: f, Errors: fe})
		return
	}
	if err != nil {
		p.s.fail(c, err)
		return
	}
	// Rendered, not redirected: the secret exists only in this answer.
	r := p.row(e, p.zone(c.Request.Context()))
	p.listPage(c, http.StatusOK, webhooksData{Form: webhookForm{Events: map[string]bool{}}, New: &r, NewSecret: e.Secret})
}

func (p *webhookPages) endpointID(c *gin.Context) (uint, bool) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 32)
	if err != nil || id == 0 {
		p.s.notFound(c)
		return 0, false
	}
	return uint(id), true
}

func (p *webhookPages) show(c *gin.Context) {
	id, ok := p.endpointID(c)
	if !ok {
		return
	}
	p.showPage(c, http.StatusOK, id, webhookData{})
}

// showPage renders an endpoint's page; a zero d.Form is filled from the
// endpoint.
func (p *webhookPages) showPage(c *gin.Context, status int, id uint, d webhookData) {
	ctx := c.Request.Context()
	e, err := p.svc.Endpoint(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		p.s.notFound(c)
		return
	}
	if err != nil {
		p.s.fail(c, err)
		return
	}
	ds, err := p.svc.Deliveries(ctx, id, recentDeliveries)
	if err != nil {
		p.s.fail(c, err)
		return
	}
	zone := p.zone(ctx)
	d.Endpoint, d.Types = p.row(e, zone), outbound.Types
	if d.Form.Events == nil {
		d.Form = formOf(e)
	}
	for i := range ds {
		d.Deliveries = append(d.Deliveries, p.deliveryRowOf(&ds[i], zone))
	}
	c.Header("Cache-Control", "no-store")
	p.s.html(c, status, "webhook", p.s.page(c, "Webhook "+e.URL, "admin", d))
}

func (p *webhookPages) deliveryRowOf(d *models.WebhookDelivery, zone *time.Location) deliveryRow {
	r := deliveryRow{
		ID: d.ID, MsgID: d.MsgID, Type: d.Type, Status: d.Status, Attempts: d.Attempts,
		Created: p.fmtIn(&d.CreatedAt, zone), LastAt: p.fmtIn(d.LastAttemptAt, zone),
		Code: d.LastCode, LatencyMS: d.LastLatencyMS, Error: d.LastError, Response: models.Clip(d.LastResponse, 200),
	}
	if r.Error == "HTTP "+strconv.Itoa(d.LastCode) {
		r.Error = "" // the code says it already
	}
	switch d.Status {
	case models.DeliveryDelivered:
		r.Badge = "delivered"
	case models.DeliveryFailed:
		r.Badge = "failed"
	default:
		r.Badge, r.NextAt = "planned", p.fmtIn(&d.NextAt, zone)
		if d.Attempts > 0 && d.LastAttemptAt != nil {
			r.Badge, r.Status = "rejected", "retrying"
		}
	}
	r.Status = statusLabel(r.Status)
	return r
}

func (p *webhookPages) update(c *gin.Context) {
	id, ok := p.endpointID(c)
	if !ok {
		return
	}
	f, in := readWebhookForm(c, true)
	_, err := p.svc.Update(c.Request.Context(), tokenActor(c), id, in)
	if fe, ok := models.AsFieldErrors(err); ok {
		p.showPage(c, http.StatusUnprocessableEntity, id, webhookData{Form: f, Errors: fe})
		return
	}
	if !p.done(c, err) {
		return
	}
	p.s.flash(c, "Webhook saved.")
	c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+strconv.FormatUint(uint64(id), 10))
}

// done handles a service error; it reports whether there was none.
func (p *webhookPages) done(c *gin.Context, err error) bool {
	switch {
	case err == nil:
		return true
	case errors.Is(err, models.ErrNotFound):
		p.s.notFound(c)
	default:
		p.s.fail(c, err)
	}
	return false
}

func (p *webhookPages) rotate(c *gin.Context) {
	id, ok := p.endpointID(c)
	if !ok {
		return
	}
	e, err := p.svc.Rotate(c.Request.Context(), tokenActor(c), id)
	if !p.done(c, err) {
		return
	}
	p.showPage(c, http.StatusOK, id, webhookData{NewSecret: e.Secret})
}

func (p *webhookPages) test(c *gin.Context) {
	id, ok := p.endpointID(c)
	if !ok {
		return
	}
	_, err := p.svc.SendTest(c.Request.Context(), tokenActor(c), id)
	if !p.done(c, err) {
		return
	}
	p.s.flash(c, "Test event queued: it appears below once sent.")
	c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+strconv.FormatUint(uint64(id), 10))
}

func (p *webhookPages) resend(c *gin.Context) {
	id, ok := p.endpointID(c)
	if !ok {
		return
	}
	did, err := strconv.ParseUint(c.Param("delivery"), 10, 32)
	if err != nil || did == 0 {
		p.s.notFound(c)
		return
	}
	_, err = p.svc.Resend(c.Request.Context(), tokenActor(c), id, uint(did))
	if !p.done(c, err) {
		return
	}
	p.s.flash(c, "Queued again, with the same webhook-id.")
	c.Redirect(http.StatusSeeOther, "/admin/webhooks/"+strconv.FormatUint(uint64(id), 10))
}

func (p *webhookPages) remove(c *gin.Context) {
	id, ok := p.endpointID(c)
	if !ok {
		return
	}
	if !p.done(c, p.svc.Delete(c.Request.Context(), tokenActor(c), id)) {
		return
	}
	p.s.flash(c, "Webhook deleted; its pending deliveries will not be sent.")
	c.Redirect(http.StatusSeeOther, "/admin/webhooks")
}
