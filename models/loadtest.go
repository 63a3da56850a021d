package models

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
)

// LoadTarget is a message a load test reports on: one we sent about an
// appointment, with the patient's number (cmd/benchhttp).
type LoadTarget struct {
	MessageID     uint
	AppointmentID uint
	PatientID     uint
	ProviderID    string
	UUID          string
	To            string
}

// PrepareLoadTargets is for load tests on a seeded database, never for a
// clinic's: it takes up to n messages about an appointment that SMS.CX
// knows (a msgId is recorded), puts them back to "sent" (no delivery
// time), so that a delivery report moves each of them, and returns them.
func (s *Store) PrepareLoadTargets(ctx context.Context, n int) ([]LoadTarget, error) {
	var out []LoadTarget
	err := s.Tx(ctx, func(ctx context.Context) error {
		db := s.conn(ctx)
		err := db.Table("messages").
			Select("messages.id AS message_id, messages.appointment_id, messages.patient_id, messages.provider_message_id AS provider_id, messages.uuid, messages.\"to\"").
			Where("messages.appointment_id IS NOT NULL AND messages.patient_id IS NOT NULL AND messages.provider_message_id <> ''").
			Order("messages.id").Limit(n).Scan(&out).Error
		if err != nil {
			return err
		}
		ids := make([]uint, len(out))
		for i := range out {
			ids[i] = out[i].MessageID
		}
		if len(ids) == 0 {
			return nil
		}
		return db.Table("messages").Where("id IN ?", ids).Updates(map[string]any{
			"status": MsgSent, "provider_state": "SENT", "delivered_at": nil, "reason": "", "error_code": nil,
		}).Error
	})
	if err != nil {
		return nil, fmt.Errorf("prepare load targets: %w", Classify(err))
	}
	return out, nil
}

// CreatePostgresSchema creates an empty schema of its own on the PostgreSQL
// server base names, and returns a DSN whose search_path points at it and a
// function that drops it (load tests and benchmarks).
func CreatePostgresSchema(ctx context.Context, base, prefix string) (string, func(), error) {
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		return "", nil, fmt.Errorf("postgres at %s: %w", base, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := prefix + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		_ = admin.Close()
		return "", nil, fmt.Errorf("parse dsn: %w", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	drop := func() {
		_, _ = admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		_ = admin.Close()
	}
	return u.String(), drop, nil
}
