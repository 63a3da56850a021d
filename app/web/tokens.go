package web

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/app/api"
	"apptconfirm/models"
)

// tokensData is the token page: the list, the create form, and right after
// a create, the new token (shown this once; only its hash is stored).
type tokensData struct {
	Tokens []tokenRow
	// Name, Scope and Expires are the form's values.
	Name     string
	Scope    string
	Expires  string
	Scopes   []option
	Lifetime []option
	Errors   models.FieldErrors
	// Summary names each field in error with its message.
	Summary  []string
	NewToken string
	NewName  string
	NewScope string
}

// tokenRow is one token as the list shows it, times in the clinic's zone.
type tokenRow struct {
	ID        uint
	Name      string
	Prefix    string
	Scope     string
	CreatedAt string
	LastUsed  string
	RevokedAt string
	Revoked   bool
	// ExpiresAt is when it stops working ("" for never); Expired says it
	// has.
	ExpiresAt string
	Expired   bool
}

// tokenScopes are the scopes offered, the usual one first.
var tokenScopes = []option{
	{models.ScopeReadWrite, "Read and write (push appointments and patients)"},
	{models.ScopeRead, "Read only (reports, dashboards)"},
}

// tokenLifetimes are the expiries offered, in days ("" for never).
var tokenLifetimes = []option{
	{"", "Never"},
	{"30", "In 30 days"},
	{"90", "In 90 days"},
	{"365", "In a year"},
}

// scopeLabel is how the list shows a scope.
func scopeLabel(scope string) string {
	if scope == models.ScopeRead {
		return "read only"
	}
	return "read and write"
}

// tokenActor is the logged-in admin as the actor of the audit log.
func tokenActor(c *gin.Context) models.Actor {
	u, ok := currentUser(c)
	if !ok {
		return models.SystemActor()
	}
	id := u.ID
	return models.Actor{UserID: &id, Name: u.Email}
}

func (s *Server) adminTokens(c *gin.Context) {
	s.tokensPage(c, http.StatusOK, tokensData{Scope: models.ScopeReadWrite})
}

// tokensPage renders the page with d, after loading the list.
func (s *Server) tokensPage(c *gin.Context, status int, d tokensData) {
	ctx := c.Request.Context()
	ts, err := s.tokens.List(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	zone := time.UTC
	if s.clinic != nil {
		l, err := s.clinic.DefaultLocation(ctx)
		switch {
		case err == nil:
			zone = l.Zone()
		case !errors.Is(err, models.ErrNotFound):
			s.fail(c, err)
			return
		}
	}
	const layout = "2 Jan 2006 15:04 MST"
	d.Scopes, d.Lifetime, d.Summary = tokenScopes, tokenLifetimes, tokenErrorSummary(d.Errors)
	now := s.now()
	for _, t := range ts {
		r := tokenRow{
			ID: t.ID, Name: t.Name, Prefix: t.Prefix, Scope: scopeLabel(t.Scope),
			CreatedAt: s.clock.in(t.CreatedAt, zone, layout), Revoked: t.RevokedAt != nil, Expired: t.Expired(now),
		}
		if t.ExpiresAt != nil {
			r.ExpiresAt = s.clock.in(*t.ExpiresAt, zone, layout)
		}
		if t.LastUsedAt != nil {
			r.LastUsed = s.clock.in(*t.LastUsedAt, zone, layout)
		}
		if t.RevokedAt != nil {
			r.RevokedAt = s.clock.in(*t.RevokedAt, zone, layout)
		}
		d.Tokens = append(d.Tokens, r)
	}
	// The new token must not linger in caches or the browser's history.
	c.Header("Cache-Control", "no-store")
	s.html(c, status, "tokens", s.page(c, "API tokens", "admin", d))
}

// tokenFieldLabels name the token form's fields in its error summary.
var tokenFieldLabels = map[string]string{"name": "Name", "scope": "Access", "expires_at": "Expires"}

// tokenErrorSummary lists each error with the label of its field ("Name:
// is already used by another active token"), for the top of the form.
func tokenErrorSummary(fe models.FieldErrors) []string {
	var out, other []string
	for _, k := range []string{"name", "scope", "expires_at"} {
		if m, ok := fe[k]; ok {
			out = append(out, sentence(tokenFieldLabels[k], m))
		}
	}
	for k, m := range fe {
		if _, ok := tokenFieldLabels[k]; !ok {
			other = append(other, sentence(strings.ReplaceAll(k, "_", " "), m))
		}
	}
	sort.Strings(other)
	return append(out, other...)
}

func (s *Server) adminTokenCreate(c *gin.Context) {
	form := tokensData{
		Name:    strings.TrimSpace(c.PostForm("name")),
		Scope:   c.PostForm("scope"),
		Expires: c.PostForm("expires_in_days"),
	}
	in := api.TokenInput{Name: form.Name, Scope: form.Scope}
	if form.Expires != "" {
		days, err := strconv.Atoi(form.Expires)
		if err != nil || !validLifetime(form.Expires) {
			form.Errors = models.FieldErrors{"expires_at": "choose one of the offered expiries"}
			s.tokensPage(c, http.StatusUnprocessableEntity, form)
			return
		}
		at := s.now().Add(time.Duration(days) * 24 * time.Hour)
		in.ExpiresAt = &at
	}
	plain, tok, err := s.tokens.CreateWith(c.Request.Context(), tokenActor(c), in)
	if fe, ok := models.AsFieldErrors(err); ok {
		form.Errors = fe
		s.tokensPage(c, http.StatusUnprocessableEntity, form)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// Rendered, not redirected: the token exists only in this answer.
	s.tokensPage(c, http.StatusOK, tokensData{NewToken: plain, NewName: tok.Name, NewScope: scopeLabel(tok.Scope), Scope: models.ScopeReadWrite})
}

// validLifetime reports whether days is one of the offered expiries.
func validLifetime(days string) bool {
	for _, o := range tokenLifetimes {
		if o.Value != "" && o.Value == days {
			return true
		}
	}
	return false
}

func (s *Server) adminTokenRevoke(c *gin.Context) {
	id, err := strconv.ParseUint(c.Param("id"), 10, 63)
	if err != nil || id == 0 {
		s.notFound(c)
		return
	}
	tok, err := s.tokens.Revoke(c.Request.Context(), tokenActor(c), uint(id))
	if err != nil {
		s.fail(c, err)
		return
	}
	s.flash(c, "Token "+tok.Name+" revoked. Requests with it are refused from now on.")
	c.Redirect(http.StatusSeeOther, "/admin/tokens")
}
