package phone

import "sync"

// memoSize bounds the numbers a Memo keeps; when full it starts over.
const memoSize = 4096

// Memo is Loose remembering the numbers it read: reading one with
// phonenumbers costs tens of microseconds, and the same few thousand
// patients' numbers come back in callback after callback. It is safe for
// concurrent use; the zero value is ready.
type Memo struct {
	mu   sync.Mutex
	seen map[memoKey]string
}

type memoKey struct{ raw, region string }

// Loose returns Loose(raw, region).
func (m *Memo) Loose(raw, region string) string {
	k := memoKey{raw, region}
	m.mu.Lock()
	n, ok := m.seen[k]
	m.mu.Unlock()
	if ok {
		return n
	}
	n = Loose(raw, region)
	if len(raw) > maxInput {
		// Not kept: a number no one has.
		return n
	}
	m.mu.Lock()
	if m.seen == nil || len(m.seen) >= memoSize {
		m.seen = make(map[memoKey]string, 64)
	}
	m.seen[k] = n
	m.mu.Unlock()
	return n
}
