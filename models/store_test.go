package models_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

func TestMigrateIsIdempotentAndCheckSchema(t *testing.T) {
	ctx := context.Background()
	s, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(t.TempDir(), "m.db")})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckSchema(ctx); !errors.Is(err, models.ErrSchemaOutdated) {
		t.Fatalf("fresh database: CheckSchema = %v, want ErrSchemaOutdated", err)
	}
	n, err := s.Migrate(ctx)
	if err != nil || n != models.MigrationCount() {
		t.Fatalf("Migrate = %d, %v; want %d", n, err, models.MigrationCount())
	}
	if err := s.CheckSchema(ctx); err != nil {
		t.Fatalf("after migrate: %v", err)
	}
	if n, err := s.Migrate(ctx); err != nil || n != 0 {
		t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
	}
}

func TestMigratePostgres(t *testing.T) {
	s := storetest.Postgres(t)
	if err := s.CheckSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Every pooled connection carries the pragmas.
func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	sqlDB, err := s.DB(ctx).DB()
	if err != nil {
		t.Fatal(err)
	}
	const n = 5
	held := 0
	for i := 0; i < n; i++ {
		c, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held++
		var journal string
		var fk, busy int
		if err := c.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&journal); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&busy); err != nil {
			t.Fatal(err)
		}
		// No checkpoint inside a commit: the Store runs them in the background.
		var autockpt int
		if err := c.QueryRowContext(ctx, "PRAGMA wal_autocheckpoint").Scan(&autockpt); err != nil {
			t.Fatal(err)
		}
		if journal != "wal" || fk != 1 || busy < 1000 || autockpt != 0 {
			t.Fatalf("connection %d: journal_mode=%s foreign_keys=%d busy_timeout=%d wal_autocheckpoint=%d",
				i, journal, fk, busy, autockpt)
		}
	}
	if got := sqlDB.Stats().OpenConnections; got < n {
		t.Fatalf("held %d connections but pool has %d open", held, got)
	}
	// Immediate transactions: a write transaction takes the write lock at BEGIN,
	// so a second writer waits instead of failing later with SQLITE_BUSY.
	if dsn := models.SQLiteDSN("x.db"); !strings.Contains(dsn, "_txlock=immediate") {
		t.Fatalf("DSN %q lacks _txlock=immediate", dsn)
	}
}

// Options.SQLiteSynchronous reaches every connection of the pool; NORMAL
// is the default, and an unknown setting is refused.
func TestSQLiteSynchronous(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		setting string
		want    int // PRAGMA synchronous: 1 NORMAL, 2 FULL
	}{{"", 1}, {models.SyncNormal, 1}, {models.SyncFull, 2}} {
		t.Run("setting="+tc.setting, func(t *testing.T) {
			s, err := models.Open(models.Options{DSN: filepath.Join(t.TempDir(), "s.db"), SQLiteSynchronous: tc.setting})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			sqlDB, err := s.DB(ctx).DB()
			if err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				c, err := sqlDB.Conn(ctx)
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				var got int
				if err := c.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&got); err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("connection %d: synchronous=%d, want %d", i, got, tc.want)
				}
			}
		})
	}
	if _, err := models.Open(models.Options{DSN: filepath.Join(t.TempDir(), "x.db"), SQLiteSynchronous: "off"}); err == nil || !strings.Contains(err.Error(), `"off"`) {
		t.Fatalf("Open with synchronous=off: %v, want an error naming it", err)
	}
}

// Fifty concurrent read-then-write transactions, no "database is locked".
func TestConcurrentReadThenWrite(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		if err := s.DB(ctx).Create(&models.Setting{Key: "counter", Value: "0"}).Error; err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- s.Tx(ctx, func(ctx context.Context) error {
					var st models.Setting
					if err := s.DB(ctx).Scopes(models.ForUpdate(s)).First(&st, "key = ?", "counter").Error; err != nil {
						return err
					}
					var v int
					if _, err := fmt.Sscan(st.Value, &v); err != nil {
						return err
					}
					return s.DB(ctx).Model(&st).Update("value", fmt.Sprint(v+1)).Error
				})
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent write: %v", err)
			}
		}
		var st models.Setting
		if err := s.DB(ctx).First(&st, "key = ?", "counter").Error; err != nil {
			t.Fatal(err)
		}
		if st.Value != "50" {
			t.Fatalf("counter = %s, want 50 (a lost update)", st.Value)
		}
	})
}

func TestTxRollsBackEverything(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	boom := errors.New("boom")
	err := s.Tx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Create(&models.Setting{Key: "a", Value: "1"}).Error; err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Tx = %v", err)
	}
	var n int64
	s.DB(ctx).Model(&models.Setting{}).Count(&n)
	if n != 0 {
		t.Fatalf("%d rows survived a rolled-back transaction", n)
	}
}

