package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/outbound"
	"apptconfirm/models"
)

// WebhookEndpoint is an outbound webhook endpoint in the API. Secret is
// present only in the answers to its creation and to a rotation.
type WebhookEndpoint struct {
	ID             uint       `json:"id"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Description    string     `json:"description"`
	IncludePhone   bool       `json:"include_phone"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason"`
	FailingSince   *time.Time `json:"failing_since"`
	Secret         string     `json:"secret,omitempty"`
	// OldSecretUntil is when the secret replaced by the last rotation
	// stops signing.
	OldSecretUntil *time.Time `json:"old_secret_until,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// WebhookDelivery is one delivery of an event to an endpoint.
type WebhookDelivery struct {
	ID            uint       `json:"id"`
	WebhookID     string     `json:"webhook_id"`
	Type          string     `json:"type"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt *time.Time `json:"next_attempt_at"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	DeliveredAt   *time.Time `json:"delivered_at"`
	LastStatus    int        `json:"last_status_code"`
	LastLatencyMS int        `json:"last_latency_ms"`
	LastError     string     `json:"last_error"`
	LastResponse  string     `json:"last_response"`
	CreatedAt     time.Time  `json:"created_at"`
}

func webhookEndpointJSON(e *models.WebhookEndpoint, withSecret bool, now time.Time) WebhookEndpoint {
	out := WebhookEndpoint{
		ID: e.ID, URL: e.URL, Events: e.EventList(), Description: e.Description, IncludePhone: e.IncludePhone,
		Enabled: e.Enabled, DisabledReason: e.DisabledReason, FailingSince: utcPtr(e.FailingSince),
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC(),
	}
	if out.Events == nil {
		out.Events = []string{}
	}
	if withSecret {
		out.Secret = e.Secret
	}
	if e.OldSecret != "" && e.OldSecretUntil != nil && now.Before(*e.OldSecretUntil) {
		out.OldSecretUntil = utcPtr(e.OldSecretUntil)
	}
	return out
}

func webhookDeliveryJSON(d *models.WebhookDelivery) WebhookDelivery {
	out := WebhookDelivery{
		ID: d.ID, WebhookID: d.MsgID, Type: d.Type, Status: d.Status, Attempts: d.Attempts,
		LastAttemptAt: utcPtr(d.LastAttemptAt), DeliveredAt: utcPtr(d.DeliveredAt), LastStatus: d.LastCode,
		LastLatencyMS: d.LastLatencyMS, LastError: d.LastError, LastResponse: d.LastResponse, CreatedAt: d.CreatedAt.UTC(),
	}
	if d.Status == models.DeliveryPending {
		out.NextAttemptAt = utcPtr(&d.NextAt)
	}
	return out
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// webhookEndpointBody is the body of POST and PATCH /webhook-endpoints; a
// member left out is unchanged (PATCH) or takes its default (POST).
type webhookEndpointBody struct {
	URL          *string   `json:"url"`
	Events       *[]string `json:"events"`
	Description  *string   `json:"description"`
	IncludePhone *bool     `json:"include_phone"`
	Enabled      *bool     `json:"enabled"`
}

func (b webhookEndpointBody) input() outbound.EndpointInput {
	in := outbound.EndpointInput{URL: b.URL, Description: b.Description, IncludePhone: b.IncludePhone, Enabled: b.Enabled}
	if b.Events != nil {
		in.Events = *b.Events
		if in.Events == nil {
			in.Events = []string{}
		}
	}
	return in
}

// outboundOK answers 404 when the API was built without outbound webhooks.
func (a *API) outboundOK(c *gin.Context) bool {
	if a.outbound == nil {
		a.NotFound(c)
		return false
	}
	return true
}

// ListWebhookEndpoints answers GET /webhook-endpoints: every endpoint,
// without secrets.
func (a *API) ListWebhookEndpoints(c *gin.Context) {
	if !a.outboundOK(c) {
		return
	}
	eps, err := a.outbound.Endpoints(c.Request.Context())
	if err != nil {
		a.fail(c, err)
		return
	}
	data := make([]WebhookEndpoint, 0, len(eps))
	for i := range eps {
		data = append(data, webhookEndpointJSON(&eps[i], false, a.now()))
	}
	writeJSON(c, http.StatusOK, gin.H{"data": data})
}

// CreateWebhookEndpoint answers POST /webhook-endpoints: 201 with the
// endpoint and its secret, shown this once.
func (a *API) CreateWebhookEndpoint(c *gin.Context) {
	if !a.outboundOK(c) {
		return
	}
	var b webhookEndpointBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	in := b.input()
	if in.Events == nil {
		in.Events = []string{}
	}
	e, err := a.outbound.Create(c.Request.Context(), actor(c), in)
	if err != nil {
		a.fail(c, err)
		return
	}
	c.Header("Location", BasePath+"/webhook-endpoints/"+strconv.FormatUint(uint64(e.ID), 10))
	writeJSON(c, http.StatusCreated, webhookEndpointJSON(e, true, a.now()))
}

// GetWebhookEndpoint answers GET /webhook-endpoints/{id}.
func (a *API) GetWebhookEndpoint(c *gin.Context) {
	id, ok := a.endpointID(c)
	if !ok {
		return
	}
	e, err := a.outbound.Endpoint(c.Request.Context(), id)
	if err != nil {
		a.failID(c, err, "webhook endpoint", id)
		return
	}
	writeJSON(c, http.StatusOK, webhookEndpointJSON(e, false, a.now()))
}

// UpdateWebhookEndpoint answers PATCH /webhook-endpoints/{id}: the members
// sent change; "enabled": true also clears a disabled endpoint's reason.
func (a *API) UpdateWebhookEndpoint(c *gin.Context) {
	id, ok := a.endpointID(c)
	if !ok {
		return
	}
	var b webhookEndpointBody
	if !decodeBody(c, &b, decodeOpts{}) {
		return
	}
	e, err := a.outbound.Update(c.Request.Context(), actor(c), id, b.input())
	if err != nil {
		a.failID(c, err, "webhook endpoint", id)
		return
	}
	writeJSON(c, http.StatusOK, webhookEndpointJSON(e, false, a.now()))
}

// DeleteWebhookEndpoint answers DELETE /webhook-endpoints/{id}: 204; its
// pending deliveries are dropped.
func (a *API) DeleteWebhookEndpoint(c *gin.Context) {
	id, ok := a.endpointID(c)
	if !ok {
		return
	}
	if err := a.outbound.Delete(c.Request.Context(), actor(c), id); err != nil {
		a.failID(c, err, "webhook endpoint", id)
		return
	}
	c.Status(http.StatusNoContent)
}

// RotateWebhookSecret answers POST /webhook-endpoints/{id}/rotate-secret:
// the endpoint with its new secret; the old one keeps signing for 24 hours.
func (a *API) RotateWebhookSecret(c *gin.Context) {
	id, ok := a.endpointID(c)
	if !ok {
		return
	}
	e, err := a.outbound.Rotate(c.Request.Context(), actor(c), id)
	if err != nil {
		a.failID(c, err, "webhook endpoint", id)
		return
	}
	writeJSON(c, http.StatusOK, webhookEndpointJSON(e, true, a.now()))
}

// ListWebhookDeliveries answers GET /webhook-endpoints/{id}/deliveries:
// the latest 50, newest first.
func (a *API) ListWebhookDeliveries(c *gin.Context) {
	id, ok := a.endpointID(c)
	if !ok {
		return
	}
	ds, err := a.outbound.Deliveries(c.Request.Context(), id, 50)
	if err != nil {
		a.failID(c, err, "webhook endpoint", id)
		return
	}
	data := make([]WebhookDelivery, 0, len(ds))
	for i := range ds {
		data = append(data, webhookDeliveryJSON(&ds[i]))
	}
	writeJSON(c, http.StatusOK, gin.H{"data": data})
}

// TestWebhookEndpoint answers POST /webhook-endpoints/{id}/test: 202 with
// the queued test delivery.
func (a *API) TestWebhookEndpoint(c *gin.Context) {
	id, ok := a.endpointID(c)
	if !ok {
		return
	}
	d, err := a.outbound.SendTest(c.Request.Context(), actor(c), id)
	if err != nil {
		a.failID(c, err, "webhook endpoint", id)
		return
	}
	writeJSON(c, http.StatusAccepted, webhookDeliveryJSON(d))
}

func (a *API) endpointID(c *gin.Context) (uint, bool) {
	if !a.outboundOK(c) {
		return 0, false
	}
	return parseID(c, "webhook endpoint")
}
