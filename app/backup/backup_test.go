package backup_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"apptconfirm/app/backup"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Each night a copy named by its time; past Keep the oldest go, other
// files in the directory stay; each copy opens with the data of its night.
func TestNightlyKeepsTheLastCopies(t *testing.T) {
	ctx := context.Background()
	s := storetest.SQLite(t)
	dir := filepath.Join(t.TempDir(), "backups") // made by New
	now := time.Date(2026, 3, 2, 2, 0, 0, 0, time.UTC)
	n, err := backup.New(s, backup.Options{Dir: dir, Keep: 3, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	var paths []string
	for night := range 5 {
		if err := s.DB(ctx).Create(&models.Setting{Key: "night", Value: now.Format(time.DateOnly)}).Error; err != nil {
			// The key exists from the second night on.
			s.DB(ctx).Model(&models.Setting{}).Where("key = ?", "night").Update("value", now.Format(time.DateOnly))
		}
		p, err := n.Run(ctx)
		if err != nil {
			t.Fatalf("night %d: %v", night, err)
		}
		paths = append(paths, p)
		now = now.Add(24 * time.Hour)
	}
	copies, err := backup.Copies(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(copies) != 3 || copies[0] != paths[2] || copies[2] != paths[4] {
		t.Fatalf("copies %v, want the last three of %v", copies, paths)
	}
	if _, err := os.Stat(filepath.Join(dir, "notes.txt")); err != nil {
		t.Fatalf("another file in the directory was deleted: %v", err)
	}
	c, err := models.Open(models.Options{DSN: copies[2]})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Setting(ctx, "night")
	if err != nil || v != "2026-03-06" {
		t.Fatalf("the last copy holds night %q, %v", v, err)
	}
	if err := c.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := backup.New(s, backup.Options{Dir: dir, Keep: 0}); err == nil {
		t.Fatal("keep 0 accepted")
	}
}
