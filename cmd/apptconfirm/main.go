// Command apptconfirm runs the appointment confirmation service and its
// maintenance commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // zones load even on hosts without zoneinfo

	"apptconfirm/app/web"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usage = `usage: apptconfirm [command] [--config PATH] [flags]

commands:
  serve          start the web server, scheduler and webhook receiver (the default)
  demo           seed a demo clinic and serve in simulator mode
  migrate        apply pending database migrations
  user add       create a user: --email, --name, --role admin|staff (password asked, or --password-stdin)
  token create   print a new REST API token: --name NAME [--scope read|read_write] [--expires 90d|DATE]
                 (shown once; revoke it under Admin > API tokens)
  backup         copy the SQLite database while it runs: --to FILE [--force] (on PostgreSQL: use pg_dump)
  restore        put a copy back, with the server stopped: --from FILE (on PostgreSQL: use pg_restore)
  seed           insert synthetic appointments for benchmarks: --count N (never on a real clinic's database)
  version        print the version

Every command reads config.yaml (or --config PATH) and APPTCONFIRM_* variables.
`

// run is main without the process: it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	web.ReleaseMode()
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
		if (cmd == "user" || cmd == "token") && len(args) > 0 {
			cmd, args = cmd+" "+args[0], args[1:]
		}
	}
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stdin, stdout, stderr, false)
	case "demo":
		err = cmdServe(ctx, args, stdin, stdout, stderr, true)
	case "migrate":
		err = cmdMigrate(ctx, args, stdout, stderr)
	case "user add":
		err = cmdUserAdd(ctx, args, stdin, stdout, stderr)
	case "token create":
		err = cmdTokenCreate(ctx, args, stdout, stderr)
	case "seed":
		err = cmdSeed(ctx, args, stdout, stderr)
	case "backup":
		err = cmdBackup(ctx, args, stdout, stderr)
	case "restore":
		err = cmdRestore(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "apptconfirm", version)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		fmt.Fprintf(stderr, "apptconfirm: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "apptconfirm %s: %v\n", cmd, err)
			return 2
		}
		fmt.Fprintf(stderr, "apptconfirm %s: %v\n", cmd, err)
		return 1
	}
	return 0
}

// usageError is a mistake on the command line (exit code 2).
type usageError struct{ error }

// newFlags returns a flag set with the --config flag every command takes.
func newFlags(name string, stderr io.Writer) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := fs.String("config", "", "path to config.yaml (default: ./config.yaml when present)")
	return fs, cfg
}

// configPath returns the explicit path, or config.yaml when it exists here.
func configPath(explicit string) string {
	if explicit != "" {
		return explicit
	}
	if _, err := os.Stat("config.yaml"); err == nil {
		return "config.yaml"
	}
	return ""
}
