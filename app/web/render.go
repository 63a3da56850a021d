package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"apptconfirm/app/outbox"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// Assets serves the embedded static files under content-hashed URLs, so
// browsers may cache them forever.
type Assets struct {
	fsys   fs.FS
	hashes map[string]string
}

// NewAssets hashes every file of fsys.
func NewAssets(fsys fs.FS) (*Assets, error) {
	a := &Assets{fsys: fsys, hashes: map[string]string{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".go") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.hashes[p] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: assets: %w", err)
	}
	return a, nil
}

// URL returns the cache-busting URL of an asset; an unknown name is an
// error, which fails the page that asks for it.
func (a *Assets) URL(name string) (string, error) {
	h, ok := a.hashes[name]
	if !ok {
		return "", fmt.Errorf("web: unknown asset %q", name)
	}
	return "/static/" + name + "?v=" + h, nil
}

// ServeHTTP serves an asset; a request carrying the current hash may be
// cached for a year.
func (a *Assets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(path.Clean(r.URL.Path), "/static/")
	h, ok := a.hashes[name]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.URL.Query().Get("v") == h {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("ETag", `"`+h+`"`)
	http.ServeFileFS(w, r, a.fsys, name)
}

// Page is the envelope every page template receives.
type Page struct {
	Title      string
	Nav        string
	User       *models.User
	CSRF       string
	Flash      string
	FlashError bool
	Simulating bool
	ClinicName string
	// InboxCount is how many replies wait for a person (shown in the nav).
	InboxCount int64
	// Lang is the page's language (the html lang attribute); empty is
	// English.
	Lang string
	Data any
}

// Renderer holds the parsed templates: each page is the layout plus its own
// file, parsed once at start so a broken template stops start-up, not a request.
type Renderer struct {
	pages map[string]*template.Template
}

// NewRenderer parses layout.html, the partials (files starting with "_") and
// every other .html file of fsys as a page.
func NewRenderer(fsys fs.FS, assets *Assets, clock clockFormat) (*Renderer, error) {
	funcs := templateFuncs(assets, clock)
	names, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	var partials []string
	for _, n := range names {
		if strings.HasPrefix(n, "_") {
			partials = append(partials, n)
		}
	}
	r := &Renderer{pages: map[string]*template.Template{}}
	for _, n := range names {
		if n == "layout.html" || strings.HasPrefix(n, "_") {
			continue
		}
		files := append([]string{"layout.html"}, partials...)
		files = append(files, n)
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(fsys, files...)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		r.pages[strings.TrimSuffix(n, ".html")] = t
	}
	return r, nil
}

// Render executes page into a buffer first, so a template error never sends
// half a page.
func (r *Renderer) Render(w io.Writer, page string, data *Page) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", data); err != nil {
		return fmt.Errorf("web: render %s: %w", page, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// RenderPartial executes one named template of a page (used for fragments).
func (r *Renderer) RenderPartial(w io.Writer, page, name string, data any) error {
	t, ok := r.pages[page]
	if !ok {
		return fmt.Errorf("web: no template %q", page)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", page, name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

func templateFuncs(assets *Assets, clock clockFormat) template.FuncMap {
	return template.FuncMap{
		"asset": assets.URL,
		// local formats t in the IANA zone (appointments are shown in their
		// location's zone), on the clinic's clock: layouts say "15:04".
		"local": func(t time.Time, zone string, layout string) string {
			if t.IsZero() {
				return ""
			}
			loc, err := time.LoadLocation(zone)
			if err != nil {
				loc = time.UTC
			}
			return clock.in(t, loc, layout)
		},
		"localp": func(t *time.Time, zone string, layout string) string {
			if t == nil || t.IsZero() {
				return ""
			}
			loc, err := time.LoadLocation(zone)
			if err != nil {
				loc = time.UTC
			}
			return clock.in(*t, loc, layout)
		},
		// clocktimes are the suggestions of a time field, clockexample a
		// time written on the clinic's clock (timeentry.go).
		"clocktimes":   clock.clockTimes,
		"clockexample": clock.example,
		"derefu": func(p *uint) uint {
			if p == nil {
				return 0
			}
			return *p
		},
		"eqs": func(a, b any) bool { return fmt.Sprint(a) == fmt.Sprint(b) },
		// typeclass is the class of an appointment type's colours.
		"typeclass": typeClass,
		"add":       func(a, b int) int { return a + b },
		"pct":       func(f float64) string { return fmt.Sprintf("%.0f%%", f*100) },
		"money":     func(f float64) string { return fmt.Sprintf("%.3f", f) },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd number of arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
		// langname names a language code: "French" for "fr".
		"langname": texts.LanguageName,
		// sentence writes a field's error as a sentence naming the field.
		"sentence": sentence,
		// statusword writes a state for people: "no_show" is "no-show".
		"statusword": statusLabel,
		// auditaction and auditentity write audit keys in words.
		"auditaction": auditAction,
		"auditentity": auditEntity,
		// statuswords is the same table for live.js (written as JSON).
		"statuswords": statusWordsTable,
		// msgname names a message from its kind and rule name as staff
		// read it: "Reminder 48 h before", "Confirmation acknowledgement".
		"msgname": func(kind, ruleName string) string {
			return outbox.Label(&models.Message{Kind: kind, RuleName: ruleName})
		},
	}
}
