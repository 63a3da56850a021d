package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// WebhookEndpoint is a URL of the clinic's other systems that receives
// outbound webhooks (the event types it listed), signed with its secret.
type WebhookEndpoint struct {
	ID          uint   `gorm:"primaryKey"`
	URL         string `gorm:"size:2000;not null"`
	Description string `gorm:"size:300;not null;default:''"`
	// Events lists the event types it receives, comma-separated.
	Events string `gorm:"size:1000;not null;default:''"`
	// IncludePhone puts the patient's number in the payloads.
	IncludePhone bool `gorm:"not null;default:false"`
	// Secret is the signing secret ("whsec_" and base64). OldSecret, until
	// OldSecretUntil, signs too: a rotation leaves the receiver time to
	// switch.
	Secret         string `gorm:"size:100;not null"`
	OldSecret      string `gorm:"size:100;not null;default:''"`
	OldSecretUntil *time.Time
	// Enabled endpoints receive deliveries; one failing for too long is
	// disabled with DisabledReason saying why.
	Enabled        bool   `gorm:"not null;default:true"`
	DisabledReason string `gorm:"size:500;not null;default:''"`
	// FailingSince is the first failed attempt since the last success.
	FailingSince *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// EventList returns the event types of Events.
func (e *WebhookEndpoint) EventList() []string {
	if e.Events == "" {
		return nil
	}
	return strings.Split(e.Events, ",")
}

// Wants reports whether the endpoint receives events of type t.
func (e *WebhookEndpoint) Wants(t string) bool {
	for _, x := range e.EventList() {
		if x == t {
			return true
		}
	}
	return false
}

// Secrets returns the secrets that sign a payload at now: the current one
// and, during a rotation's grace period, the old one.
func (e *WebhookEndpoint) Secrets(now time.Time) []string {
	out := []string{e.Secret}
	if e.OldSecret != "" && e.OldSecretUntil != nil && now.Before(*e.OldSecretUntil) {
		out = append(out, e.OldSecret)
	}
	return out
}

// DeliveryTypeTest is the type of a test event: it goes out even to a
// disabled endpoint, so that an admin can check a repaired receiver
// before enabling it again.
const DeliveryTypeTest = "webhook.test"

// Delivery states.
const (
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// WebhookDelivery is one event to deliver to one endpoint. It is written in
// the transaction of the change it reports; the worker claims it with a
// lease, and each attempt updates it.
type WebhookDelivery struct {
	ID         uint `gorm:"primaryKey"`
	EndpointID uint `gorm:"not null"`
	// EventID is the domain event reported (0 for a test event).
	EventID uint `gorm:"not null;default:0"`
	// MsgID is the webhook-id header: the same on every attempt and on a
	// "send again".
	MsgID string `gorm:"size:64;not null"`
	Type  string `gorm:"size:40;not null"`
	// OrderKey groups the deliveries of one endpoint that go out one at a
	// time, oldest first (one appointment's events).
	OrderKey  string `gorm:"size:40;not null"`
	PatientID uint   `gorm:"not null;default:0;index"`
	Payload   string `gorm:"type:text;not null"`
	Status    string `gorm:"size:16;not null"`
	Attempts  int    `gorm:"not null;default:0"`
	// NextAt is when the next attempt is due; LeaseUntil, while set and in
	// the future, says a worker holds it.
	NextAt        time.Time `gorm:"not null"`
	LeaseUntil    *time.Time
	LastAttemptAt *time.Time
	DeliveredAt   *time.Time
	// The last attempt's answer: status code (0 when none came), latency,
	// error and the first bytes of the body.
	LastCode      int    `gorm:"not null;default:0"`
	LastLatencyMS int    `gorm:"not null;default:0"`
	LastError     string `gorm:"size:500;not null;default:''"`
	LastResponse  string `gorm:"size:1000;not null;default:''"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// v10 is the frozen schema of migration 10.
type v10WebhookEndpoint struct {
	ID             uint   `gorm:"primaryKey"`
	URL            string `gorm:"size:2000;not null"`
	Description    string `gorm:"size:300;not null;default:''"`
	Events         string `gorm:"size:1000;not null;default:''"`
	IncludePhone   bool   `gorm:"not null;default:false"`
	Secret         string `gorm:"size:100;not null"`
	OldSecret      string `gorm:"size:100;not null;default:''"`
	OldSecretUntil *time.Time
	Enabled        bool   `gorm:"not null;default:true"`
	DisabledReason string `gorm:"size:500;not null;default:''"`
	FailingSince   *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (v10WebhookEndpoint) TableName() string { return "webhook_endpoints" }

type v10WebhookDelivery struct {
	ID            uint      `gorm:"primaryKey"`
	EndpointID    uint      `gorm:"not null"`
	EventID       uint      `gorm:"not null;default:0"`
	MsgID         string    `gorm:"size:64;not null"`
	Type          string    `gorm:"size:40;not null"`
	OrderKey      string    `gorm:"size:40;not null"`
	PatientID     uint      `gorm:"not null;default:0;index"`
	Payload       string    `gorm:"type:text;not null"`
	Status        string    `gorm:"size:16;not null"`
	Attempts      int       `gorm:"not null;default:0"`
	NextAt        time.Time `gorm:"not null"`
	LeaseUntil    *time.Time
	LastAttemptAt *time.Time
	DeliveredAt   *time.Time
	LastCode      int    `gorm:"not null;default:0"`
	LastLatencyMS int    `gorm:"not null;default:0"`
	LastError     string `gorm:"size:500;not null;default:''"`
	LastResponse  string `gorm:"size:1000;not null;default:''"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (v10WebhookDelivery) TableName() string { return "webhook_deliveries" }

// migrateV10 creates the outbound webhook tables. The claim looks for due
// pending rows (status, next_at) and, for each, an older pending row of
// the same endpoint and order key (the second index); an endpoint's recent
// deliveries are read newest first (the third).
func migrateV10(tx *gorm.DB) error {
	for _, t := range []any{&v10WebhookEndpoint{}, &v10WebhookDelivery{}} {
		if tx.Migrator().HasTable(t) {
			continue // a database put back to an older version by hand
		}
		if err := tx.Migrator().CreateTable(t); err != nil {
			return err
		}
	}
	for _, q := range []string{
		`CREATE INDEX IF NOT EXISTS idx_webhook_deliveries_due ON webhook_deliveries (status, next_at)`,
		`CREATE INDEX IF NOT EXISTS idx_webhook_deliveries_order ON webhook_deliveries (endpoint_id, order_key, status, id)`,
		`CREATE INDEX IF NOT EXISTS idx_webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id)`,
	} {
		if err := tx.Exec(q).Error; err != nil {
			return err
		}
	}
	return nil
}

// CreateWebhookEndpoint inserts e.
func (s *Store) CreateWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error {
	if err := create(ctx, s, e); err != nil {
		return fmt.Errorf("store: create webhook endpoint: %w", err)
	}
	return nil
}

// WebhookEndpoint returns one endpoint, or ErrNotFound.
func (s *Store) WebhookEndpoint(ctx context.Context, id uint) (*WebhookEndpoint, error) {
	return first[WebhookEndpoint](ctx, s, "webhook endpoint", id, false)
}

// LockWebhookEndpoint is WebhookEndpoint, locked for update on PostgreSQL.
func (s *Store) LockWebhookEndpoint(ctx context.Context, id uint) (*WebhookEndpoint, error) {
	return first[WebhookEndpoint](ctx, s, "webhook endpoint", id, true)
}

// WebhookEndpoints returns every endpoint, oldest first; with enabledOnly,
// only those enabled.
func (s *Store) WebhookEndpoints(ctx context.Context, enabledOnly bool) ([]WebhookEndpoint, error) {
	db := s.conn(ctx)
	if enabledOnly {
		db = db.Where("enabled = ?", true)
	}
	var out []WebhookEndpoint
	if err := db.Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("store: webhook endpoints: %w", Classify(err))
	}
	return out, nil
}

// SaveWebhookEndpoint writes every column of e.
func (s *Store) SaveWebhookEndpoint(ctx context.Context, e *WebhookEndpoint) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Select("*").Omit("created_at").Updates(e)
		if res.Error == nil && res.RowsAffected == 0 {
			return fmt.Errorf("webhook endpoint %d: %w", e.ID, ErrNotFound)
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("store: save webhook endpoint: %w", err)
	}
	return nil
}

// DeleteWebhookEndpoint deletes an endpoint and its deliveries.
func (s *Store) DeleteWebhookEndpoint(ctx context.Context, id uint) error {
	return s.Tx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		if err := db.Where("endpoint_id = ?", id).Delete(&WebhookDelivery{}).Error; err != nil {
			return fmt.Errorf("store: delete webhook endpoint: %w", Classify(err))
		}
		res := db.Delete(&WebhookEndpoint{}, id)
		if res.Error != nil {
			return fmt.Errorf("store: delete webhook endpoint: %w", Classify(res.Error))
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("webhook endpoint %d: %w", id, ErrNotFound)
		}
		return nil
	})
}

