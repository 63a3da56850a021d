package webhook_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"apptconfirm/app/config"
	"apptconfirm/app/server"
	"apptconfirm/models"
)

// app serves the whole apptconfirm, as `apptconfirm serve` does, with short
// read timeouts, and returns it and its base URL.
func app(t *testing.T) (*server.App, string) {
	t.Helper()
	cfg := config.Default()
	cfg.Database.DSN = filepath.Join(t.TempDir(), "app.db")
	cfg.SMSCX.WebhookSecret = "slow-client-test-secret-0123"
	cfg.Server.ReadHeaderTimeout = config.Duration{Duration: 300 * time.Millisecond}
	cfg.Server.ReadTimeout = config.Duration{Duration: 600 * time.Millisecond}
	cfg.Server.ShutdownTimeout = config.Duration{Duration: 5 * time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := server.Build(ctx, cfg, slog.New(slog.DiscardHandler), server.Options{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return a, "http://" + ln.Addr().String()
}

// closedWithin reports whether the server ends conn (EOF or reset) within d.
func closedWithin(conn net.Conn, d time.Duration) (time.Duration, bool) {
	start := time.Now()
	_ = conn.SetReadDeadline(start.Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return time.Since(start), false
	}
	return time.Since(start), true
}

// A client that sends its headers or its body slowly
// is cut off by the server's timeouts, nothing is stored, and the app keeps
// serving.
func TestSlowClientsAreCutOff(t *testing.T) {
	a, base := app(t)
	path := "/webhooks/smscx/" + a.WebhookSecret
	body := `{"event":"receive_sms","data":[{"msgId":"slow-1","from":"+4915100000009","text":"hi"}]}`

	t.Run("headers", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n", path)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := fmt.Fprintf(conn, "X-Slow-%d: a\r\n", i); err != nil {
					return
				}
			}
		}()
		took, closed := closedWithin(conn, 5*time.Second)
		if !closed {
			t.Fatal("a client trickling headers was not cut off within 5s")
		}
		if took > 3*time.Second {
			t.Fatalf("cut off after %s", took)
		}
	})

	t.Run("body", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, len(body))
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for i := 0; i < len(body); i++ {
				select {
				case <-stop:
					return
				case <-time.After(50 * time.Millisecond):
				}
				if _, err := conn.Write([]byte{body[i]}); err != nil {
					return
				}
			}
		}()
		start := time.Now()
		_ = conn.SetReadDeadline(start.Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				t.Fatal("a body trickled past the read timeout was accepted")
			}
		} else {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatal("a client trickling its body was not cut off within 5s")
			}
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Fatalf("cut off after %s", took)
		}
	})

	var n int64
	if err := a.Store.DB(t.Context()).Model(&models.WebhookEvent{}).Count(&n).Error; err != nil || n != 0 {
		t.Fatalf("%d events stored from slow clients (%v)", n, err)
	}
	// The app is healthy: the same webhook, sent normally, is stored.
	resp, err := http.Post(base+path, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("normal POST after the slow clients: %d", resp.StatusCode)
	}
	// And it is processed by the worker Serve runs.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var in int64
		if err := a.Store.DB(t.Context()).Model(&models.InboundMessage{}).Count(&in).Error; err != nil {
			t.Fatal(err)
		}
		if in == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the stored webhook was never processed")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The whole app answers 404 on a wrong secret and 413 over the configured cap.
func TestAppWebhookRoute(t *testing.T) {
	a, base := app(t)
	for _, tc := range []struct {
		path, body string
		want       int
	}{
		{"/webhooks/smscx/wrong-secret", `{"event":"dlr_update","data":[]}`, http.StatusNotFound},
		{"/webhooks/smscx/" + a.WebhookSecret, strings.Repeat(" ", int(a.Config.Webhook.MaxBodyBytes)+1), http.StatusRequestEntityTooLarge},
		{"/webhooks/smscx/" + a.WebhookSecret, `{"event":"dlr_update"`, http.StatusBadRequest},
		{"/webhooks/smscx/" + a.WebhookSecret, `{"event":"dlr_update","data":[]}`, http.StatusOK},
	} {
		resp, err := http.Post(base+tc.path, "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("%s: %d, want %d", tc.path, resp.StatusCode, tc.want)
		}
	}
}
