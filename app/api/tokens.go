package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/models"
)

// Token format: TokenPrefix followed by 32 random bytes in unpadded
// base64url (43 characters). Only the SHA-256 of the whole token is stored;
// the first VisiblePrefixLen characters are kept in the clear so people can
// tell tokens apart in lists.
const (
	TokenPrefix      = "ac_"
	tokenRandomBytes = 32
	tokenLen         = len(TokenPrefix) + 43
	VisiblePrefixLen = len(TokenPrefix) + 6
	// MaxTokenName is the longest token name, in characters.
	MaxTokenName = 100
	// touchEvery is how often a token's LastUsedAt is written at most.
	touchEvery = time.Minute
	// entityToken is the audit entity of token changes.
	entityToken = "api_token"
)

// Sentinel errors of Authenticate.
var (
	// ErrInvalidToken means the token is malformed or unknown.
	ErrInvalidToken = errors.New("api: invalid token")
	// ErrRevokedToken means the token was revoked.
	ErrRevokedToken = errors.New("api: token revoked")
	// ErrExpiredToken means the token's expiry has passed.
	ErrExpiredToken = errors.New("api: token expired")
	// ErrCreatorDisabled means the user who made the token is disabled or
	// no longer an admin: a token never outlives its creator's access.
	ErrCreatorDisabled = errors.New("api: the token's creator is disabled or no longer an admin")
)

// TokenInput is a token to make. Field names in models.FieldErrors: name,
// scope, expires_at.
type TokenInput struct {
	// Name says which system uses the token (unique among active tokens).
	Name string
	// Scope is models.ScopeRead or models.ScopeReadWrite.
	Scope string
	// ExpiresAt, when set, is when the token stops working; it must be in
	// the future, at most MaxTokenLifetime away.
	ExpiresAt *time.Time
}

// MaxTokenLifetime bounds how far away a token's expiry may be.
const MaxTokenLifetime = 5 * 366 * 24 * time.Hour

// Tokens creates, lists, revokes and checks REST API tokens. It is safe for
// concurrent use.
type Tokens struct {
	store *models.Store
	now   func() time.Time
}

// NewTokens returns the token service on store; now nil is time.Now.
func NewTokens(store *models.Store, now func() time.Time) *Tokens {
	if now == nil {
		now = time.Now
	}
	return &Tokens{store: store, now: now}
}

// HashToken is the stored form of a token: hex SHA-256.
func HashToken(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// newTokenString draws a fresh token.
func newTokenString() (string, error) {
	b := make([]byte, tokenRandomBytes)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("api: token: %w", err)
	}
	return TokenPrefix + base64.RawURLEncoding.EncodeToString(b), nil
}

// wellFormed reports whether s has the shape of a token, so that garbage is
// refused without a database query.
func wellFormed(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, TokenPrefix) {
		return false
	}
	for _, r := range s[len(TokenPrefix):] {
		if !base64URLRune(r) {
			return false
		}
	}
	return true
}

// base64URLRune reports whether r belongs to the base64url alphabet.
func base64URLRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
		return true
	}
	return false
}

// checkTokenName validates a token name; it returns a message or "".
func checkTokenName(name string) string {
	switch {
	case name == "":
		return "required"
	case !utf8.ValidString(name):
		return "is not valid text"
	case utf8.RuneCountInString(name) > MaxTokenName:
		return fmt.Sprintf("must be at most %d characters", MaxTokenName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "must not contain control characters"
		}
	}
	return ""
}

// Create makes a read-write token named name with no expiry; see
// CreateWith.
func (t *Tokens) Create(ctx context.Context, actor models.Actor, name string) (string, *models.APIToken, error) {
	return t.CreateWith(ctx, actor, TokenInput{Name: name, Scope: models.ScopeReadWrite})
}

// CreateWith makes a token (its name unique among the tokens not revoked)
// and returns the token itself, which is never stored and cannot be shown
// again, with its row. Bad input comes back as models.FieldErrors on
// "name", "scope" and "expires_at". The token is revoked when the user who
// made it (actor) is disabled.
func (t *Tokens) CreateWith(ctx context.Context, actor models.Actor, in TokenInput) (string, *models.APIToken, error) {
	name := strings.TrimSpace(in.Name)
	now := t.now().UTC().Truncate(time.Microsecond)
	fe := models.FieldErrors{}
	if m := checkTokenName(name); m != "" {
		fe.Add("name", m)
	}
	if !models.ValidScope(in.Scope) {
		fe.Add("scope", fmt.Sprintf("must be %s (read only) or %s", models.ScopeRead, models.ScopeReadWrite))
	}
	var expires *time.Time
	if in.ExpiresAt != nil {
		e := models.DBTime(*in.ExpiresAt)
		switch {
		case !e.After(now):
			fe.Add("expires_at", "must be in the future")
		case e.Sub(now) > MaxTokenLifetime:
			fe.Add("expires_at", "must be at most 5 years away")
		}
		expires = &e
	}
	if err := fe.Err(); err != nil {
		return "", nil, err
	}
	plain, err := newTokenString()
	if err != nil {
		return "", nil, err
	}
	tok := models.APIToken{
		Name: name, Prefix: plain[:VisiblePrefixLen], Hash: HashToken(plain),
		CreatedByID: actor.UserID, CreatedAt: now, Scope: in.Scope, ExpiresAt: expires,
	}
	err = t.store.Tx(ctx, func(ctx context.Context) error {
		taken, err := t.store.ActiveTokenNameTaken(ctx, name)
		if err != nil {
			return err
		}
		if taken {
			return models.FieldErrors{"name": "is already used by another active token"}
		}
		if err := t.store.CreateAPIToken(ctx, &tok); err != nil {
			return err
		}
		return t.store.Audit(ctx, now, actor, "api_token.create", entityToken, tok.ID, describeToken(&tok))
	})
	if err != nil {
		if _, ok := models.AsFieldErrors(err); ok {
			return "", nil, err
		}
		return "", nil, fmt.Errorf("api: create token: %w", models.Classify(err))
	}
	return plain, &tok, nil
}

