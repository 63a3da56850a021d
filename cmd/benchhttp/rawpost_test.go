package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

func TestRawPosterPostsAndKeepsTheConnection(t *testing.T) {
	var mu sync.Mutex
	var bodies, remotes []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(b))
		remotes = append(remotes, r.RemoteAddr)
		mu.Unlock()
		switch string(b) {
		case `"bad"`:
			w.WriteHeader(http.StatusBadRequest)
		case `"bye"`:
			w.Header().Set("Connection", "close")
		}
		_, _ = io.WriteString(w, "answer body")
	}))
	defer srv.Close()

	p, err := newRawPoster(srv.URL+"/webhooks/smscx/s3cret", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	for _, c := range []struct {
		body string
		want int
	}{{`{"a":1}`, 200}, {`"bad"`, 400}, {`"bye"`, 200}, {`{"b":2}`, 200}} {
		got, err := p.post(c.body)
		if err != nil || got != c.want {
			t.Fatalf("post(%s) = %d, %v; want %d", c.body, got, err, c.want)
		}
	}
	if want := "POST /webhooks/smscx/s3cret application/json {\"a\":1}"; bodies[0] != want {
		t.Errorf("server saw %q, want %q", bodies[0], want)
	}
	if remotes[0] != remotes[1] || remotes[1] != remotes[2] {
		t.Errorf("the first three posts came over %v, want one kept-alive connection", remotes[:3])
	}
	if remotes[3] == remotes[2] {
		t.Errorf("the post after a Connection: close answer reused the closed connection")
	}
}

func TestRawPosterRedialsAfterAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	p, err := newRawPoster(srv.URL+"/x", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer p.close()
	if got, err := p.post("{}"); err != nil || got != 200 {
		t.Fatalf("first post: %d, %v", got, err)
	}
	srv.CloseClientConnections()
	if _, err := p.post("{}"); err == nil {
		// The server may have closed the connection before the write
		// reached it, or after; either way the next post must work.
		t.Log("post over a connection closed by the server did not fail")
	}
	if got, err := p.post("{}"); err != nil || got != 200 {
		t.Fatalf("post after the server dropped the connection: %d, %v", got, err)
	}
	srv.Close()
	if _, err := newRawPoster("https://example.com/x", time.Second); err == nil {
		t.Error("an https URL was accepted")
	}
}
