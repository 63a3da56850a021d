package outbound_test

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"apptconfirm/app/outbound"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// Without allow_private, addresses are checked when dialled, after name
// resolution: loopback, 10/8, the metadata address and a name resolving to
// 127.0.0.1 are refused, and the receiver behind them hears nothing.
func TestForbiddenAddressesRefusedAtDialTime(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store) // registration allows them; delivery must not
	r := newReceiver(t)
	u, _ := url.Parse(r.srv.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	targets := map[string]string{
		r.URL():                              "loopback",
		"http://localhost:" + port + "/hook": "loopback",
		"http://[::ffff:127.0.0.1]:" + port + "/": "loopback",
		"http://10.0.0.1/hook":                    "private",
		"http://169.254.169.254/latest/meta-data": "link-local or metadata",
	}
	for target := range targets {
		e.endpoint(t, target, false, "appointment.created")
	}
	e.book(t, "Léa")
	w := e.worker(outbound.WorkerOptions{Client: outbound.NewClient(false, outbound.Timeout)})
	if n, err := w.RunOnce(context.Background()); n != len(targets) || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	eps, _ := e.svc.Endpoints(context.Background())
	urlOf := map[uint]string{}
	for _, ep := range eps {
		urlOf[ep.ID] = ep.URL
	}
	for _, d := range deliveries(t, store) {
		why := targets[urlOf[d.EndpointID]]
		if d.Status != models.DeliveryPending || d.LastCode != 0 || !strings.Contains(d.LastError, "refused") || !strings.Contains(d.LastError, why) {
			t.Errorf("%s: %+v", urlOf[d.EndpointID], d)
		}
	}
	if got := r.all(); len(got) != 0 {
		t.Fatalf("the receiver was reached %d times", len(got))
	}
}

// A redirect is an answer, not a way on: the URL it names is never called.
func TestRedirectsAreNotFollowed(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	r := newReceiver(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		http.Redirect(w, req, r.URL(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	e.endpoint(t, redirector.URL+"/hook", false, "appointment.created")
	e.book(t, "Léa")
	w := e.worker(outbound.WorkerOptions{}) // private addresses allowed: only the redirect rule applies
	if _, err := w.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := deliveries(t, store)[0]
	if d.Status != models.DeliveryPending || d.LastCode != http.StatusTemporaryRedirect || !strings.Contains(d.LastError, "not followed") {
		t.Fatalf("delivery %+v", d)
	}
	if len(r.all()) != 0 {
		t.Fatal("the redirect was followed")
	}
}

// Only the first 64 KB of an answer is read, and its first bytes kept.
func TestResponseBodyIsCapped(t *testing.T) {
	store := storetest.SQLite(t)
	e := newEnv(t, store)
	sent := make(chan int64, 1)
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusOK)
		var n int64
		chunk := []byte(strings.Repeat("x", 4096))
		for n < 8<<20 {
			m, err := w.Write(chunk)
			n += int64(m)
			if err != nil {
				break
			}
		}
		sent <- n
	}))
	t.Cleanup(big.Close)
	e.endpoint(t, big.URL, false, "appointment.created")
	e.book(t, "Léa")
	if _, err := e.worker(outbound.WorkerOptions{}).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := deliveries(t, store)[0]
	if d.Status != models.DeliveryDelivered || len(d.LastResponse) != 1000 {
		t.Fatalf("delivery: status %s, response %d bytes", d.Status, len(d.LastResponse))
	}
	if n := <-sent; n >= 8<<20 {
		t.Fatalf("the whole 8 MB body was read")
	}
}

func TestForbiddenClassifiesMappedAndSpecialAddresses(t *testing.T) {
	for _, c := range []struct {
		host string
		ok   bool
	}{
		{"https://93.184.215.14/", true},
		{"https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/", true},
		{"https://[::ffff:10.0.0.1]/", false},
		{"https://100.64.1.1/", false},
		{"https://0.0.0.0/", false},
		{"https://[fd00:ec2::254]/", false},
		{"https://[fe80::1]/", false},
		{"https://192.168.1.1/", false},
		{"https://172.16.0.1/", false},
		{"https://224.0.0.1/", false},
	} {
		if err := outbound.CheckURL(c.host, false); (err == nil) != c.ok {
			t.Errorf("%s: %v", c.host, err)
		}
	}
}

func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"https://erp.example.com/hook", "http://10.0.0.1/", "https://[::1]:443/", "https://u@h/", "ftp://x", "", "https://%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		if outbound.CheckURL(raw, false) != nil {
			return
		}
		u, err := url.Parse(raw)
		if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || len(raw) > 2000 {
			t.Fatalf("accepted %q", raw)
		}
	})
}
