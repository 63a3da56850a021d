package auth

import (
	"crypto/sha256"
	"slices"
	"sync"
	"time"
)

// LoginLimiter counts failed logins per account and per client address in a
// sliding window and refuses further attempts once either is over its limit.
// A success clears the account's count, not the address's.
//
// Use Reserve: it counts an attempt before the password is checked, so
// attempts sent in parallel cannot all pass the check while none has been
// counted yet. Accounts and addresses are kept as fixed-size hashes, and
// the number of keys is bounded, so a flood of made-up e-mails cannot grow
// the limiter's memory without end.
type LoginLimiter struct {
	mu         sync.Mutex
	window     time.Duration
	perAccount int
	perAddress int
	now        func() time.Time
	failures   map[limiterKey][]time.Time
	// maxKeys bounds len(failures); see makeRoom.
	maxKeys int
}

// limiterKey is a kind byte ('a' account, 'i' address) and the first 16
// bytes of the SHA-256 of the normalised value.
type limiterKey [17]byte

// defaultMaxKeys bounds memory under a flood of distinct keys: about 200
// bytes each, so some 20 MB at most.
const defaultMaxKeys = 100_000

// NewLoginLimiter allows perAccount failures per account and perAddress per
// client address within window. now is the clock; nil means time.Now.
func NewLoginLimiter(window time.Duration, perAccount, perAddress int, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{
		window: window, perAccount: perAccount, perAddress: perAddress, now: now,
		failures: map[limiterKey][]time.Time{}, maxKeys: defaultMaxKeys,
	}
}

// Reservation is one login attempt counted by Reserve. End it with Succeed
// when the password was right, or Fail when it was not. Until one of them
// is called, and if neither ever is, the attempt counts as a failure. The
// methods are safe on a nil Reservation (they do nothing) and only the
// first call counts.
type Reservation struct {
	l        *LoginLimiter
	account  limiterKey
	address  limiterKey
	at       time.Time
	finished bool // guarded by l.mu
}

// Reserve counts a login attempt for account from address before its
// password is checked. If either is already at its limit it returns
// ok false, no reservation (nil) and how long until an attempt may be
// made; nothing is counted then. The account is normalised as
// NormalizeEmail does.
func (l *LoginLimiter) Reserve(account, address string) (res *Reservation, ok bool, retryAfter time.Duration) {
	acct, addr := accountKey(account), addressKey(address)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if wait := l.waitLocked(acct, addr, now); wait > 0 {
		return nil, false, wait
	}
	l.addLocked(acct, addr, now)
	return &Reservation{l: l, account: acct, address: addr, at: now}, true, 0
}

// Succeed ends the attempt as a good login: the account's failures are
// cleared, and the attempt no longer counts against the client address.
func (r *Reservation) Succeed() {
	if r == nil {
		return
	}
	l := r.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if r.finished {
		return
	}
	r.finished = true
	delete(l.failures, r.account)
	ts := l.failures[r.address]
	if i := slices.IndexFunc(ts, r.at.Equal); i >= 0 {
		ts = slices.Delete(ts, i, i+1)
		if len(ts) == 0 {
			delete(l.failures, r.address)
		} else {
			l.failures[r.address] = ts
		}
	}
}

// Fail ends the attempt as a failed login: it stays counted for the
// account and the address until it leaves the window.
func (r *Reservation) Fail() {
	if r == nil {
		return
	}
	r.l.mu.Lock()
	r.finished = true
	r.l.mu.Unlock()
}

// Allowed reports whether a login for account from address may be tried, and
// if not, how long until it may. It counts nothing: attempts checked with
// Allowed and counted afterwards with Fail can all pass together when sent
// in parallel. Prefer Reserve.
func (l *LoginLimiter) Allowed(account, address string) (bool, time.Duration) {
	acct, addr := accountKey(account), addressKey(address)
	l.mu.Lock()
	defer l.mu.Unlock()
	wait := l.waitLocked(acct, addr, l.now())
	return wait == 0, wait
}

