package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// runCmd runs the command with args and returns its exit code and output.
func runCmd(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// patientNames lists the first names of the patients in the SQLite file.
func patientNames(t *testing.T, path string) []string {
	t.Helper()
	s, err := models.Open(models.Options{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var names []string
	if err := s.DB(context.Background()).Model(&models.Patient{}).Order("id").Pluck("first_name", &names).Error; err != nil {
		t.Fatal(err)
	}
	return names
}

func addPatient(t *testing.T, path, first string) {
	t.Helper()
	s, err := models.Open(models.Options{DSN: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.DB(context.Background()).Create(&models.Patient{FirstName: first, Phone: "+12025550100", Language: "en"}).Error; err != nil {
		t.Fatal(err)
	}
}

// backup copies the database of a running server; restore refuses while
// the server runs and puts the copy back once it has stopped.
func TestBackupAndRestoreCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "clinic #1.db") // a name URI syntax would misread
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("database:\n  dsn: \""+db+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "migrate", "--config", cfg); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	addPatient(t, db, "Before")

	srv := startInstance(t, "server", []string{"APPTCONFIRM_DATABASE_DSN=" + db})
	copyPath := filepath.Join(dir, "copy.db")
	code, out, errOut := runCmd(t, "backup", "--to", copyPath, "--config", cfg)
	if code != 0 || !strings.Contains(out, "backed up") || !strings.Contains(out, "schema version") {
		t.Fatalf("backup while the server runs: %d %q %q", code, out, errOut)
	}
	if names := patientNames(t, copyPath); strings.Join(names, ",") != "Before" {
		t.Fatalf("the copy holds %v", names)
	}
	code, _, errOut = runCmd(t, "backup", "--to", copyPath, "--config", cfg)
	if code != 2 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("backup over an existing file: %d %q", code, errOut)
	}
	addPatient(t, db, "After")
	if code, _, errOut := runCmd(t, "backup", "--to", filepath.Join(dir, "later.db"), "--config", cfg); code != 0 {
		t.Fatalf("second backup: %d %s", code, errOut)
	}

	code, _, errOut = runCmd(t, "restore", "--from", copyPath, "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "in use by a running server") {
		t.Fatalf("restore while the server runs: %d %q", code, errOut)
	}
	if names := patientNames(t, db); strings.Join(names, ",") != "Before,After" {
		t.Fatalf("the refused restore changed the database: %v", names)
	}

	_ = srv.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-srv.exited:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not stop")
	}
	code, out, errOut = runCmd(t, "restore", "--from", copyPath, "--config", cfg)
	if code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d %q %q", code, out, errOut)
	}
	if names := patientNames(t, db); strings.Join(names, ",") != "Before" {
		t.Fatalf("after the restore the database holds %v", names)
	}
	if code, _, errOut := runCmd(t, "backup", "--to", copyPath, "--force", "--config", cfg); code != 0 {
		t.Fatalf("backup --force: %d %s", code, errOut)
	}
}

// restore refuses a file that is not an apptconfirm database, or one of a
// schema version this build does not know, and leaves the database alone.
func TestRestoreRefusesForeignFiles(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "app.db")
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("database:\n  dsn: "+db+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "migrate", "--config", cfg); code != 0 {
		t.Fatalf("migrate: %d %s", code, errOut)
	}
	addPatient(t, db, "Kept")

	text := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(text, []byte("not a database at all, but long enough to have a header"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other.db")
	o, err := models.Open(models.Options{DSN: other})
	if err != nil {
		t.Fatal(err)
	}
	o.DB(context.Background()).Exec("CREATE TABLE notes (x TEXT)")
	o.Close()
	future, _ := storetest.SQLitePath(t)
	if err := future.DB(context.Background()).Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'later', ?)", models.LatestVersion()+1, time.Now()).Error; err != nil {
		t.Fatal(err)
	}
	futurePath := filepath.Join(dir, "future.db")
	if err := future.Backup(context.Background(), futurePath, models.BackupOptions{}); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name, from, msg string
	}{
		{"a text file", text, "not an apptconfirm database"},
		{"another SQLite database", other, "not an apptconfirm database"},
		{"a newer schema", futurePath, "unknown schema version"},
		{"a missing file", filepath.Join(dir, "nope.db"), "no such file"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := runCmd(t, "restore", "--from", c.from, "--config", cfg)
			if code != 2 || !strings.Contains(errOut, c.msg) {
				t.Fatalf("exit %d, stderr %q; want 2 with %q", code, errOut, c.msg)
			}
			if names := patientNames(t, db); strings.Join(names, ",") != "Kept" {
				t.Fatalf("the database changed: %v", names)
			}
		})
	}
	for _, args := range [][]string{{"restore"}, {"backup"}, {"backup", "--to", "x", "extra"}} {
		if code, _, _ := runCmd(t, append(args, "--config", cfg)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
}

// On PostgreSQL both commands say how to use pg_dump and pg_restore, and
// do nothing.
func TestBackupOnPostgreSQLPointsToPgDump(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte("database:\n  driver: postgres\n  dsn: postgres://app@db.invalid/app\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCmd(t, "backup", "--to", filepath.Join(dir, "x.db"), "--config", cfg)
	if code != 1 || out != "" || !strings.Contains(errOut, "pg_dump --format=custom") || !strings.Contains(errOut, "use pg_dump") {
		t.Fatalf("backup: %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("a file was written")
	}
	code, _, errOut = runCmd(t, "restore", "--from", filepath.Join(dir, "x.dump"), "--config", cfg)
	if code != 1 || !strings.Contains(errOut, "pg_restore --clean") {
		t.Fatalf("restore: %d %q", code, errOut)
	}
}
