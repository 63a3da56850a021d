package server

import (
	"context"
	"testing"

	"apptconfirm/app/config"
)

// database.sqlite_synchronous reaches the store's connections.
func TestSQLiteSynchronousConfigured(t *testing.T) {
	for setting, want := range map[string]int{"normal": 1, "full": 2} {
		t.Run(setting, func(t *testing.T) {
			cfg := config.Default()
			cfg.Database.SQLiteSynchronous = setting
			a := serveTestApp(t, cfg)
			var got int
			if err := a.Store.DB(context.Background()).Raw("PRAGMA synchronous").Scan(&got).Error; err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("synchronous=%d, want %d", got, want)
			}
		})
	}
}