// A nested Tx is a savepoint: when it fails, what it wrote is undone and
// the outer transaction goes on (on PostgreSQL even after a statement of
// it failed); when it succeeds, its writes join the outer transaction and
// the savepoint is released rather than left open to the commit: at once
// on SQLite, with the next savepoint on PostgreSQL.
func TestNestedTxIsAReleasedSavepoint(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		set := func(ctx context.Context, k string) error {
			return s.DB(ctx).Create(&models.Setting{Key: k, Value: "1"}).Error
		}
		boom := errors.New("boom")
		err := s.Tx(ctx, func(ctx context.Context) error {
			if err := set(ctx, "outer"); err != nil {
				return err
			}
			if err := s.Tx(ctx, func(ctx context.Context) error {
				if err := set(ctx, "failed"); err != nil {
					return err
				}
				return boom
			}); !errors.Is(err, boom) {
				t.Errorf("failing savepoint = %v", err)
			}
			// A statement that fails (a duplicate key) inside a savepoint.
			if err := s.Tx(ctx, func(ctx context.Context) error { return set(ctx, "outer") }); err == nil {
				t.Error("a duplicate key was accepted")
			}
			for i := range 3 {
				if err := s.Tx(ctx, func(ctx context.Context) error { return set(ctx, fmt.Sprint("inner", i)) }); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var keys []string
		if err := s.DB(ctx).Model(&models.Setting{}).Order("key").Pluck("key", &keys).Error; err != nil {
			t.Fatal(err)
		}
		if want := "inner0 inner1 inner2 outer"; strings.Join(keys, " ") != want {
			t.Fatalf("committed %q, want %q", keys, want)
		}

		err = s.Tx(ctx, func(ctx context.Context) error {
			if err := s.Tx(ctx, func(ctx context.Context) error { return set(ctx, "released") }); err != nil {
				return err
			}
			if err := s.Tx(ctx, func(ctx context.Context) error { return set(ctx, "released too") }); err != nil {
				return err
			}
			return s.DB(ctx).Exec("ROLLBACK TO SAVEPOINT apptconfirm_sp1").Error
		})
		if err == nil {
			t.Fatal("the savepoint of a finished nested Tx was still open")
		}
	})
}

func TestClassifyConflictAndNotFound(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		u := models.User{Email: "a@example.com", Name: "A", PasswordHash: "x", Role: models.RoleStaff}
		if err := s.DB(ctx).Create(&u).Error; err != nil {
			t.Fatal(err)
		}
		dup := u
		dup.ID = 0
		if err := models.Classify(s.DB(ctx).Create(&dup).Error); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("duplicate email: %v, want ErrConflict", err)
		}
		var got models.User
		if err := models.Classify(s.DB(ctx).First(&got, 9999).Error); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("missing row: %v, want ErrNotFound", err)
		}
	})
}

func TestUTCTimesRoundTrip(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		at := time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC)
		e := models.AuditEntry{At: at, Actor: "t", Action: "x", Entity: "y"}
		if err := s.DB(ctx).Create(&e).Error; err != nil {
			t.Fatal(err)
		}
		var got models.AuditEntry
		if err := s.DB(ctx).Where("at >= ? AND at < ?", at, at.Add(time.Second)).First(&got).Error; err != nil {
			t.Fatal(err)
		}
		if !got.At.Equal(at) {
			t.Fatalf("at = %v, want %v", got.At, at)
		}
	})
}