// AddWebhookDeliveries inserts deliveries.
func (s *Store) AddWebhookDeliveries(ctx context.Context, ds []WebhookDelivery) error {
	if len(ds) == 0 {
		return nil
	}
	for i := range ds {
		ds[i].NextAt = DBTime(ds[i].NextAt)
		if !ds[i].CreatedAt.IsZero() {
			ds[i].CreatedAt = DBTime(ds[i].CreatedAt)
		}
	}
	err := s.write(ctx, func(db *gorm.DB) error { return db.CreateInBatches(ds, 200).Error })
	if err != nil {
		return fmt.Errorf("store: add webhook deliveries: %w", err)
	}
	return nil
}

// WebhookDelivery returns one delivery, or ErrNotFound.
func (s *Store) WebhookDelivery(ctx context.Context, id uint) (*WebhookDelivery, error) {
	return first[WebhookDelivery](ctx, s, "webhook delivery", id, false)
}

// WebhookDeliveries returns an endpoint's deliveries, newest first, at most
// limit.
func (s *Store) WebhookDeliveries(ctx context.Context, endpointID uint, limit int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	err := s.conn(ctx).Where("endpoint_id = ?", endpointID).Order("id DESC").Limit(limit).Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("store: webhook deliveries: %w", Classify(err))
	}
	return out, nil
}

