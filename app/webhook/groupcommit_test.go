package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"apptconfirm/app/webhook"
	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// storedMsgIDs returns the msgId of every stored webhook event.
func storedMsgIDs(t *testing.T, s *models.Store) map[string]int {
	t.Helper()
	var raws []string
	if err := s.DB(t.Context()).Model(&models.WebhookEvent{}).Pluck("raw", &raws).Error; err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for _, r := range raws {
		var item struct {
			MsgID string `json:"msgId"`
		}
		if err := json.Unmarshal([]byte(r), &item); err != nil {
			t.Fatalf("stored raw %q: %v", r, err)
		}
		ids[item.MsgID]++
	}
	return ids
}

// postBody posts body on client and returns the status and the receipt.
func postBody(client *http.Client, url, body string) (int, webhook.Receipt, error) {
	resp, err := client.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return 0, webhook.Receipt{}, err
	}
	defer resp.Body.Close()
	var r webhook.Receipt
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusOK {
		err = json.Unmarshal(b, &r)
	}
	return resp.StatusCode, r, err
}

// Many concurrent single-event requests, every event sent twice from two
// connections at once, so that both copies often share a group: each event
// is stored exactly once and credited to exactly one of its two requests.
func TestGroupCommitStoresConcurrentEventsOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		const events, senders = 600, 32
		ids := make([]string, events)
		for i := range ids {
			ids[i] = uuid.NewString()
		}
		var next atomic.Int64
		var stored atomic.Int64
		var wg sync.WaitGroup
		for range senders {
			client := &http.Client{Transport: &http.Transport{}}
			wg.Go(func() {
				for {
					n := next.Add(1) - 1
					if n >= 2*events {
						return
					}
					body := `{"event":"dlr_update","data":[` + string(appendItem(nil, ids[n/2])) + `]}`
					code, r, err := postBody(client, e.url, body)
					if err != nil || code != http.StatusOK {
						t.Errorf("event %d: status %d, %v", n, code, err)
						return
					}
					stored.Add(int64(r.Stored))
				}
			})
		}
		wg.Wait()
		if got := stored.Load(); got != events {
			t.Fatalf("receipts credit %d new events, want %d", got, events)
		}
		got := storedMsgIDs(t, s)
		if len(got) != events {
			t.Fatalf("%d distinct events stored, want %d", len(got), events)
		}
		for _, id := range ids {
			if got[id] != 1 {
				t.Fatalf("event %s stored %d times", id, got[id])
			}
		}
	})
}

// poison makes the database refuse, mid-transaction, any webhook event
// whose raw text holds "poison".
func poison(t *testing.T, s *models.Store) {
	t.Helper()
	stmts := []string{`CREATE TRIGGER poison BEFORE INSERT ON webhook_events
		WHEN NEW.raw LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned item'); END`}
	if s.Driver() == models.DriverPostgres {
		stmts = []string{
			`CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN IF NEW.raw LIKE '%poison%' THEN RAISE EXCEPTION 'poisoned item'; END IF; RETURN NEW; END $$`,
			`CREATE TRIGGER poison BEFORE INSERT ON webhook_events FOR EACH ROW EXECUTE FUNCTION poison()`,
		}
	}
	for _, q := range stmts {
		if err := s.DB(t.Context()).Exec(q).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// A request whose rows the database refuses fails alone with a 500, even
// when it shares a group with others: the others are stored and answered
// 200, and of the refused request nothing is stored, not even its good
// items (which sort before the poisoned one, so were inserted first).
func TestGroupCommitFailureFailsItsRequestOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, s *models.Store) {
		e := newEnv(t, s)
		poison(t, s)
		const requests, bad = 24, 7
		bodies := make([]string, requests)
		ids := make([][]string, requests)
		for i := range bodies {
			ids[i] = []string{"0000-" + uuid.NewString(), "0001-" + uuid.NewString(), "zzzz-" + uuid.NewString()}
			if i == bad {
				ids[i][2] = "zzzz-poison-" + uuid.NewString()
			}
			items := make([]string, len(ids[i]))
			for j, id := range ids[i] {
				items[j] = string(appendItem(nil, id))
			}
			bodies[i] = `{"event":"dlr_update","data":[` + strings.Join(items, ",") + `]}`
		}
		for round := range 3 {
			if round > 0 {
				// A fresh set of ids for the good requests each round.
				for i := range bodies {
					if i != bad {
						old := ids[i]
						for j := range old {
							ids[i][j] = old[j][:5] + uuid.NewString()
						}
						items := make([]string, 3)
						for j, id := range ids[i] {
							items[j] = string(appendItem(nil, id))
						}
						bodies[i] = `{"event":"dlr_update","data":[` + strings.Join(items, ",") + `]}`
					}
				}
			}
			codes := make([]int, requests)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range bodies {
				client := &http.Client{Transport: &http.Transport{}}
				wg.Go(func() {
					<-start
					code, _, err := postBody(client, e.url, bodies[i])
					if err != nil {
						t.Error(err)
					}
					codes[i] = code
				})
			}
			close(start)
			wg.Wait()
			for i, c := range codes {
				want := http.StatusOK
				if i == bad {
					want = http.StatusInternalServerError
				}
				if c != want {
					t.Fatalf("round %d: request %d answered %d, want %d", round, i, c, want)
				}
			}
			got := storedMsgIDs(t, s)
			for i := range ids {
				for _, id := range ids[i] {
					if want := i != bad; (got[id] == 1) != want {
						t.Fatalf("round %d: request %d's event %s stored %d times", round, i, id, got[id])
					}
				}
			}
			if len(got) != (round+1)*(requests-1)*3 {
				t.Fatalf("round %d: %d events stored", round, len(got))
			}
		}
	})
}

// A server shut down gracefully in the middle of a flood loses nothing it
// answered 200 to: every acknowledged event is in the database afterwards.
func TestGroupCommitShutdownLosesNothingAcked(t *testing.T) {
	s := storetest.SQLite(t)
	e := newEnv(t, s)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: e.recv}
	go func() { _ = srv.Serve(ln) }()
	url := fmt.Sprintf("http://%s/webhooks/smscx/%s", ln.Addr(), testSecret)

	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 32 {
		client := &http.Client{Transport: &http.Transport{}, Timeout: 20 * time.Second}
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				id := uuid.NewString()
				code, _, err := postBody(client, url, `{"event":"dlr_update","data":[`+string(appendItem(nil, id))+`]}`)
				if err != nil {
					return // the server is gone
				}
				if code == http.StatusOK {
					mu.Lock()
					acked = append(acked, id)
					mu.Unlock()
				}
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	close(stop)
	wg.Wait()
	if len(acked) == 0 {
		t.Fatal("nothing was acknowledged before the shutdown")
	}
	got := storedMsgIDs(t, s)
	for _, id := range acked {
		if got[id] != 1 {
			t.Fatalf("acknowledged event %s stored %d times (of %d acknowledged)", id, got[id], len(acked))
		}
	}
	t.Logf("%d events acknowledged before the shutdown, all stored", len(acked))
}