// On SQLite, writers of one process take turns: a transaction waits for the
// one before it, a Tx inside a Tx does not wait for itself, and a turn that
// does not come ends in ErrUnavailable once the caller's context ends.
func TestWriterTurn(t *testing.T) {
	s := storetest.SQLite(t)
	ctx := context.Background()
	release, err := s.WriterTurn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitCtx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if err := s.Tx(waitCtx, func(context.Context) error { return nil }); !errors.Is(err, models.ErrUnavailable) {
		t.Fatalf("Tx while another writer has the turn = %v, want ErrUnavailable", err)
	}
	done := make(chan error, 1)
	go func() {
		done <- s.Tx(ctx, func(ctx context.Context) error {
			return s.DB(ctx).Create(&models.Setting{Key: "after", Value: "1"}).Error
		})
	}()
	select {
	case err := <-done:
		t.Fatalf("Tx ran while another writer had the turn: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("Tx after the turn was released: %v", err)
	}
	err = s.Tx(ctx, func(ctx context.Context) error {
		inner, err := s.WriterTurn(ctx)
		if err != nil {
			return err
		}
		inner()
		return s.Tx(ctx, func(context.Context) error { return nil })
	})
	if err != nil {
		t.Fatalf("a Tx inside a Tx: %v", err)
	}
	pg := storetest.Postgres(t)
	r1, err := pg.WriterTurn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r2, err := pg.WriterTurn(ctx)
	if err != nil {
		t.Fatalf("PostgreSQL writers do not take turns, but WriterTurn = %v", err)
	}
	r1()
	r2()
}

// The write-ahead log is copied into the database in the background, and
// emptied when the Store closes.
func TestBackgroundCheckpoints(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	s, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 200 {
		if err := s.DB(ctx).Create(&models.Setting{Key: fmt.Sprintf("k%d", i), Value: "v"}).Error; err != nil {
			t.Fatal(err)
		}
	}
	// The commits went to the log only: the database file grows when a
	// checkpoint copies them, which here only the background one does.
	var logOnly int64
	if fi, err := os.Stat(path); err == nil {
		logOnly = fi.Size()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > 16*4096 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes (%d at first): no checkpoint ran", fi.Size(), logOnly)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() != 0 {
		t.Fatalf("the log holds %d bytes after Close", fi.Size())
	}
	s2, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	var n int64
	if err := s2.DB(ctx).Model(&models.Setting{}).Where("key LIKE ?", "k%").Count(&n).Error; err != nil || n != 200 {
		t.Fatalf("%d settings after reopening (%v), want 200", n, err)
	}
}

// A '#', '?', '%' or space in the path of a SQLite database is part of the
// file's name: the database is created exactly there, and opened again
// from there, not somewhere the URI syntax would point.
func TestSQLitePathWithURICharacters(t *testing.T) {
	ctx := context.Background()
	for _, name := range []string{"a#b", "a?mode=ro", "100%25", "50%", "with space", "q?_journal_mode=DELETE#x"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), name)
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, name+".db")
			for round := range 2 {
				s, err := models.Open(models.Options{DSN: path})
				if err != nil {
					t.Fatalf("round %d: %v", round, err)
				}
				if round == 0 {
					if _, err := s.Migrate(ctx); err != nil {
						s.Close()
						t.Fatal(err)
					}
				} else if err := s.CheckSchema(ctx); err != nil {
					s.Close()
					t.Fatalf("reopened from the same path: %v", err)
				}
				var journal string
				if err := s.DB(ctx).Raw("PRAGMA journal_mode").Scan(&journal).Error; err != nil || journal != "wal" {
					t.Fatalf("journal_mode %q, %v: the connection settings were lost", journal, err)
				}
				s.Close()
			}
			// A backup and a restore in the same directory keep to it too.
			s, err := models.Open(models.Options{DSN: path})
			if err != nil {
				t.Fatal(err)
			}
			copyPath := filepath.Join(dir, name+".copy")
			err = s.Backup(ctx, copyPath, models.BackupOptions{})
			s.Close()
			if err != nil {
				t.Fatalf("Backup: %v", err)
			}
			if err := models.Restore(ctx, copyPath, path); err != nil {
				t.Fatalf("Restore: %v", err)
			}
			if err := os.Remove(copyPath); err != nil {
				t.Fatal(err)
			}
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, e := range entries {
				if e.Name() == name+".db" {
					found = true
				}
			}
			if !found {
				t.Fatalf("no %q in %s: %v", name+".db", dir, entries)
			}
			parent, _ := os.ReadDir(filepath.Dir(dir))
			if len(parent) != 1 {
				t.Fatalf("files outside the named directory: %v", parent)
			}
		})
	}
	// A value that is already a file: URI is used as written.
	if dsn := models.SQLiteDSN("file:x.db?mode=rwc"); !strings.HasPrefix(dsn, "file:x.db?mode=rwc&") {
		t.Fatalf("URI rewritten: %q", dsn)
	}
}

// Two PostgreSQL transactions that lock two rows in opposite orders
// deadlock; the one PostgreSQL ends is retryable, and not a conflict
// (which callers read as "the row changed").
func TestDeadlockIsRetryable(t *testing.T) {
	s := storetest.Postgres(t)
	ctx := t.Context()
	users := []models.User{
		{Email: "a@example.com", Name: "A", PasswordHash: "x", Role: models.RoleStaff},
		{Email: "b@example.com", Name: "B", PasswordHash: "x", Role: models.RoleStaff},
	}
	if err := s.DB(ctx).Create(&users).Error; err != nil {
		t.Fatal(err)
	}
	bothLocked := make(chan struct{}, 2)
	lockBoth := func(first, second uint) error {
		return s.Tx(ctx, func(ctx context.Context) error {
			if err := s.DB(ctx).Exec("UPDATE users SET name = name WHERE id = ?", first).Error; err != nil {
				return err
			}
			bothLocked <- struct{}{}
			for len(bothLocked) < 2 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			return s.DB(ctx).Exec("UPDATE users SET name = name WHERE id = ?", second).Error
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- lockBoth(users[0].ID, users[1].ID) }()
	go func() { errs <- lockBoth(users[1].ID, users[0].ID) }()
	var retryable int
	for range 2 {
		err := <-errs
		switch {
		case err == nil:
		case models.Retryable(err) && !errors.Is(err, models.ErrConflict):
			retryable++
		default:
			t.Errorf("deadlocked transaction: %v, want a retryable error", err)
		}
	}
	if retryable != 1 {
		t.Errorf("%d transactions ended retryable, want 1", retryable)
	}
}
