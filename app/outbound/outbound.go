// Package outbound sends the clinic's other systems what happened in
// apptconfirm, as outbound webhooks signed to the Standard Webhooks
// specification. Admins and integrators register endpoints (a URL and the
// event types it wants); each domain event of those types is written as
// one delivery per endpoint in the transaction of the change itself (the
// service is a Stager of the fan-out), so a committed change always has
// its deliveries and a rolled-back one never does. A Worker delivers them
// with retries, in order per appointment. See docs/outbound-webhooks.md.
package outbound

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"apptconfirm/models"
)

// EntityEndpoint is the audit log's entity name of an endpoint.
const EntityEndpoint = "webhook_endpoint"

// RotationGrace is how long the secret replaced by a rotation still signs.
const RotationGrace = 24 * time.Hour

// Options configure a Service.
type Options struct {
	// AllowPrivate accepts plain http and private, loopback and link-local
	// addresses (on-premise integrations and tests).
	AllowPrivate bool
	// Wake is kicked when a delivery is queued outside a domain event
	// ("send again", a test event); nil kicks nobody (the poll finds it).
	Wake *Wake
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service manages the endpoints and queues their deliveries. It is safe
// for concurrent use.
type Service struct {
	store *models.Store
	opts  Options
}

// New returns a Service.
func New(store *models.Store, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{store: store, opts: o}
}

func (s *Service) now() time.Time { return models.DBTime(s.opts.Now()) }

// EndpointInput is what an admin or integrator sets on an endpoint; a nil
// field is left as it is (an update) or takes its default (a creation:
// no description, no phone numbers, enabled).
type EndpointInput struct {
	URL          *string
	Events       []string
	Description  *string
	IncludePhone *bool
	Enabled      *bool
}

// Create registers an endpoint and returns it with its secret, which is
// shown this once.
func (s *Service) Create(ctx context.Context, actor models.Actor, in EndpointInput) (*models.WebhookEndpoint, error) {
	if in.URL == nil {
		in.URL = new(string)
	}
	if in.Events == nil {
		in.Events = []string{}
	}
	e := &models.WebhookEndpoint{Enabled: true, Secret: NewSecret()}
	if err := s.apply(e, in); err != nil {
		return nil, err
	}
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateWebhookEndpoint(ctx, e); err != nil {
			return err
		}
		return s.store.Audit(ctx, s.now(), actor, "webhook_endpoint.create", EntityEndpoint, e.ID, e.URL)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// apply checks in and writes it onto e; every problem is named by field.
func (s *Service) apply(e *models.WebhookEndpoint, in EndpointInput) error {
	fe := models.FieldErrors{}
	if in.URL != nil {
		u := strings.TrimSpace(*in.URL)
		if err := CheckURL(u, s.opts.AllowPrivate); err != nil {
			fe.Add("url", err.Error())
		}
		e.URL = u
	}
	if in.Events != nil {
		var evs []string
		for _, t := range in.Events {
			t = strings.TrimSpace(t)
			switch {
			case !knownType(t):
				fe.Add("events", fmt.Sprintf("unknown event type %q (known: %s)", models.Clip(t, 60), strings.Join(Types, ", ")))
			case !slices.Contains(evs, t):
				evs = append(evs, t)
			}
		}
		if len(evs) == 0 {
			fe.Add("events", "list at least one event type")
		}
		e.Events = strings.Join(evs, ",")
	}
	if in.Description != nil {
		d := strings.TrimSpace(*in.Description)
		if len([]rune(d)) > 300 {
			fe.Add("description", "at most 300 characters")
		}
		e.Description = d
	}
	if in.IncludePhone != nil {
		e.IncludePhone = *in.IncludePhone
	}
	if in.Enabled != nil {
		if *in.Enabled && !e.Enabled {
			// Switched back on by a person: the failing streak starts over.
			e.DisabledReason, e.FailingSince = "", nil
		}
		e.Enabled = *in.Enabled
	}
	return fe.Err()
}

// CheckURL says what is wrong with an endpoint URL: it must be an absolute
// https URL of a host name or a public address (allowPrivate also lets
// http and private addresses through). Host names are checked again at
// every delivery, once resolved (see Dialer).
func CheckURL(raw string, allowPrivate bool) error {
	if raw == "" {
		return fmt.Errorf("required")
	}
	if len(raw) > 2000 {
		return fmt.Errorf("at most 2000 characters")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("not an absolute URL")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowPrivate {
			return fmt.Errorf("must start with https:// (plain http only with outbound_webhooks.allow_private)")
		}
	default:
		return fmt.Errorf("must start with https://")
	}
	if u.User != nil {
		return fmt.Errorf("must not carry a user name or password")
	}
	host := u.Hostname()
	if host == "" {
		return fmt.Errorf("has no host")
	}
	if allowPrivate {
		return nil
	}
	if addr, err := netip.ParseAddr(host); err == nil {
		if why := forbidden(addr); why != "" {
			return fmt.Errorf("points to a %s address", why)
		}
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return fmt.Errorf("points to this machine")
	}
	if p := u.Port(); p != "" {
		if _, err := net.LookupPort("tcp", p); err != nil {
			return fmt.Errorf("has a bad port")
		}
	}
	return nil
}

// Endpoints returns every endpoint, oldest first.
func (s *Service) Endpoints(ctx context.Context) ([]models.WebhookEndpoint, error) {
	return s.store.WebhookEndpoints(ctx, false)
}

// Endpoint returns one endpoint.
func (s *Service) Endpoint(ctx context.Context, id uint) (*models.WebhookEndpoint, error) {
	return s.store.WebhookEndpoint(ctx, id)
}

// Update changes the fields of in that are set.
func (s *Service) Update(ctx context.Context, actor models.Actor, id uint, in EndpointInput) (*models.WebhookEndpoint, error) {
	var out *models.WebhookEndpoint
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		e, err := s.store.LockWebhookEndpoint(ctx, id)
		if err != nil {
			return err
		}
		if err := s.apply(e, in); err != nil {
			return err
		}
		e.UpdatedAt = s.now()
		if err := s.store.SaveWebhookEndpoint(ctx, e); err != nil {
			return err
		}
		out = e
		return s.store.Audit(ctx, s.now(), actor, "webhook_endpoint.update", EntityEndpoint, e.ID, e.URL)
	})
	return out, err
}

