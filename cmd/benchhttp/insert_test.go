package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"apptconfirm/models"
	"apptconfirm/models/storetest"
)

// The plain insert yardstick stores each distinct body once and answers
// 200 to a repeat, as the server does with a retried webhook, on both
// databases, and 503 when the database cannot take the write.
func TestInsertYardstickStoresEachBodyOnce(t *testing.T) {
	for _, tc := range []struct {
		driver string
		dsn    func(t *testing.T) string
	}{
		{models.DriverSQLite, func(t *testing.T) string { return filepath.Join(t.TempDir(), "insert.db") }},
		{models.DriverPostgres, func(t *testing.T) string { return storetest.PostgresDSN(t) }},
	} {
		t.Run(tc.driver, func(t *testing.T) {
			db, insert, err := openInsertDB(tc.driver, tc.dsn(t))
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = db.Close() }()
			srv := httptest.NewServer(insertHandler(db, insert))
			defer srv.Close()
			post := func(body string) int {
				t.Helper()
				resp, err := http.Post(srv.URL+"/webhooks/smscx/"+secret, "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				_ = resp.Body.Close()
				return resp.StatusCode
			}
			for _, body := range []string{`{"a":1}`, `{"a":1}`, `{"a":2}`} {
				if code := post(body); code != http.StatusOK {
					t.Fatalf("%s: status %d", body, code)
				}
			}
			var n int
			var raw string
			if err := db.QueryRow("SELECT count(*), min(raw) FROM events").Scan(&n, &raw); err != nil {
				t.Fatal(err)
			}
			if n != 2 || raw != `{"a":1}` {
				t.Fatalf("stored %d rows, first %q; want 2, {\"a\":1}", n, raw)
			}
			// A database that cannot take the write is a 503, as for the server.
			_ = db.Close()
			if code := post(`{"a":3}`); code != http.StatusServiceUnavailable {
				t.Fatalf("closed database: status %d, want 503", code)
			}
		})
	}
	if _, _, err := openInsertDB("mysql", "x"); err == nil || !strings.Contains(err.Error(), "mysql") {
		t.Fatalf("unknown driver: %v", err)
	}
}