// Fail records a failed login (the counterpart of Allowed; prefer Reserve).
func (l *LoginLimiter) Fail(account, address string) {
	acct, addr := accountKey(account), addressKey(address)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(acct, addr, l.now())
}

// Succeed clears the account's failures (the counterpart of Allowed;
// prefer Reserve).
func (l *LoginLimiter) Succeed(account string) {
	acct := accountKey(account)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, acct)
}

// AccountLocked reports whether account has reached its limit of failed
// logins, and if so for how long more: the state an admin sees on the
// user's page. The client address is not considered.
func (l *LoginLimiter) AccountLocked(account string) (bool, time.Duration) {
	acct := accountKey(account)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.perAccount <= 0 {
		return true, l.window
	}
	ts := l.recent(acct, now)
	if len(ts) < l.perAccount {
		return false, 0
	}
	return true, ts[len(ts)-l.perAccount].Add(l.window).Sub(now)
}

// Unlock forgets the failed logins of account, so that its owner may try
// again at once (an admin's "Unlock" after checking who they are). The
// addresses the failures came from stay counted: unlocking an account does
// not let a guesser go on from the same place. It reports whether the
// account was locked.
func (l *LoginLimiter) Unlock(account string) bool {
	locked, _ := l.AccountLocked(account)
	acct := accountKey(account)
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, acct)
	return locked
}

// waitLocked returns how long until both account and address are under
// their limits; 0 when they are now.
func (l *LoginLimiter) waitLocked(acct, addr limiterKey, now time.Time) time.Duration {
	wait := time.Duration(0)
	for _, k := range []struct {
		key   limiterKey
		limit int
	}{{acct, l.perAccount}, {addr, l.perAddress}} {
		if k.limit <= 0 {
			wait = max(wait, l.window) // a limit of zero refuses everything
			continue
		}
		if ts := l.recent(k.key, now); len(ts) >= k.limit {
			// One more fits once the attempt limit places from the newest
			// leaves the window.
			wait = max(wait, ts[len(ts)-k.limit].Add(l.window).Sub(now))
		}
	}
	return wait
}

// addLocked counts one attempt at now for the account and the address.
func (l *LoginLimiter) addLocked(acct, addr limiterKey, now time.Time) {
	l.makeRoom(now, 2)
	for _, k := range []limiterKey{acct, addr} {
		l.failures[k] = append(l.recent(k, now), now)
	}
}

// makeRoom keeps the number of keys within maxKeys before n are added.
// Past it, expired entries are swept; if the map is still over nine tenths
// full, arbitrary entries are dropped down to that. Dropping forgets some
// failures, which only a flood of distinct live keys (many addresses) can
// cause; the alternative, refusing to count new keys, would switch the
// limit off for every new account. Sweeping to nine tenths keeps the cost
// per added key constant on average.
func (l *LoginLimiter) makeRoom(now time.Time, n int) {
	if len(l.failures)+n <= l.maxKeys {
		return
	}
	for k := range l.failures {
		l.recent(k, now)
	}
	target := min(l.maxKeys*9/10, l.maxKeys-n)
	for k := range l.failures {
		if len(l.failures) <= target {
			break
		}
		delete(l.failures, k)
	}
}

// recent drops failures older than the window and returns the rest.
func (l *LoginLimiter) recent(key limiterKey, now time.Time) []time.Time {
	ts := l.failures[key]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.failures, key)
		return nil
	}
	l.failures[key] = ts
	return ts
}

// accountKey is the limiter key of an account: its normalised e-mail,
// hashed.
func accountKey(email string) limiterKey { return hashKey('a', NormalizeEmail(email)) }

// addressKey is the limiter key of a client address, capped before it is
// hashed.
func addressKey(addr string) limiterKey { return hashKey('i', addr[:min(len(addr), 128)]) }

func hashKey(kind byte, s string) limiterKey {
	sum := sha256.Sum256([]byte(s))
	var k limiterKey
	k[0] = kind
	copy(k[1:], sum[:16])
	return k
}