// Delete removes an endpoint and its deliveries (those still pending are
// not sent).
func (s *Service) Delete(ctx context.Context, actor models.Actor, id uint) error {
	return s.store.Tx(ctx, func(ctx context.Context) error {
		e, err := s.store.LockWebhookEndpoint(ctx, id)
		if err != nil {
			return err
		}
		if err := s.store.DeleteWebhookEndpoint(ctx, id); err != nil {
			return err
		}
		return s.store.Audit(ctx, s.now(), actor, "webhook_endpoint.delete", EntityEndpoint, id, e.URL)
	})
}

// Rotate gives an endpoint a new secret and returns the endpoint with it;
// the old one keeps signing (a second signature) for RotationGrace.
func (s *Service) Rotate(ctx context.Context, actor models.Actor, id uint) (*models.WebhookEndpoint, error) {
	var out *models.WebhookEndpoint
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		e, err := s.store.LockWebhookEndpoint(ctx, id)
		if err != nil {
			return err
		}
		now := s.now()
		until := now.Add(RotationGrace)
		e.OldSecret, e.OldSecretUntil, e.Secret, e.UpdatedAt = e.Secret, &until, NewSecret(), now
		if err := s.store.SaveWebhookEndpoint(ctx, e); err != nil {
			return err
		}
		out = e
		return s.store.Audit(ctx, now, actor, "webhook_endpoint.rotate", EntityEndpoint, e.ID, "")
	})
	return out, err
}

// Deliveries returns an endpoint's latest deliveries, newest first.
func (s *Service) Deliveries(ctx context.Context, endpointID uint, limit int) ([]models.WebhookDelivery, error) {
	if _, err := s.store.WebhookEndpoint(ctx, endpointID); err != nil {
		return nil, err
	}
	return s.store.WebhookDeliveries(ctx, endpointID, limit)
}

