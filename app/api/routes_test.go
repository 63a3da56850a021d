package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"apptconfirm/app/api"
)

func TestUnknownPathsAndMethodsAnswerJSON(t *testing.T) {
	e := newEnv(t)
	cases := []struct {
		method, path string
		want         int
		code, allow  string
	}{
		{http.MethodDelete, "/api/v1/appointments", 405, api.CodeMethodNotAllowed, "GET, POST"},
		{http.MethodPut, "/api/v1/appointments/1", 405, api.CodeMethodNotAllowed, "GET, PATCH"},
		{http.MethodGet, "/api/v1/appointments/1/cancel", 405, api.CodeMethodNotAllowed, "POST"},
		{http.MethodPost, "/api/v1/stats", 405, api.CodeMethodNotAllowed, "GET"},
		{http.MethodGet, "/api/v1/nothing", 404, api.CodeNotFound, ""},
		{http.MethodGet, "/api/v2/appointments", 404, api.CodeNotFound, ""},
		{http.MethodGet, "/api/v1/appointments/", 404, api.CodeNotFound, ""},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path, func(t *testing.T) {
			r := e.do(c.method, c.path, "")
			if r.status != c.want {
				t.Fatalf("status %d, want %d: %s", r.status, c.want, r.body)
			}
			if code, _, _ := r.errorOf(t); code != c.code {
				t.Errorf("code %q, want %q", code, c.code)
			}
			if got := r.header.Get("Allow"); got != c.allow {
				t.Errorf("Allow %q, want %q", got, c.allow)
			}
			if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
			}
		})
	}
}

// openAPIDoc is the part of an OpenAPI document the drift test reads.
type openAPIDoc struct {
	OpenAPI string                                `json:"openapi"`
	Servers []struct{ URL string }                `json:"servers"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

var httpMethods = map[string]bool{"get": true, "put": true, "post": true, "delete": true, "options": true, "head": true, "patch": true, "trace": true}

// TestOpenAPIMatchesRoutes walks the engine's routes under /api/v1 and the
// document's paths both ways, so neither can change without the other.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	e := newEnv(t)
	// Served without a token.
	r := e.do(http.MethodGet, "/api/v1/openapi.json", "", withToken(""))
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, content type %q", r.status, r.header.Get("Content-Type"))
	}
	var doc openAPIDoc
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") || len(doc.Servers) != 1 || doc.Servers[0].URL != api.BasePath {
		t.Fatalf("openapi %q servers %+v", doc.OpenAPI, doc.Servers)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for m := range item {
			if httpMethods[m] {
				documented[strings.ToUpper(m)+" "+path] = true
			}
		}
	}
	param := regexp.MustCompile(`:([A-Za-z_]+)`)
	served := map[string]bool{}
	for _, rt := range e.web.Routes() {
		if !strings.HasPrefix(rt.Path, api.BasePath+"/") {
			continue
		}
		p := param.ReplaceAllString(strings.TrimPrefix(rt.Path, api.BasePath), "{$1}")
		served[rt.Method+" "+p] = true
	}
	if len(served) < 11 {
		t.Fatalf("only %d API routes found: %v", len(served), served)
	}
	for k := range served {
		if !documented[k] {
			t.Errorf("route %s is not in openapi.json", k)
		}
	}
	for k := range documented {
		if !served[k] {
			t.Errorf("openapi.json documents %s, which no route serves", k)
		}
	}
}

// TestOpenAPIReferencesResolve checks every $ref of the document points at
// something in it.
func TestOpenAPIReferencesResolve(t *testing.T) {
	e := newEnv(t)
	r := e.decode(200, nil, http.MethodGet, "/api/v1/openapi.json", "")
	var doc any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	sort.Strings(refs)
	if len(refs) == 0 {
		t.Fatal("no $ref found")
	}
	for _, ref := range refs {
		if !strings.HasPrefix(ref, "#/") {
			t.Errorf("external $ref %q", ref)
			continue
		}
		cur := doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := cur.(map[string]any)
			if !ok {
				cur = nil
				break
			}
			cur = m[part]
		}
		if cur == nil {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
}