// ClaimWebhookDeliveries claims up to limit deliveries due at now for a
// worker, until lease: pending ones of enabled endpoints (test events
// also of disabled ones) whose time has come and that no worker holds,
// each the oldest pending delivery of its endpoint and order key (so one
// appointment's events go out in order, one at a time, while different
// appointments' go out in parallel). Each
// claimed row gets the lease and one more attempt, and is returned as
// claimed. On PostgreSQL candidates are picked with FOR UPDATE SKIP LOCKED
// and the claim is conditional on the row still being free, so several
// instances claim disjoint deliveries.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, now, lease time.Time, limit int) ([]WebhookDelivery, error) {
	now, lease = DBTime(now), DBTime(lease)
	var out []WebhookDelivery
	err := s.Tx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		var cands []WebhookDelivery
		err := db.Table("webhook_deliveries AS d").Select("d.*").Scopes(s.skipLockedOf("d")).
			Where("d.status = ? AND d.next_at <= ? AND (d.lease_until IS NULL OR d.lease_until <= ?)", DeliveryPending, now, now).
			Where("(d.type = ? OR d.endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = ?))", DeliveryTypeTest, true).
			Where(`NOT EXISTS (SELECT 1 FROM webhook_deliveries p
				WHERE p.endpoint_id = d.endpoint_id AND p.order_key = d.order_key AND p.status = ? AND p.id < d.id)`, DeliveryPending).
			Order("d.next_at, d.id").Limit(limit).Find(&cands).Error
		if err != nil {
			return err
		}
		for _, d := range cands {
			res := db.Model(&WebhookDelivery{}).
				Where("id = ? AND status = ? AND (lease_until IS NULL OR lease_until <= ?)", d.ID, DeliveryPending, now).
				Updates(map[string]any{"lease_until": lease, "attempts": gorm.Expr("attempts + 1"), "updated_at": now})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				d.LeaseUntil, d.Attempts, d.UpdatedAt = &lease, d.Attempts+1, now
				out = append(out, d)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim webhook deliveries: %w", Classify(err))
	}
	return out, nil
}

