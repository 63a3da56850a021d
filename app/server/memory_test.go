package server

import (
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"

	"apptconfirm/app/config"
	"apptconfirm/app/simulator"
)

// zeros is an endless body that costs the sender no memory.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

// heapInUse is the live heap after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// The report's attack: anonymous 8 MB posts to a server in simulator mode
// (the default without credentials), eight at once, to every place an
// anonymous request can reach: the fake gateway's old path, the login
// form, a wrong webhook secret, the API without a token, an unknown page;
// with and without a Content-Length. The server's heap is measured after
// each round: it does not grow by anything like the bodies' size (the
// report saw 80 MB from eight posts), and the fake gateway records nothing.
func TestAnonymousLargePostsDoNotGrowTheHeap(t *testing.T) {
	a := serveTestApp(t, config.Default())
	const size = 8 << 20
	paths := []string{simulator.Prefix + "/sms", "/login", "/webhooks/smscx/not-the-secret", "/api/v1/patients", "/no-such-page"}
	client := &http.Client{}
	post := func(path string, chunked bool) {
		req, _ := http.NewRequest(http.MethodPost, a.URL+path, io.LimitReader(zeros{}, size))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if !chunked {
			req.ContentLength = size
		}
		resp, err := client.Do(req)
		if err != nil {
			return // the server may close the connection before the body is sent: refused
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("POST %s (chunked %v): %d", path, chunked, resp.StatusCode)
		}
	}
	base := heapInUse()
	var worst uint64
	for _, path := range paths {
		for _, chunked := range []bool{false, true} {
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() { post(path, chunked) })
			}
			wg.Wait()
			now := heapInUse()
			growth := uint64(0)
			if now > base {
				growth = now - base
			}
			worst = max(worst, growth)
			t.Logf("after 8 × 8 MB to %s (chunked %v): heap %.1f MB, %+.1f MB from the start", path, chunked, float64(now)/(1<<20), float64(growth)/(1<<20))
		}
	}
	if worst > 16<<20 {
		t.Fatalf("the heap grew by %.1f MB after 8 MB posts", float64(worst)/(1<<20))
	}
	for _, r := range a.Simulator.Requests() {
		if strings.HasPrefix(r.Path, "/sms") && r.Size >= size {
			t.Fatalf("the fake gateway recorded an anonymous post: %+v", r)
		}
	}
	if n := len(a.Simulator.Requests()); n != 0 {
		t.Fatalf("the fake gateway saw %d requests from outside", n)
	}
}
