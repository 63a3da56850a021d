package server

import (
	"context"
	"fmt"

	"apptconfirm/app/live"
	"apptconfirm/models"
)

// buildLive picks the broadcaster: in-process on SQLite (one instance), and
// PostgreSQL LISTEN/NOTIFY on PostgreSQL, so that a browser connected to one
// instance sees what another instance processed.
func (a *App) buildLive() error {
	if a.Config.Database.Driver != models.DriverPostgres {
		a.Live = live.NewHub()
		return nil
	}
	pg, err := live.NewPG(a.Config.Database.DSN, live.DefaultChannel, a.Log)
	if err != nil {
		return fmt.Errorf("server: live: %w", err)
	}
	a.Live = pg
	a.closers = append(a.closers, func(context.Context) error { return pg.Close() })
	a.background = append(a.background, func(ctx context.Context) { _ = pg.Run(ctx) })
	return nil
}
