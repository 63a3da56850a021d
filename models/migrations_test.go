package models_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// DedupKey is a stored format: keys already in databases must keep
// matching. The expected values come from Python's hashlib and base64, not
// from this code.
func TestDedupKeyIsFixed(t *testing.T) {
	for name, want := range map[string]string{
		"dlr_update:9eee-1:DELIVERED": "QKOpKKunvmBdCvHFSM-cLw",
		"new_optout:1843":             "ld3U-TXl6nafgHNti4w6GA",
		"":                            "47DEQpj8HBSa-_TImW-5JA",
		"receive_sms:h:" + strings.Repeat("ab", 32): "C2SiIe8t0agsEvYch5fVeA",
	} {
		if got := models.DedupKey(name); got != want {
			t.Errorf("DedupKey(%q) = %q, want %q", name, got, want)
		}
	}
}

// Migration 3 turns the de-duplication names that schema version 2 stored
// as keys into their hashes, page after page, so that an event SMS.CX
// retries across the upgrade is still a duplicate.
func TestMigrationHashesDedupKeys(t *testing.T) {
	atVersion(t, 2, func(t *testing.T, ctx context.Context, s *models.Store) {
		// More names than one page of the rewrite holds, and a key
		// (as a newer instance stores it), which stays as it is.
		names := []string{"QKOpKKunvmBdCvHFSM-cLw", "new_optout:1843", "otp_update:sha256:" + fmt.Sprintf("%064x", 7), "dlr_update:h:" + fmt.Sprintf("%064x", 9)}
		for i := range 2500 {
			names = append(names, fmt.Sprintf("dlr_update:%08x-msg:DELIVERED", i))
		}
		now := time.Now().UTC()
		for _, name := range names {
			ev := models.WebhookEvent{Event: "dlr_update", DedupKey: name, Raw: "{}", ReceivedAt: now}
			if err := s.DB(ctx).Create(&ev).Error; err != nil {
				t.Fatal(err)
			}
		}

		if n, err := s.MigrateTo(ctx, 3); err != nil || n != 1 {
			t.Fatalf("MigrateTo(3) = %d, %v; want 1, nil", n, err)
		}
		var stored []models.WebhookEvent
		if err := s.DB(ctx).Order("id").Find(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != len(names) {
			t.Fatalf("%d events after the migration, want %d", len(stored), len(names))
		}
		for i, ev := range stored {
			want := models.DedupKey(names[i])
			if i == 0 {
				want = names[0]
			}
			if ev.DedupKey != want {
				t.Fatalf("event %d (%s): key %q, want %q", ev.ID, names[i], ev.DedupKey, want)
			}
		}

		// A retry of a stored event is a duplicate; a new event is not.
		insert := "INSERT INTO webhook_events (event, dedup_key, raw, received_at, attempts, result, flagged) VALUES (?,?,'{}',?,0,'',false) ON CONFLICT (dedup_key) DO NOTHING"
		for _, tc := range []struct {
			name string
			want int64
		}{{names[100], 0}, {"new_optout:1843", 0}, {"dlr_update:9eee-1:DELIVERED", 0}, {"dlr_update:fresh-msg:DELIVERED", 1}} {
			res := s.DB(ctx).Exec(insert, "dlr_update", models.DedupKey(tc.name), now)
			if res.Error != nil || res.RowsAffected != tc.want {
				t.Fatalf("insert of %s: %d rows, %v; want %d", tc.name, res.RowsAffected, res.Error, tc.want)
			}
		}
	})
}

// Migrations 5 and 6 add token scopes and expiry (an existing token keeps
// read-write, no expiry), the in-doubt mark (set on a message sending when
// the upgrade runs) and the erasure mark of patients.
func TestMigrationsFiveAndSix(t *testing.T) {
	atVersion(t, 4, func(t *testing.T, ctx context.Context, s *models.Store) {
		now := time.Now().UTC()
		for _, stmt := range []string{
			"INSERT INTO api_tokens (name, prefix, hash, created_at) VALUES ('old', 'ac_abcdef', 'h1', ?)",
			"INSERT INTO messages (uuid, kind, \"to\", body, status, send_at, reason, attempts, campaign_id, parts, cost, provider_state, created_at, updated_at, rule_name, provider_message_id) VALUES ('u-1', 'reminder', '+15550000001', '', 'sending', ?, '', 1, '', 0, 0, '', ?, ?, '', '')",
			"INSERT INTO messages (uuid, kind, \"to\", body, status, send_at, reason, attempts, campaign_id, parts, cost, provider_state, created_at, updated_at, rule_name, provider_message_id) VALUES ('u-2', 'reminder', '+15550000001', '', 'planned', ?, '', 0, '', 0, 0, '', ?, ?, '', '')",
		} {
			args := []any{now}
			if strings.Contains(stmt, "messages") {
				args = []any{now, now, now}
			}
			if err := s.DB(ctx).Exec(stmt, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		if n, err := s.MigrateTo(ctx, 6); err != nil || n != 2 {
			t.Fatalf("MigrateTo(6) = %d, %v; want 2, nil", n, err)
		}
		var tok models.APIToken
		if err := s.DB(ctx).Where("name = 'old'").Take(&tok).Error; err != nil {
			t.Fatal(err)
		}
		if tok.Scope != models.ScopeReadWrite || tok.ExpiresAt != nil {
			t.Fatalf("old token: scope %q, expires %v", tok.Scope, tok.ExpiresAt)
		}
		var ms []models.Message
		if err := s.DB(ctx).Order("uuid").Find(&ms).Error; err != nil {
			t.Fatal(err)
		}
		if len(ms) != 2 || !ms[0].InDoubt || ms[1].InDoubt {
			t.Fatalf("in doubt after the migration: %+v", ms)
		}
		// The rest of the way, so that the model below matches the table.
		if _, err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		p := models.Patient{FirstName: "A", Phone: "+15550000001", Language: "en", ErasedAt: &now}
		if err := s.DB(ctx).Create(&p).Error; err != nil {
			t.Fatal(err)
		}
		if err := s.CheckSchema(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// Changes developed side by side land in any order: a database migrated by
// a build that had version 7 but not yet 6 is at version 7 and lacks 6.
// CheckSchema says so, and Migrate applies 6, though it is below the
// highest applied version.
func TestMigrateAppliesAMissingLowerVersion(t *testing.T) {
	for _, db := range []struct{ name, driver string }{{"sqlite", models.DriverSQLite}, {"postgres", models.DriverPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), "hole.db")
			if db.driver == models.DriverPostgres {
				dsn = storetest.PostgresDSN(t)
			}
			s, err := models.Open(models.Options{Driver: db.driver, DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			// Version 6 never ran here: its column and its record are absent.
			if err := s.DB(ctx).Migrator().DropColumn(&models.Patient{}, "ErasedAt"); err != nil {
				t.Fatal(err)
			}
			if err := s.ForgetMigration(ctx, 6); err != nil {
				t.Fatal(err)
			}
			if v, err := s.SchemaVersion(ctx); err != nil || v != models.LatestVersion() {
				t.Fatalf("SchemaVersion = %d, %v", v, err)
			}
			if err := s.CheckSchema(ctx); !errors.Is(err, models.ErrSchemaOutdated) {
				t.Fatalf("CheckSchema with version 6 missing = %v, want ErrSchemaOutdated", err)
			}
			if n, err := s.Migrate(ctx); err != nil || n != 1 {
				t.Fatalf("Migrate = %d, %v; want the one missing migration applied", n, err)
			}
			if !s.DB(ctx).Migrator().HasColumn(&models.Patient{}, "ErasedAt") {
				t.Fatal("patients.erased_at is still missing")
			}
			if err := s.CheckSchema(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := s.Migrate(ctx); err != nil || n != 0 {
				t.Fatalf("Migrate again = %d, %v", n, err)
			}
		})
	}
}

// atVersion runs fn on SQLite and on PostgreSQL, each time on a fresh
// database migrated only up to version, to test the migrations after it.
func atVersion(t *testing.T, version int, fn func(t *testing.T, ctx context.Context, s *models.Store)) {
	t.Helper()
	for _, db := range []struct{ name, driver string }{{"sqlite", models.DriverSQLite}, {"postgres", models.DriverPostgres}} {
		t.Run(db.name, func(t *testing.T) {
			ctx := context.Background()
			dsn := filepath.Join(t.TempDir(), fmt.Sprintf("v%d.db", version))
			if db.driver == models.DriverPostgres {
				dsn = storetest.PostgresDSN(t)
			}
			s, err := models.Open(models.Options{Driver: db.driver, DSN: dsn})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if _, err := s.MigrateTo(ctx, version); err != nil {
				t.Fatal(err)
			}
			fn(t, ctx, s)
		})
	}
}
