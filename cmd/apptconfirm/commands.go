package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"

	"apptconfirm/app/clinic"
	"apptconfirm/app/config"
	"apptconfirm/app/server"
	"apptconfirm/models"
)

// loadConfig loads the configuration from the file at path (or the
// default one) and the environment.
func loadConfig(path string) (config.Config, error) {
	return config.Load(configPath(path), os.Environ())
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.Log.SlogLevel()}
	if cfg.Log.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func cmdServe(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, demo bool) error {
	name := "serve"
	if demo {
		name = "demo"
	}
	fs, cfgPath := newFlags(name, stderr)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	if demo {
		// The demo always simulates: it must never reach a real phone.
		cfg.SMSCX.Mode = config.ModeSimulate
		cfg.Database.AutoMigrate = true
		// The demo clinic lives in a real time zone (its second location is
		// in Paris) unless the configuration names one.
		if cfg.Clinic.Timezone == "UTC" {
			cfg.Clinic.Timezone = "America/New_York"
		}
	}
	log := newLogger(cfg, stderr)
	app, err := server.Build(ctx, cfg, log, server.Options{})
	if err != nil {
		return err
	}
	if demo {
		if err := app.SeedDemo(ctx); err != nil {
			_ = app.Close(ctx)
			return err
		}
	}
	if err := firstAdmin(ctx, app, stdin, stdout); err != nil {
		_ = app.Close(ctx)
		return err
	}
	ln, err := net.Listen("tcp", cfg.Server.Addr)
	if err != nil {
		_ = app.Close(ctx)
		return fmt.Errorf("listen on %s (server.addr): %w", cfg.Server.Addr, err)
	}
	fmt.Fprintf(stdout, "apptconfirm %s serving on %s — log in at %s/login\n", version, ln.Addr(), cfg.Server.PublicURL)
	if cfg.SMSCXMode() == config.ModeSimulate {
		fmt.Fprintln(stdout, "SMS.CX simulator mode: nothing reaches a phone.")
	}
	return app.Serve(ctx, ln)
}

// firstAdmin creates the first admin account on an empty database and prints
// its password once. APPTCONFIRM_ADMIN_EMAIL and APPTCONFIRM_ADMIN_PASSWORD
// choose them instead.
func firstAdmin(ctx context.Context, app *server.App, stdin io.Reader, stdout io.Writer) error {
	email := os.Getenv(config.EnvAdminEmail)
	if email == "" {
		email = "admin@example.com"
	}
	password := os.Getenv(config.EnvAdminPassword)
	generated := password == ""
	if generated {
		password = randomPassword()
	}
	created, err := app.Clinic.CreateFirstAdmin(ctx, email, "Administrator", password)
	if err != nil {
		return fmt.Errorf("first admin: %w", err)
	}
	if created {
		fmt.Fprintf(stdout, "\nCreated the first admin account.\n  email:    %s\n", email)
		if generated {
			fmt.Fprintf(stdout, "  password: %s\n(shown once; change it under Admin > Users)\n\n", password)
		} else {
			fmt.Fprintln(stdout, "  password: the one in APPTCONFIRM_ADMIN_PASSWORD")
		}
	}
	return nil
}

func randomPassword() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("migrate", stderr)
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	store, err := models.Open(models.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN, SQLiteSynchronous: cfg.Database.SQLiteSynchronous})
	if err != nil {
		return err
	}
	defer func() { _ = store.Close() }()
	n, err := store.Migrate(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "applied %d migration(s); schema at version %d\n", n, models.LatestVersion())
	return nil
}

func cmdUserAdd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs, cfgPath := newFlags("user add", stderr)
	email := fs.String("email", "", "the user's email (their login)")
	name := fs.String("name", "", "the user's name")
	role := fs.String("role", "staff", "admin or staff")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := fs.Parse(args); err != nil {
		return usageError{err}
	}
	if *email == "" {
		return usageError{errors.New("--email is required")}
	}
	if *name == "" {
		*name = strings.Split(*email, "@")[0]
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return err
	}
	var password string
	if *fromStdin {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		password = strings.TrimRight(line, "\r\n")
	} else {
		password = randomPassword()
	}
	app, err := server.Build(ctx, cfg, newLogger(cfg, stderr), server.Options{})
	if err != nil {
		return err
	}
	defer func() { _ = app.Close(ctx) }()
	u, err := app.Clinic.CreateUser(ctx, models.SystemActor(), clinic.UserInput{Email: *email, Name: *name, Role: *role, Password: password})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created %s user %s (id %d)\n", u.Role, u.Email, u.ID)
	if !*fromStdin {
		fmt.Fprintf(stdout, "password: %s\n", password)
	}
	return nil
}
