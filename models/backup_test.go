package models_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3" // the plain "sqlite3" driver, for files that are not apptconfirm's

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Backup copies a database that another goroutine keeps writing to: the
// copy passes SQLite's integrity check, holds every row committed before
// the backup began, and is a snapshot (the writer's rows form an unbroken
// run, none missing before the last one present).
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	pre := make([]models.Setting, 2000)
	for i := range pre {
		pre[i] = models.Setting{Key: fmt.Sprintf("pre-%05d", i), Value: strings.Repeat("v", 200)}
	}
	if err := s.DB(ctx).CreateInBatches(pre, 200).Error; err != nil {
		t.Fatal(err)
	}

	var written atomic.Int64
	stop := make(chan struct{})
	started := make(chan struct{})
	writerErr := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				writerErr <- nil
				return
			default:
			}
			if err := s.DB(ctx).Create(&models.Setting{Key: fmt.Sprintf("w-%06d", i), Value: "x"}).Error; err != nil {
				writerErr <- err
				return
			}
			written.Add(1)
			if i == 9 {
				close(started)
			}
		}
	}()
	<-started
	before := written.Load()
	out := filepath.Join(t.TempDir(), "backup.db")
	err := s.Backup(ctx, out, models.BackupOptions{})
	during := written.Load() - before
	close(stop)
	if werr := <-writerErr; werr != nil {
		t.Fatalf("the writer failed: %v", werr)
	}
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	t.Logf("%d rows written while the backup ran", during)

	b := openStore(t, out)
	checkIntegrity(t, b)
	if err := b.CheckSchema(ctx); err != nil {
		t.Fatalf("the copy's schema: %v", err)
	}
	var n int64
	b.DB(ctx).Model(&models.Setting{}).Where("key LIKE 'pre-%'").Count(&n)
	if n != int64(len(pre)) {
		t.Fatalf("the copy has %d of the %d rows committed before it", n, len(pre))
	}
	var keys []string
	b.DB(ctx).Model(&models.Setting{}).Where("key LIKE 'w-%'").Order("key").Pluck("key", &keys)
	if int64(len(keys)) < before {
		t.Fatalf("the copy has %d of the writer's rows; %d were committed before the backup began", len(keys), before)
	}
	for i, k := range keys {
		if k != fmt.Sprintf("w-%06d", i) {
			t.Fatalf("the copy is not a snapshot: row %d is %s", i, k)
		}
	}
	if names := dirNames(t, filepath.Dir(out)); slices.ContainsFunc(names, isTemp) {
		t.Fatalf("backup left %v", names)
	}
}

func TestBackupRefusesAnExistingFile(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "backup.db")
	if err := os.WriteFile(out, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Backup(ctx, out, models.BackupOptions{}); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Backup over a file: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Fatal("the existing file was changed")
	}
	if err := s.Backup(ctx, out, models.BackupOptions{Overwrite: true}); err != nil {
		t.Fatalf("Backup with Overwrite: %v", err)
	}
	checkIntegrity(t, openStore(t, out))
	if names := dirNames(t, dir); len(names) == 0 || names[0] != "backup.db" || slices.ContainsFunc(names, isTemp) {
		t.Fatalf("left %v", names)
	}
}

func TestBackupOnPostgres(t *testing.T) {
	s := storetest.Postgres(t)
	err := s.Backup(context.Background(), filepath.Join(t.TempDir(), "x.db"), models.BackupOptions{})
	if !errors.Is(err, models.ErrUsePgDump) || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("Backup on PostgreSQL: %v, want ErrUsePgDump", err)
	}
}

