// Package reminders is the reminder-rule editor's service: it creates,
// edits, enables and disables the rules that say when reminders go out,
// gives a new rule its texts (app/wording writes them; they are edited
// there, in every language), and has the outbox replan every future
// appointment when a rule's timing changes.
package reminders

import (
	"context"
	"time"

	"apptconfirm/models"
)

// Planner replans every future active appointment; app/outbox implements it.
type Planner interface {
	ReplanFuture(ctx context.Context) error
}

// Texts gives a new rule its texts, inside the transaction ctx carries;
// app/wording implements it.
type Texts interface {
	SeedRule(ctx context.Context, rule *models.ReminderRule, now time.Time) error
}

// Options configure a Service.
type Options struct {
	// Planner replans after a rule's timing changed; nil replans nothing.
	Planner Planner
	// Texts gives a new rule its texts; nil leaves it without (it then
	// goes out with the texts the app ships).
	Texts Texts
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service edits reminder rules. It is safe for concurrent use.
type Service struct {
	store *models.Store
	opts  Options
}

// New returns a Service on store.
func New(store *models.Store, opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{store: store, opts: opts}
}

// clock returns the current time at the database's precision.
func (s *Service) clock() time.Time { return models.DBTime(s.opts.Now()) }
