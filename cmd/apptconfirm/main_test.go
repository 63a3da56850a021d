package main

import (
	"context"
	"encoding/json"
	"os"
	"os/signal"
	"syscall"
	"testing"
)

// envChildArgs, when set, makes the test binary act as the apptconfirm
// command with these (JSON-encoded) arguments, so tests can start real
// `apptconfirm serve` processes without building a second binary.
const envChildArgs = "APPTCONFIRM_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if raw := os.Getenv(envChildArgs); raw != "" {
		var args []string
		if err := json.Unmarshal([]byte(raw), &args); err != nil {
			os.Stderr.WriteString("bad " + envChildArgs + ": " + err.Error() + "\n")
			os.Exit(2)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, args, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}
