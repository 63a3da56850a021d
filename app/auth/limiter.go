package auth

import (
	"sync"
	"time"
)

// LoginLimiter counts failed logins per account and per client address in a
// sliding window and refuses further attempts once either is over its
// limit. A success clears the account's count, not the address's.
type LoginLimiter struct {
	mu         sync.Mutex
	window     time.Duration
	perAccount int
	perAddress int
	now        func() time.Time
	failures   map[string][]time.Time
}

// NewLoginLimiter allows perAccount failures per account and perAddress per
// client address within window.
func NewLoginLimiter(window time.Duration, perAccount, perAddress int, now func() time.Time) *LoginLimiter {
	if now == nil {
		now = time.Now
	}
	return &LoginLimiter{window: window, perAccount: perAccount, perAddress: perAddress, now: now, failures: map[string][]time.Time{}}
}

// maxKeys bounds memory under a flood of distinct keys: past it, expired
// entries are swept before new ones are added.
const maxKeys = 100_000

// Allowed reports whether a login for account from address may be tried, and
// if not, how long until it may.
func (l *LoginLimiter) Allowed(account, address string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	wait := time.Duration(0)
	for _, k := range []struct {
		key   string
		limit int
	}{{"a:" + account, l.perAccount}, {"i:" + address, l.perAddress}} {
		ts := l.recent(k.key, now)
		if len(ts) >= k.limit {
			if w := ts[0].Add(l.window).Sub(now); w > wait {
				wait = w
			}
		}
	}
	return wait == 0, wait
}

// Fail records a failed login.
func (l *LoginLimiter) Fail(account, address string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.failures) >= maxKeys {
		for k := range l.failures {
			if len(l.recent(k, now)) == 0 {
				delete(l.failures, k)
			}
		}
	}
	for _, k := range []string{"a:" + account, "i:" + address} {
		l.failures[k] = append(l.recent(k, now), now)
	}
}

// Succeed clears the account's failures.
func (l *LoginLimiter) Succeed(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, "a:"+account)
}

// recent drops failures older than the window and returns the rest.
func (l *LoginLimiter) recent(key string, now time.Time) []time.Time {
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
