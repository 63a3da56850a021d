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
// that is not revoked; anything else gets 401 with a WWW-Authenticate
// challenge. It records the token's last use (at most once a minute).
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
	case err != nil:
		a.fail(c, err)
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
