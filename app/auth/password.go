// Package auth holds password hashing, server-side sessions and the login
// rate limiter.
package auth

import (
	"errors"
	"fmt"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLen and MaxPasswordBytes bound passwords. bcrypt ignores
// everything past 72 bytes, so longer passwords are refused rather than
// silently truncated.
const (
	MinPasswordLen   = 8
	MaxPasswordBytes = 72
)

// ErrPasswordTooLong is returned for passwords over MaxPasswordBytes.
var ErrPasswordTooLong = fmt.Errorf("password is longer than %d bytes", MaxPasswordBytes)

// Hasher hashes and checks passwords with bcrypt.
type Hasher struct {
	// Cost is the bcrypt cost; at least 10.
	Cost int
}

// NewHasher returns a hasher with the given cost, raised to at least 10.
func NewHasher(cost int) *Hasher {
	if cost < 10 {
		cost = 10
	}
	return &Hasher{Cost: cost}
}

// Hash returns the bcrypt hash of pw.
func (h *Hasher) Hash(pw string) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), h.Cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash: %w", err)
	}
	return string(b), nil
}

// dummyHash is compared against when the account does not exist, so that a
// login for an unknown email takes as long as one for a known email.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not-a-real-password"), 10)

// Check reports whether pw matches hash. An empty hash still costs one bcrypt
// comparison.
func (h *Hasher) Check(hash, pw string) bool {
	if len(pw) > MaxPasswordBytes {
		return false
	}
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return false
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw))
	return err == nil && !errors.Is(err, bcrypt.ErrMismatchedHashAndPassword)
}