// skipLockedOf is SkipLocked for a query on an aliased table: the lock
// names the alias (PostgreSQL's FOR UPDATE OF), since a subquery reads the
// table again.
func (s *Store) skipLockedOf(alias string) func(*gorm.DB) *gorm.DB {
	return func(db *gorm.DB) *gorm.DB {
		if s.driver == DriverPostgres {
			return db.Clauses(clause.Locking{Strength: "UPDATE", Table: clause.Table{Name: alias}, Options: "SKIP LOCKED"})
		}
		return db
	}
}

// DeliveryAttempt is the outcome of one attempt at a delivery.
type DeliveryAttempt struct {
	At        time.Time
	Code      int
	LatencyMS int
	Error     string
	Response  string
	// Delivered is a 2xx answer. Otherwise RetryAt is when to try again,
	// or nil to give up.
	Delivered bool
	RetryAt   *time.Time
}

// FinishedDelivery is an attempt at a delivery a worker claimed.
type FinishedDelivery struct {
	Delivery *WebhookDelivery
	Attempt  DeliveryAttempt
}

// FinishWebhookDelivery records an attempt at a delivery the worker
// claimed, and reports whether the claim was still its own (a worker whose
// lease ran out finds its delivery claimed again, and writes nothing).
func (s *Store) FinishWebhookDelivery(ctx context.Context, d *WebhookDelivery, a DeliveryAttempt) (bool, error) {
	mine, err := s.FinishWebhookDeliveries(ctx, []FinishedDelivery{{d, a}})
	if err != nil {
		return false, err
	}
	return mine[0], nil
}

