package api_test

import (
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

func TestCreatePatient(t *testing.T) {
	e := newEnv(t)
	var p api.Patient
	r := e.decode(201, &p, http.MethodPost, "/api/v1/patients", `{"name": "Jean Paul Martin", "phone": "06 11 22 33 44", "language": "FR"}`)
	if p.FirstName != "Jean" || p.LastName != "Paul Martin" || p.Name != "Jean Paul Martin" || p.Phone != "+33611223344" || p.Language != "fr" || p.OptedOut {
		t.Errorf("patient %+v", p)
	}
	if r.header.Get("Location") != fmt.Sprintf("/api/v1/patients/%d", p.ID) {
		t.Errorf("Location %q", r.header.Get("Location"))
	}
	if p.CreatedAt != "2026-03-02T09:00:00Z" {
		t.Errorf("created_at %q", p.CreatedAt)
	}
	cases := []struct {
		name, body string
		want       int
		field      string
	}{
		{"no name", `{"phone": "+33611223344"}`, 422, "name"},
		{"no phone", `{"name": "A B"}`, 422, "phone"},
		{"bad phone", `{"name": "A B", "phone": "+1 000"}`, 422, "phone"},
		{"bad language", `{"name": "A B", "phone": "+33611223344", "language": "klingon"}`, 422, "language"},
		{"long last name", `{"name": "A ` + strings.Repeat("b", 101) + `", "phone": "+33611223344"}`, 422, "name"},
		{"unknown member", `{"name": "A B", "phone": "+33611223344", "email": "a@b.c"}`, 422, "email"},
		{"name as number", `{"name": 5, "phone": "+33611223344"}`, 422, "name"},
		{"malformed", `{"name": "A B"`, 400, ""},
	}
	for _, c := range cases {
		t.Run("refuses "+c.name, func(t *testing.T) {
			before := e.count(&models.Patient{})
			r := e.do(http.MethodPost, "/api/v1/patients", c.body)
			if r.status != c.want {
				t.Fatalf("status %d, want %d: %s", r.status, c.want, r.body)
			}
			if _, field, msg := r.errorOf(t); field != c.field || !strings.Contains(msg, c.field) {
				t.Errorf("field %q message %q, want field %q", field, msg, c.field)
			}
			if e.count(&models.Patient{}) != before {
				t.Error("a refused request wrote a patient")
			}
		})
	}
}

func TestListAndGetPatients(t *testing.T) {
	e := newEnv(t)
	zoe := e.patient("Zoé", "Abel", "+33600000001")
	bob := e.patient("Bob", "Martin", "+33600000002")
	ann := e.patient("Ann", "Martin", "+33600000003")
	ids := func(pg api.Page[api.Patient]) []uint {
		out := []uint{}
		for _, p := range pg.Data {
			out = append(out, p.ID)
		}
		return out
	}
	cases := []struct {
		query string
		want  []uint
		total int64
	}{
		{"", []uint{zoe.ID, ann.ID, bob.ID}, 3},
		{"?per_page=1&page=2", []uint{ann.ID}, 3},
		{"?search=martin", []uint{ann.ID, bob.ID}, 2},
		{"?search=0000003", []uint{ann.ID}, 1},
		{"?sort=phone", []uint{zoe.ID, bob.ID, ann.ID}, 3},
	}
	for _, c := range cases {
		t.Run("query "+c.query, func(t *testing.T) {
			var pg api.Page[api.Patient]
			e.decode(200, &pg, http.MethodGet, "/api/v1/patients"+c.query, "")
			if got := ids(pg); !reflect.DeepEqual(got, c.want) || pg.Total != c.total {
				t.Errorf("ids %v total %d, want %v %d", got, pg.Total, c.want, c.total)
			}
		})
	}
	for _, c := range []struct{ query, field string }{
		{"?sort=age", "sort"}, {"?per_page=500", "per_page"}, {"?page=x", "page"},
	} {
		t.Run("refuses "+c.query, func(t *testing.T) {
			r := e.do(http.MethodGet, "/api/v1/patients"+c.query, "")
			if r.status != 422 {
				t.Fatalf("status %d", r.status)
			}
			if _, field, _ := r.errorOf(t); field != c.field {
				t.Errorf("field %q, want %q", field, c.field)
			}
		})
	}

	var p api.Patient
	e.decode(200, &p, http.MethodGet, fmt.Sprintf("/api/v1/patients/%d", zoe.ID), "")
	if p.Name != "Zoé Abel" || p.Phone != "+33600000001" {
		t.Errorf("patient %+v", p)
	}
	for _, path := range []string{"/api/v1/patients/9999", "/api/v1/patients/zoe"} {
		r := e.do(http.MethodGet, path, "")
		if r.status != 404 {
			t.Fatalf("%s: status %d", path, r.status)
		}
		if code, _, _ := r.errorOf(t); code != api.CodeNotFound {
			t.Errorf("code %q", code)
		}
	}
}