// Restore puts a copy back over a stopped database; opened again, the
// database has the copy's data, and nothing of the old one is left beside
// it.
func TestRestore(t *testing.T) {
	ctx := context.Background()
	src := storetest.SQLite(t)
	seed(t, src, "copy")
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := src.Backup(ctx, backup, models.BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	want := snapshot(t, src)

	dir := t.TempDir()
	target := filepath.Join(dir, "app.db")
	old := openStore(t, target)
	if _, err := old.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	seed(t, old, "old")
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	// A stale log and index from a crash would be applied to the new file.
	for _, sidecar := range []string{"-wal", "-shm", "-journal"} {
		if err := os.WriteFile(target+sidecar, []byte("stale"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := models.Restore(ctx, backup, target); err != nil {
		t.Fatalf("Restore: %v", err)
	}
	if names := dirNames(t, dir); !slices.Equal(names, []string{"app.db"}) {
		t.Fatalf("after restore the directory holds %v", names)
	}
	got := openStore(t, target)
	checkIntegrity(t, got)
	if err := got.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if g := snapshot(t, got); !slices.Equal(g, want) {
		t.Fatalf("restored data %v, want %v", g, want)
	}

	// A stopped server's own file, still marked for WAL mode, is a copy
	// too; it is installed as a single file. While open, it is refused.
	again := filepath.Join(t.TempDir(), "again.db")
	if err := models.Restore(ctx, target, again); err == nil || !strings.Contains(err.Error(), "open somewhere") {
		t.Fatalf("Restore from a database in use = %v", err)
	}
	if err := got.Close(); err != nil {
		t.Fatal(err)
	}
	if err := models.Restore(ctx, target, again); err != nil {
		t.Fatalf("Restore from a stopped database: %v", err)
	}
	if names := dirNames(t, filepath.Dir(again)); !slices.Equal(names, []string{"again.db"}) {
		t.Fatalf("after restore the directory holds %v", names)
	}
	if g := snapshot(t, openStore(t, again)); !slices.Equal(g, want) {
		t.Fatalf("restored data %v, want %v", g, want)
	}

	// A database that does not exist yet is created, and names that mean
	// something in a URI are only names.
	odd := filepath.Join(t.TempDir(), "a #1?x=y %41")
	if err := os.Mkdir(odd, 0o700); err != nil {
		t.Fatal(err)
	}
	oddBackup := filepath.Join(odd, "backup #2.db")
	if err := src.Backup(ctx, oddBackup, models.BackupOptions{}); err != nil {
		t.Fatalf("Backup to %q: %v", oddBackup, err)
	}
	fresh := filepath.Join(odd, "new?.db")
	if err := models.Restore(ctx, oddBackup, fresh); err != nil {
		t.Fatalf("Restore to a new file: %v", err)
	}
	if g := snapshot(t, openStore(t, fresh)); !slices.Equal(g, want) {
		t.Fatalf("restored data %v, want %v", g, want)
	}
	if names := dirNames(t, odd); slices.ContainsFunc(names, isTemp) || !slices.Contains(names, "backup #2.db") {
		t.Fatalf("the directory holds %v", names)
	}
}

// Restore refuses what is not an apptconfirm database of a known version,
// and leaves the target as it was.
func TestRestoreRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	src := storetest.SQLite(t)
	good := filepath.Join(t.TempDir(), "good.db")
	if err := src.Backup(ctx, good, models.BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 64<<10)
	_, _ = rand.Read(random)

	for _, tc := range []struct {
		name string
		make func(t *testing.T, path string)
		want error // nil: any error
	}{
		{"random bytes", writeBytes(random), models.ErrNotApptconfirm},
		{"empty file", writeBytes(nil), models.ErrNotApptconfirm},
		{"a text file", writeBytes([]byte("id,name\n1,Anna\n")), models.ErrNotApptconfirm},
		{"SQLite header then garbage", writeBytes(append([]byte("SQLite format 3\x00"), random...)), nil},
		{"a damaged copy", writeBytes(damage(goodBytes)), nil},
		{"another application's SQLite database", func(t *testing.T, path string) {
			execRaw(t, path, "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)", "INSERT INTO notes (body) VALUES ('hi')")
		}, models.ErrNotApptconfirm},
		{"a golang-migrate schema_migrations table", func(t *testing.T, path string) {
			execRaw(t, path, "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)",
				"INSERT INTO schema_migrations VALUES (3, 0)")
		}, models.ErrNotApptconfirm},
		{"migrations with a gap", func(t *testing.T, path string) {
			copyBytes(t, goodBytes, path)
			execRaw(t, path, "DELETE FROM schema_migrations WHERE version = 1")
		}, models.ErrNotApptconfirm},
		{"a newer schema version", func(t *testing.T, path string) {
			copyBytes(t, goodBytes, path)
			execRaw(t, path, fmt.Sprintf("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%d, 'from the future', '2030-01-01')", models.LatestVersion()+1))
		}, models.ErrUnknownSchema},
		{"a database with its log beside it", func(t *testing.T, path string) {
			copyBytes(t, goodBytes, path)
			if err := os.WriteFile(path+"-wal", []byte("frames"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"a database open in a store", func(t *testing.T, path string) {
			copyBytes(t, goodBytes, path)
			checkIntegrity(t, openStore(t, path))
		}, nil},
		{"missing", func(*testing.T, string) {}, fs.ErrNotExist},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := filepath.Join(t.TempDir(), "from.db")
			tc.make(t, from)
			dir := t.TempDir()
			target := filepath.Join(dir, "app.db")
			copyBytes(t, goodBytes, target)
			before := fileSum(t, target)

			err := models.Restore(ctx, from, target)
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Restore = %v, want %v", err, tc.want)
			}
			t.Logf("refused: %v", err)
			if fileSum(t, target) != before {
				t.Fatal("the target was changed")
			}
			if names := dirNames(t, dir); !slices.Equal(names, []string{"app.db"}) {
				t.Fatalf("left behind: %v", names)
			}
		})
	}

	t.Run("onto itself", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "app.db")
		copyBytes(t, goodBytes, path)
		if err := models.Restore(ctx, path, path); err == nil {
			t.Fatal("restored a file onto itself")
		}
	})
	t.Run("over a file that is not a database", func(t *testing.T) {
		target := filepath.Join(t.TempDir(), "app.db")
		if err := os.WriteFile(target, random, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := models.Restore(ctx, good, target); err == nil || !strings.Contains(err.Error(), "not a SQLite database") {
			t.Fatalf("Restore over random bytes = %v", err)
		}
	})
}

// Restore refuses a database a server has open, here one in this process,
// and succeeds once the server has stopped.
func TestRestoreRefusesADatabaseInUse(t *testing.T) {
	ctx := context.Background()
	src := storetest.SQLite(t)
	seed(t, src, "copy")
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := src.Backup(ctx, backup, models.BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	live, target := storetest.SQLitePath(t)
	seed(t, live, "live")
	liveData := snapshot(t, live)

	if err := models.Restore(ctx, backup, target); !errors.Is(err, models.ErrDatabaseInUse) {
		t.Fatalf("Restore under an open store = %v, want ErrDatabaseInUse", err)
	}
	// The server goes on undisturbed.
	seed(t, live, "after")
	if got := snapshot(t, live); len(got) != len(liveData)+2 {
		t.Fatalf("the live database has %v", got)
	}
	if err := live.Close(); err != nil {
		t.Fatal(err)
	}
	if err := models.Restore(ctx, backup, target); err != nil {
		t.Fatalf("Restore after the store closed: %v", err)
	}
	if got, want := snapshot(t, openStore(t, target)), snapshot(t, src); !slices.Equal(got, want) {
		t.Fatalf("restored %v, want %v", got, want)
	}
}

// holdEnv names the database the helper process keeps open.
const holdEnv = "APPTCONFIRM_TEST_HOLD_DATABASE"

// The same with the server in another process, as in real life: SQLite's
// locks between processes are the file system's.
func TestRestoreRefusesADatabaseOpenInAnotherProcess(t *testing.T) {
	ctx := context.Background()
	src := storetest.SQLite(t)
	backup := filepath.Join(t.TempDir(), "backup.db")
	if err := src.Backup(ctx, backup, models.BackupOptions{}); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "app.db")
	copyBytes(t, mustRead(t, backup), target)

	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestHoldDatabaseOpenHelper$", "-test.v")
	cmd.Env = append(os.Environ(), holdEnv+"="+target)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			_ = stdin.Close()
			_ = cmd.Wait()
		}
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if sc.Text() == "holding" {
				ready <- true
				_, _ = io.Copy(io.Discard, stdout)
				return
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("the helper process ended before it opened the database")
		}
	case <-time.After(time.Minute):
		t.Fatal("the helper process did not open the database within a minute")
	}

	if err := models.Restore(ctx, backup, target); !errors.Is(err, models.ErrDatabaseInUse) {
		t.Fatalf("Restore under another process = %v, want ErrDatabaseInUse", err)
	}
	_ = stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("helper: %v", err)
	}
	exited = true
	if err := models.Restore(ctx, backup, target); err != nil {
		t.Fatalf("Restore after the process ended: %v", err)
	}
}