// Resend queues one of an endpoint's deliveries again, as a new delivery
// with the same webhook-id and body, after the endpoint's other pending
// events of the same appointment.
func (s *Service) Resend(ctx context.Context, actor models.Actor, endpointID, deliveryID uint) (*models.WebhookDelivery, error) {
	var out *models.WebhookDelivery
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		d, err := s.store.WebhookDelivery(ctx, deliveryID)
		if err != nil {
			return err
		}
		if d.EndpointID != endpointID {
			return fmt.Errorf("webhook delivery %d: %w", deliveryID, models.ErrNotFound)
		}
		nd := []models.WebhookDelivery{{
			EndpointID: d.EndpointID, EventID: d.EventID, MsgID: d.MsgID, Type: d.Type, OrderKey: d.OrderKey,
			PatientID: d.PatientID, Payload: d.Payload, Status: models.DeliveryPending, NextAt: s.now(), CreatedAt: s.now(),
		}}
		if err := s.store.AddWebhookDeliveries(ctx, nd); err != nil {
			return err
		}
		out = &nd[0]
		return s.store.Audit(ctx, s.now(), actor, "webhook_endpoint.resend", EntityEndpoint, endpointID, d.MsgID)
	})
	s.kick(err)
	return out, err
}

// SendTest queues a test event (type webhook.test, no patient data) to an
// endpoint, whatever event types it asked for. It goes out even while the
// endpoint is disabled (its other deliveries wait), so that an admin can
// check a repaired receiver before enabling it again.
func (s *Service) SendTest(ctx context.Context, actor models.Actor, endpointID uint) (*models.WebhookDelivery, error) {
	var out *models.WebhookDelivery
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.store.WebhookEndpoint(ctx, endpointID); err != nil {
			return err
		}
		now := s.now()
		id := newMsgID()
		body, err := payload(TypeTest, now, Data{Test: true, Source: "test", Detail: "a test event from apptconfirm"}, false)
		if err != nil {
			return err
		}
		nd := []models.WebhookDelivery{{
			EndpointID: endpointID, MsgID: id, Type: TypeTest, OrderKey: "t" + id[4:],
			Payload: body, Status: models.DeliveryPending, NextAt: now, CreatedAt: now,
		}}
		if err := s.store.AddWebhookDeliveries(ctx, nd); err != nil {
			return err
		}
		out = &nd[0]
		return s.store.Audit(ctx, now, actor, "webhook_endpoint.test", EntityEndpoint, endpointID, id)
	})
	s.kick(err)
	return out, err
}

// kick wakes the worker after a successful write.
func (s *Service) kick(err error) {
	if err == nil && s.opts.Wake != nil {
		s.opts.Wake.Kick()
	}
}

// Stager queues the deliveries of each transaction's events; it is built
// before the store (the store hands it every transaction), so it holds
// none.
type Stager struct {
	now func() time.Time
}

// NewStager returns a Stager; now is the clock (nil means time.Now).
func NewStager(now func() time.Time) *Stager {
	if now == nil {
		now = time.Now
	}
	return &Stager{now: now}
}

// Stage implements events.Stager: inside the transaction of a change, it
// writes one pending delivery per enabled endpoint that wants each of its
// events, with the body as the rows stand in that transaction. Events no
// endpoint wants cost one small query per transaction, and none at all
// when no event has a webhook type.
func (s *Stager) Stage(ctx context.Context, store *models.Store, evs []models.Event) error {
	wanted := false
	for _, e := range evs {
		if TypeOf(e) != "" {
			wanted = true
			break
		}
	}
	if !wanted {
		return nil
	}
	eps, err := store.WebhookEndpoints(ctx, true)
	if err != nil || len(eps) == 0 {
		return err
	}
	now := models.DBTime(s.now())
	var ds []models.WebhookDelivery
	for _, e := range evs {
		t := TypeOf(e)
		if t == "" {
			continue
		}
		var data *Data
		var id string
		for i := range eps {
			ep := &eps[i]
			if !ep.Wants(t) {
				continue
			}
			if data == nil {
				d, err := eventData(ctx, store, e)
				if err != nil {
					return fmt.Errorf("outbound: event %d: %w", e.ID, err)
				}
				data, id = &d, newMsgID()
			}
			body, err := payload(t, e.At, *data, ep.IncludePhone)
			if err != nil {
				return err
			}
			var patientID uint
			if data.Patient != nil {
				patientID = data.Patient.ID
			}
			ds = append(ds, models.WebhookDelivery{
				EndpointID: ep.ID, EventID: e.ID, MsgID: id, Type: t, OrderKey: orderKey(e),
				PatientID: patientID, Payload: body, Status: models.DeliveryPending, NextAt: now, CreatedAt: now,
			})
		}
	}
	return store.AddWebhookDeliveries(ctx, ds)
}
