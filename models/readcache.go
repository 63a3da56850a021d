package models

import (
	"context"
	"slices"
	"sync"
)

// readCache remembers rows that a long run of writes reads again and
// again without changing them: the locations and the reminder rules.
type readCache struct {
	mu        sync.Mutex
	locations map[uint]Location
	def       *Location
	rules     []ReminderRule
	haveRules bool
}

type readCacheKey struct{}

// WithReadCache returns a context under which Location, DefaultLocation
// and Rules read each row once and then answer from memory (a copy each
// time). It is for a batch of writes that changes no location and no
// rule, such as the rows of an import sharing a transaction; nothing
// invalidates it, so it must not outlive that batch.
func WithReadCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, readCacheKey{}, &readCache{locations: map[uint]Location{}})
}

func readCacheOf(ctx context.Context) *readCache {
	c, _ := ctx.Value(readCacheKey{}).(*readCache)
	return c
}

// cachedLocation reads location id through the cache ctx may carry.
func (s *Store) cachedLocation(ctx context.Context, id uint) (*Location, error) {
	c := readCacheOf(ctx)
	if c != nil {
		c.mu.Lock()
		l, ok := c.locations[id]
		c.mu.Unlock()
		if ok {
			return &l, nil
		}
	}
	l, err := first[Location](ctx, s, "location", id, false)
	if err == nil && c != nil {
		c.mu.Lock()
		c.locations[id] = *l
		c.mu.Unlock()
	}
	return l, err
}

// cachedDefault is the default location from the cache ctx may carry.
func (c *readCache) cachedDefault() (*Location, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.def == nil {
		return nil, false
	}
	l := *c.def
	return &l, true
}

func (c *readCache) putDefault(l *Location) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *l
	c.def = &cp
}

func (c *readCache) cachedRules() ([]ReminderRule, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.rules), c.haveRules
}

func (c *readCache) putRules(rules []ReminderRule) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rules, c.haveRules = slices.Clone(rules), true
}
