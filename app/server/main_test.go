package server

import (
	"os"
	"testing"

	"apptconfirm/app/web"
)

// TestMain keeps gin quiet: its mode is process-wide state that the
// command sets at start.
func TestMain(m *testing.M) {
	web.ReleaseMode()
	os.Exit(m.Run())
}
