package models

import (
	"context"
	"maps"
	"slices"
	"sync"
)

// readCache remembers rows that a long run of writes reads again and
// again without changing them: the locations, the reminder rules, the
// stored texts and the settings.
type readCache struct {
	mu        sync.Mutex
	locations map[uint]Location
	def       *Location
	rules     []ReminderRule
	haveRules bool
	texts     *Texts
	settings  map[string]cachedSetting
}

// cachedSetting is a setting's value, or the error reading it gave (such
// as ErrNotFound).
type cachedSetting struct {
	value string
	err   error
}

type readCacheKey struct{}

// WithReadCache returns a context under which Location, DefaultLocation,
// Rules, Texts and Setting read each row once and then answer from memory
// (a copy each time). It is for a batch of writes that changes no
// location, rule, text or setting, such as the rows of an import or a run
// of replies sharing a transaction; nothing invalidates it, so it must not
// outlive that batch.
func WithReadCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, readCacheKey{}, newReadCache())
}

// WithTxReadCache is WithReadCache shared by the whole transaction ctx
// carries: every context it returns in one transaction (its savepoints
// included) answers from one cache, which ends with the transaction. It is
// for a transaction whose writes change no location, rule, text or
// setting, such as the webhook processor's, which applies many runs of
// events one after another. Outside a transaction it is WithReadCache.
func (s *Store) WithTxReadCache(ctx context.Context) context.Context {
	st := s.txOf(ctx)
	if st == nil {
		return WithReadCache(ctx)
	}
	root := st.root()
	if root.readCache == nil {
		root.readCache = newReadCache()
	}
	return context.WithValue(ctx, readCacheKey{}, root.readCache)
}

func newReadCache() *readCache {
	return &readCache{locations: map[uint]Location{}, settings: map[string]cachedSetting{}}
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

func (c *readCache) cachedTexts() (Texts, bool) {
	if c == nil {
		return Texts{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.texts == nil {
		return Texts{}, false
	}
	return c.texts.clone(), true
}

func (c *readCache) putTexts(t Texts) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := t.clone()
	c.texts = &cp
}

func (c *readCache) cachedSetting(key string) (cachedSetting, bool) {
	if c == nil {
		return cachedSetting{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.settings[key]
	return v, ok
}

func (c *readCache) putSetting(key string, v cachedSetting) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settings[key] = v
}

// clone copies t's maps, so that a caller may change its copy.
func (t Texts) clone() Texts {
	out := Texts{Kinds: make(map[string]map[string]string, len(t.Kinds)), Rules: make(map[uint]map[string]string, len(t.Rules))}
	for k, m := range t.Kinds {
		out.Kinds[k] = maps.Clone(m)
	}
	for k, m := range t.Rules {
		out.Rules[k] = maps.Clone(m)
	}
	return out
}

func (c *readCache) forgetSetting(key string) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.settings, key)
}
