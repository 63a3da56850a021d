// Package auth holds password hashing, server-side sessions, the login
// rate limiter and the checks on what a login form sends back (the e-mail
// and the page to return to).
package auth

import (
	"crypto/rand"
	"fmt"
	"sync"

	"golang.org/x/crypto/bcrypt"
)

// MinPasswordLen and MaxPasswordBytes bound passwords. bcrypt ignores
// everything past 72 bytes, so longer passwords are refused rather than
// silently truncated: Hash returns ErrPasswordTooLong, and Check never
// accepts one (see Check for how it still spends the same time).
const (
	MinPasswordLen   = 8
	MaxPasswordBytes = 72
)

// MinCost is the lowest bcrypt cost NewHasher accepts; lower costs are
// raised to it.
const MinCost = 10

// ErrPasswordTooLong is returned for passwords over MaxPasswordBytes.
var ErrPasswordTooLong = fmt.Errorf("password is longer than %d bytes", MaxPasswordBytes)

// Hasher hashes and checks passwords with bcrypt. Use it through a pointer
// and do not change Cost after the first Check: the hash Check compares
// unknown accounts against is made once, with the cost of that moment.
type Hasher struct {
	// Cost is the bcrypt cost of new hashes and of the stand-in hash; at
	// least MinCost.
	Cost int

	// dummyOnce makes dummy on first use, not at start-up, so that a
	// process that never checks a password never pays for it.
	dummyOnce sync.Once
	dummy     []byte
	// compare is bcrypt.CompareHashAndPassword; tests replace it to count
	// the comparisons a check makes and see the cost of the hash used.
	compare func(hash, pw []byte) error
}

// NewHasher returns a hasher with the given cost, raised to at least
// MinCost and lowered to at most bcrypt.MaxCost.
func NewHasher(cost int) *Hasher {
	return &Hasher{Cost: min(max(cost, MinCost), bcrypt.MaxCost)}
}

// Hash returns the bcrypt hash of pw.
func (h *Hasher) Hash(pw string) (string, error) {
	if len(pw) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	b, err := bcrypt.GenerateFromPassword([]byte(pw), h.cost())
	if err != nil {
		return "", fmt.Errorf("auth: hash: %w", err)
	}
	return string(b), nil
}

// Check reports whether pw matches hash. Every call runs exactly one bcrypt
// comparison at the cost of the hash it is given, so that a refusal takes
// as long whatever the reason:
//
//   - For an unknown account, pass "" as hash: pw is compared against a
//     stand-in hash made with the Hasher's own cost, as real hashes are.
//     The same happens for a stored hash bcrypt cannot read.
//   - A password over MaxPasswordBytes is never accepted (bcrypt would only
//     see its first 72 bytes), but its first 72 bytes are still compared
//     against hash, so refusing it costs what a wrong password costs.
//
// Call it once per login attempt, with "" for an unknown account; checking
// the unknown case twice makes it the slow one.
func (h *Hasher) Check(hash, pw string) bool {
	stored, known := []byte(hash), true
	if _, err := bcrypt.Cost(stored); err != nil {
		stored, known = h.dummyHash(), false
	}
	tooLong := len(pw) > MaxPasswordBytes
	if tooLong {
		pw = pw[:MaxPasswordBytes]
	}
	compare := h.compare
	if compare == nil {
		compare = bcrypt.CompareHashAndPassword
	}
	err := compare(stored, []byte(pw))
	return err == nil && known && !tooLong
}

// Warm makes the stand-in hash Check compares unknown accounts against,
// if it is not made yet. Call it at start (in the background: it costs one
// bcrypt hash), so that the first login for an unknown account does not
// take twice as long as any other and give the account's absence away.
func (h *Hasher) Warm() { h.dummyHash() }

// dummyHash returns the stand-in hash for accounts that do not exist: a
// hash of random bytes nobody knows, made once with the Hasher's cost.
func (h *Hasher) dummyHash() []byte {
	h.dummyOnce.Do(func() {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret) // never fails since Go 1.24
		for i := range secret {
			// Printable, so that the secret is an ordinary password.
			secret[i] = 'a' + secret[i]%26
		}
		b, err := bcrypt.GenerateFromPassword(secret, h.cost())
		if err != nil {
			// Only an impossible cost gets here; cost() rules that out.
			b = nil
		}
		h.dummy = b
	})
	return h.dummy
}

// cost is Cost within the bounds NewHasher applies, for a Hasher built
// without it.
func (h *Hasher) cost() int { return min(max(h.Cost, MinCost), bcrypt.MaxCost) }