// TestHoldDatabaseOpenHelper is the other process of
// TestRestoreRefusesADatabaseOpenInAnotherProcess: it opens the database
// as the server does and keeps it open until its standard input closes.
func TestHoldDatabaseOpenHelper(t *testing.T) {
	path := os.Getenv(holdEnv)
	if path == "" {
		t.Skip("runs only as the helper process of TestRestoreRefusesADatabaseOpenInAnotherProcess")
	}
	s, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.CheckSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	fmt.Println("holding")
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// FuzzRestore feeds Restore arbitrary files: it either refuses them and
// leaves the target as it was, or installs a database that opens at a
// known schema version.
func FuzzRestore(f *testing.F) {
	dir := f.TempDir()
	src, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: filepath.Join(dir, "src.db")})
	if err != nil {
		f.Fatal(err)
	}
	if _, err := src.Migrate(context.Background()); err != nil {
		f.Fatal(err)
	}
	good := filepath.Join(dir, "good.db")
	if err := src.Backup(context.Background(), good, models.BackupOptions{}); err != nil {
		f.Fatal(err)
	}
	_ = src.Close()
	// The smallest pages make the smallest seed: the fuzzer slows to a
	// crawl on inputs of hundreds of kilobytes.
	execRaw(f, good, "PRAGMA page_size = 512", "VACUUM")
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(goodBytes)
	f.Add(damage(goodBytes))
	f.Add([]byte("SQLite format 3\x00"))
	f.Add([]byte("not a database"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		from := filepath.Join(t.TempDir(), "from.db")
		if err := os.WriteFile(from, data, 0o600); err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(t.TempDir(), "app.db")
		copyBytes(t, goodBytes, target)
		before := fileSum(t, target)
		if err := models.Restore(ctx, from, target); err != nil {
			if fileSum(t, target) != before {
				t.Fatalf("refused (%v) but changed the target", err)
			}
			return
		}
		s := openStore(t, target)
		checkIntegrity(t, s)
		if v, err := s.SchemaVersion(ctx); err != nil || v < 1 || v > models.LatestVersion() {
			t.Fatalf("restored a database at version %d, %v", v, err)
		}
	})
}