// FinishWebhookDeliveries records attempts in one transaction and reports,
// for each, whether the claim was still the worker's. It also keeps each
// endpoint's failing streak: a success ends it, a failure starts it.
func (s *Store) FinishWebhookDeliveries(ctx context.Context, items []FinishedDelivery) ([]bool, error) {
	mine := make([]bool, len(items))
	err := s.Tx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		for i, it := range items {
			d, a := it.Delivery, it.Attempt
			at := DBTime(a.At)
			cols := map[string]any{
				"last_attempt_at": at, "last_code": a.Code, "last_latency_ms": a.LatencyMS,
				"last_error": Clip(a.Error, 500), "last_response": ClipBytes(a.Response, 1000),
				"lease_until": nil, "updated_at": at,
			}
			switch {
			case a.Delivered:
				cols["status"], cols["delivered_at"] = DeliveryDelivered, at
			case a.RetryAt != nil:
				cols["next_at"] = DBTime(*a.RetryAt)
			default:
				cols["status"] = DeliveryFailed
			}
			q := db.Model(&WebhookDelivery{}).Where("id = ? AND status = ? AND attempts = ?", d.ID, DeliveryPending, d.Attempts)
			if d.LeaseUntil != nil {
				q = q.Where("lease_until = ?", DBTime(*d.LeaseUntil))
			}
			res := q.Updates(cols)
			if res.Error != nil {
				return res.Error
			}
			if mine[i] = res.RowsAffected == 1; !mine[i] {
				continue
			}
			ep := db.Model(&WebhookEndpoint{}).Where("id = ?", d.EndpointID)
			var err error
			if a.Delivered {
				err = ep.Where("failing_since IS NOT NULL").Updates(map[string]any{"failing_since": nil}).Error
			} else {
				err = ep.Where("failing_since IS NULL").Updates(map[string]any{"failing_since": at}).Error
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: finish webhook deliveries: %w", Classify(err))
	}
	return mine, nil
}

// DisableFailingEndpoints disables the enabled endpoints failing since
// before cutoff, with the reason says (given the endpoint and its last
// attempted delivery, nil if none), and returns them.
func (s *Store) DisableFailingEndpoints(ctx context.Context, cutoff time.Time, reason func(*WebhookEndpoint, *WebhookDelivery) string, now time.Time) ([]WebhookEndpoint, error) {
	var out []WebhookEndpoint
	err := s.Tx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		var eps []WebhookEndpoint
		if err := db.Scopes(s.forUpdate).Where("enabled = ? AND failing_since <= ?", true, DBTime(cutoff)).Find(&eps).Error; err != nil {
			return err
		}
		for _, e := range eps {
			var last []WebhookDelivery
			if err := db.Where("endpoint_id = ? AND last_attempt_at IS NOT NULL", e.ID).Order("last_attempt_at DESC").Limit(1).Find(&last).Error; err != nil {
				return err
			}
			var ld *WebhookDelivery
			if len(last) == 1 {
				ld = &last[0]
			}
			e.Enabled, e.DisabledReason, e.UpdatedAt = false, Clip(reason(&e, ld), 500), DBTime(now)
			if err := db.Model(&WebhookEndpoint{}).Where("id = ?", e.ID).
				Updates(map[string]any{"enabled": false, "disabled_reason": e.DisabledReason, "updated_at": e.UpdatedAt}).Error; err != nil {
				return err
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store: disable failing endpoints: %w", Classify(err))
	}
	return out, nil
}

// ReleaseWebhookDelivery hands back a claimed delivery whose attempt was
// interrupted before an answer (the worker stopping): it is free again at
// once, and the attempt is not counted.
func (s *Store) ReleaseWebhookDelivery(ctx context.Context, d *WebhookDelivery, now time.Time) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		q := db.Model(&WebhookDelivery{}).Where("id = ? AND status = ? AND attempts = ?", d.ID, DeliveryPending, d.Attempts)
		if d.LeaseUntil != nil {
			q = q.Where("lease_until = ?", DBTime(*d.LeaseUntil))
		}
		return q.Updates(map[string]any{"lease_until": nil, "attempts": gorm.Expr("attempts - 1"), "updated_at": DBTime(now)}).Error
	})
	if err != nil {
		return fmt.Errorf("store: release webhook delivery %d: %w", d.ID, err)
	}
	return nil
}

// OldestDueDelivery returns when the longest-waiting due delivery became
// due (pending, next_at at or before now, endpoint enabled), or nil when
// none waits.
func (s *Store) OldestDueDelivery(ctx context.Context, now time.Time) (*time.Time, error) {
	var d WebhookDelivery
	err := s.conn(ctx).Select("next_at").
		Where("status = ? AND next_at <= ?", DeliveryPending, DBTime(now)).
		Where("endpoint_id IN (SELECT id FROM webhook_endpoints WHERE enabled = ?)", true).
		Order("next_at").Limit(1).Find(&d).Error
	if err != nil {
		return nil, fmt.Errorf("store: oldest due delivery: %w", Classify(err))
	}
	if d.NextAt.IsZero() {
		return nil, nil
	}
	return &d.NextAt, nil
}

// PruneWebhookDeliveries deletes the delivered and failed deliveries last
// changed before cutoff and returns how many.
func (s *Store) PruneWebhookDeliveries(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := s.write(ctx, func(db *gorm.DB) error {
		res := db.Where("status <> ? AND updated_at < ?", DeliveryPending, DBTime(cutoff)).Delete(&WebhookDelivery{})
		n = res.RowsAffected
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("store: prune webhook deliveries: %w", err)
	}
	return n, nil
}
