package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"apptconfirm/models"
)

const ctxToken = "apptconfirm.api_token"

// Authenticate requires "Authorization: Bearer <token>" with a known token
// that is not revoked, not expired and whose creator is not disabled;
// anything else gets 401 with a WWW-Authenticate challenge. A read-only
// token may only read (GET, HEAD): any other method gets 403
// insufficient_scope. It records the token's last use (at most once a
// minute).
func (a *API) Authenticate(c *gin.Context) {
	ctx := c.Request.Context()
	plain, ok := bearer(c.GetHeader("Authorization"))
	if !ok {
		unauthorized(c, "", "missing bearer token: send the header Authorization: Bearer <token>")
		return
	}
	tok, err := a.tokens.Authenticate(ctx, plain)
	switch {
	case errors.Is(err, ErrInvalidToken):
		unauthorized(c, "invalid_token", "invalid token")
		return
	case errors.Is(err, ErrRevokedToken):
		unauthorized(c, "invalid_token", "this token was revoked")
		return
	case errors.Is(err, ErrExpiredToken):
		unauthorized(c, "invalid_token", "this token has expired; an admin can make a new one under Admin → API tokens")
		return
	case errors.Is(err, ErrCreatorDisabled):
		unauthorized(c, "invalid_token", "the user who made this token is disabled or no longer an admin, so the token no longer works")
		return
	case err != nil:
		a.fail(c, err)
		c.Abort()
		return
	}
	if !allowed(tok.Scope, c.Request.Method) {
		c.Header("WWW-Authenticate", `Bearer realm="apptconfirm", error="insufficient_scope", scope="read_write"`)
		writeError(c, http.StatusForbidden, CodeInsufficientScope,
			"this token is read-only: "+c.Request.Method+" needs a read-write token", "")
		c.Abort()
		return
	}
	if err := a.tokens.Touch(ctx, tok); err != nil {
		// Recording the last use is bookkeeping; the request goes on.
		a.log.WarnContext(ctx, "api: token last use not recorded", slog.Uint64("token_id", uint64(tok.ID)), slog.Any("err", err))
	}
	c.Set(ctxToken, tok)
	c.Next()
}

// allowed reports whether a token of scope may make a request with method:
// a read-only token only reads.
func allowed(scope, method string) bool {
	if scope == models.ScopeReadWrite {
		return true
	}
	return method == http.MethodGet || method == http.MethodHead
}

// bearer extracts the token of an Authorization header ("Bearer" is
// case-insensitive, as RFC 6750 allows).
func bearer(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func unauthorized(c *gin.Context, errCode, msg string) {
	challenge := `Bearer realm="apptconfirm"`
	if errCode != "" {
		challenge += `, error="` + errCode + `"`
	}
	c.Header("WWW-Authenticate", challenge)
	writeError(c, http.StatusUnauthorized, CodeUnauthorized, msg, "")
	c.Abort()
}

// actor is who the audit log and timelines name for this request:
// "api:<token name>".
func actor(c *gin.Context) models.Actor {
	if v, ok := c.Get(ctxToken); ok {
		if tok, ok := v.(*models.APIToken); ok {
			return models.Actor{Name: "api:" + tok.Name}
		}
	}
	return models.Actor{Name: "api"}
}