// seed writes two rows tagged with tag: a user and a setting.
func seed(t *testing.T, s *models.Store, tag string) {
	t.Helper()
	ctx := context.Background()
	if err := s.DB(ctx).Create(&models.User{Email: tag + "@clinic.example", Name: tag, PasswordHash: "x", Role: models.RoleStaff}).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.DB(ctx).Create(&models.Setting{Key: "seed-" + tag, Value: tag}).Error; err != nil {
		t.Fatal(err)
	}
}

// snapshot lists the users' e-mails and the settings of s.
func snapshot(t *testing.T, s *models.Store) []string {
	t.Helper()
	ctx := context.Background()
	var emails, keys []string
	if err := s.DB(ctx).Model(&models.User{}).Order("email").Pluck("email", &emails).Error; err != nil {
		t.Fatal(err)
	}
	if err := s.DB(ctx).Model(&models.Setting{}).Order("key").Pluck("key", &keys).Error; err != nil {
		t.Fatal(err)
	}
	return append(emails, keys...)
}

// openStore opens the SQLite file at path. The path goes in as a file: URI
// with its special characters escaped: fuzz tests' temporary directories
// have a "#" in their names, which a plain path would pass on as the
// start of a URI fragment.
func openStore(t *testing.T, path string) *models.Store {
	t.Helper()
	uri := (&url.URL{Scheme: "file", OmitHost: true, Path: path}).String()
	s, err := models.Open(models.Options{Driver: models.DriverSQLite, DSN: uri})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func checkIntegrity(t *testing.T, s *models.Store) {
	t.Helper()
	var result string
	if err := s.DB(context.Background()).Raw("PRAGMA integrity_check").Row().Scan(&result); err != nil || result != "ok" {
		t.Fatalf("integrity_check = %q, %v", result, err)
	}
}

// execRaw runs statements on the SQLite file at path with the plain driver.
func execRaw(t testing.TB, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range stmts {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func writeBytes(b []byte) func(t *testing.T, path string) {
	return func(t *testing.T, path string) { copyBytes(t, b, path) }
}

func copyBytes(t *testing.T, b []byte, path string) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// damage overwrites the second half of a database file's pages with junk,
// keeping its header.
func damage(b []byte) []byte {
	out := slices.Clone(b)
	for i := len(out) / 2; i < len(out); i++ {
		out[i] = byte(i * 7)
	}
	return out
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	return sha256.Sum256(mustRead(t, path))
}

// dirNames lists a directory, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}

// isTemp reports whether name is one of Backup's or Restore's temporary
// files.
func isTemp(name string) bool {
	return strings.Contains(name, ".backup-") || strings.Contains(name, ".restore-")
}
