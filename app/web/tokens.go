package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"apptconfirm/models"
)

// tokensData is the token page: the list, the create form, and right after
// a create, the new token (shown this once; only its hash is stored).
type tokensData struct {
	Tokens   []tokenRow
	Name     string
	Errors   models.FieldErrors
	NewToken string
	NewName  string
}

// tokenRow is one token as the list shows it, times in the clinic's zone.
type tokenRow struct {
	ID        uint
	Name      string
	Prefix    string
	CreatedAt string
	LastUsed  string
	RevokedAt string
	Revoked   bool
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
	s.tokensPage(c, http.StatusOK, tokensData{})
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
	for _, t := range ts {
		r := tokenRow{ID: t.ID, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt.In(zone).Format(layout), Revoked: t.RevokedAt != nil}
		if t.LastUsedAt != nil {
			r.LastUsed = t.LastUsedAt.In(zone).Format(layout)
		}
		if t.RevokedAt != nil {
			r.RevokedAt = t.RevokedAt.In(zone).Format(layout)
		}
		d.Tokens = append(d.Tokens, r)
	}
	// The new token must not linger in caches or the browser's history.
	c.Header("Cache-Control", "no-store")
	s.html(c, status, "tokens", s.page(c, "API tokens", "admin", d))
}

func (s *Server) adminTokenCreate(c *gin.Context) {
	name := strings.TrimSpace(c.PostForm("name"))
	plain, tok, err := s.tokens.Create(c.Request.Context(), tokenActor(c), name)
	if fe, ok := models.AsFieldErrors(err); ok {
		s.tokensPage(c, http.StatusUnprocessableEntity, tokensData{Name: name, Errors: fe})
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	// Rendered, not redirected: the token exists only in this answer.
	s.tokensPage(c, http.StatusOK, tokensData{NewToken: plain, NewName: tok.Name})
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
