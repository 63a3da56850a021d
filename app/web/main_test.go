package web

import (
	"os"
	"testing"
)

// TestMain keeps gin quiet: its mode is process-wide state that the
// command sets at start.
func TestMain(m *testing.M) {
	ReleaseMode()
	os.Exit(m.Run())
}