// List returns every token, newest first (revoked ones included).
func (t *Tokens) List(ctx context.Context) ([]models.APIToken, error) {
	ts, err := t.store.APITokens(ctx)
	if err != nil {
		return nil, fmt.Errorf("api: list tokens: %w", err)
	}
	return ts, nil
}

// Revoke ends a token at once; revoking a revoked token changes nothing.
// An unknown id returns models.ErrNotFound.
func (t *Tokens) Revoke(ctx context.Context, actor models.Actor, id uint) (*models.APIToken, error) {
	now := models.DBTime(t.now())
	var tok *models.APIToken
	err := t.store.Tx(ctx, func(ctx context.Context) error {
		var err error
		if tok, err = t.store.LockAPIToken(ctx, id); err != nil {
			return err
		}
		if tok.RevokedAt != nil {
			return nil
		}
		if err := t.store.RevokeAPIToken(ctx, id, now); err != nil {
			return err
		}
		tok.RevokedAt = &now
		return t.store.Audit(ctx, now, actor, "api_token.revoke", entityToken, tok.ID, describeToken(tok))
	})
	if err != nil {
		return nil, fmt.Errorf("api: revoke token %d: %w", id, models.Classify(err))
	}
	return tok, nil
}

// describeToken is a token as the audit log names it.
func describeToken(tok *models.APIToken) string {
	d := fmt.Sprintf("%s (%s…), %s", tok.Name, tok.Prefix, scopeWords(tok.Scope))
	if tok.ExpiresAt != nil {
		d += ", expires " + tok.ExpiresAt.UTC().Format("2006-01-02 15:04 MST")
	}
	return d
}

// scopeWords says what a scope allows.
func scopeWords(scope string) string {
	if scope == models.ScopeRead {
		return "read only"
	}
	return "read and write"
}

// Authenticate finds the token plain by its hash. It returns ErrInvalidToken
// for a malformed or unknown token, ErrRevokedToken for a revoked one,
// ErrExpiredToken for one past its expiry, ErrCreatorDisabled for one whose
// creator is disabled, and a models.ErrUnavailable chain when the database
// cannot answer.
func (t *Tokens) Authenticate(ctx context.Context, plain string) (*models.APIToken, error) {
	if !wellFormed(plain) {
		return nil, ErrInvalidToken
	}
	tok, err := t.store.APITokenByHash(ctx, HashToken(plain))
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, ErrInvalidToken
		}
		return nil, fmt.Errorf("api: authenticate: %w", err)
	}
	if tok.RevokedAt != nil {
		return nil, ErrRevokedToken
	}
	if tok.Expired(t.now()) {
		return nil, ErrExpiredToken
	}
	if tok.CreatedByID != nil {
		// Disabling a user, or taking their admin role away, revokes their
		// tokens; this also covers a token whose revocation was missed
		// (made while the user was being changed, or restored from a
		// backup).
		u, err := t.store.User(ctx, *tok.CreatedByID)
		switch {
		case errors.Is(err, models.ErrNotFound):
			return nil, ErrCreatorDisabled
		case err != nil:
			return nil, fmt.Errorf("api: authenticate: %w", err)
		case u.Disabled || u.Role != models.RoleAdmin:
			return nil, ErrCreatorDisabled
		}
	}
	return tok, nil
}

// Touch records that tok was used now, at most once a minute per token: a
// busy integration costs one write a minute, not one per request. It
// updates tok.LastUsedAt when it writes.
func (t *Tokens) Touch(ctx context.Context, tok *models.APIToken) error {
	now := t.now().UTC().Truncate(time.Microsecond)
	if tok.LastUsedAt != nil && now.Sub(*tok.LastUsedAt) < touchEvery {
		return nil
	}
	wrote, err := t.store.TouchAPIToken(ctx, tok.ID, now, now.Add(-touchEvery))
	if err != nil {
		return fmt.Errorf("api: touch token %d: %w", tok.ID, err)
	}
	if wrote {
		tok.LastUsedAt = &now
	}
	return nil
}
