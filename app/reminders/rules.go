package reminders

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"apptconfirm/app/clinic"
	"apptconfirm/app/schedule"
	"apptconfirm/models"
)

// Rule limits.
const (
	MinBefore   = time.Minute
	MaxBefore   = 30 * 24 * time.Hour
	MaxRuleName = 100
)

// RuleInput is a reminder rule as an admin enters it. Field names in
// models.FieldErrors: name, timing, before, days_before, local_time,
// after_rule_id, after, signal, type_ids, location_ids, provider_ids. Its
// texts are edited with app/wording.
type RuleInput struct {
	Name string
	// Timing is models.RuleBefore (the default when empty),
	// models.RuleDayBefore or models.RuleNudge.
	Timing string
	// Before is how long before the start the reminder goes out (timing
	// "before"): a Go duration ("48h", "90m", "1h30m") or a number of days
	// ("2d"), from 1 minute to 30 days.
	Before string
	// DaysBefore (0 to 30) and LocalTime ("10:00") place a "day_before"
	// reminder: that many days before the appointment's day, at that time
	// in the appointment location's zone.
	DaysBefore string
	LocalTime  string
	// AfterRuleID, After (a duration, 1 minute to 7 days) and Signal make
	// a nudge: After after the reminder of rule AfterRuleID, when Signal
	// (a models.Signal*) still holds.
	AfterRuleID uint
	After       string
	Signal      string
	// TypeIDs, LocationIDs and ProviderIDs limit the rule to appointments
	// of those types, at those locations, with those providers; empty
	// means all.
	TypeIDs, LocationIDs, ProviderIDs []uint
	OnlyIfUnconfirmed                 bool
	Enabled                           bool
}

// Limits of the new timings.
const (
	MaxDaysBefore = 30
	MaxAfter      = 7 * 24 * time.Hour
)

// InputOf is the input that saves r unchanged.
func InputOf(r *models.ReminderRule) RuleInput {
	in := RuleInput{
		Name: r.Name, Timing: r.TimingOrBefore(), OnlyIfUnconfirmed: r.OnlyIfUnconfirmed, Enabled: r.Enabled,
		TypeIDs: r.TypeIDs, LocationIDs: r.LocationIDs, ProviderIDs: r.ProviderIDs,
	}
	switch in.Timing {
	case models.RuleDayBefore:
		in.DaysBefore, in.LocalTime = strconv.Itoa(r.DaysBefore), r.LocalTime
	case models.RuleNudge:
		if r.AfterRuleID != nil {
			in.AfterRuleID = *r.AfterRuleID
		}
		in.After, in.Signal = FormatBefore(time.Duration(r.AfterSeconds)*time.Second), r.Signal
	default:
		in.Before = FormatBefore(r.Before())
	}
	return in
}

// ParseBefore reads a rule's "before": a Go duration or a whole number of
// days ("2d").
func ParseBefore(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("reminders: before %q: want a duration such as 48h, 90m or 2d", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("reminders: before %q: want a duration such as 48h, 90m or 2d", s)
	}
	return d, nil
}

// FormatBefore writes a rule's "before" the way ParseBefore reads it:
// "2d", "48h30m", "90m" is "1h30m", "45s" (whole days as days).
func FormatBefore(d time.Duration) string {
	if d <= 0 {
		return d.String()
	}
	if d%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
	}
	var b strings.Builder
	h, m, sec := d/time.Hour, d%time.Hour/time.Minute, d%time.Minute
	if h > 0 {
		fmt.Fprintf(&b, "%dh", h)
	}
	if m > 0 {
		fmt.Fprintf(&b, "%dm", m)
	}
	if sec > 0 {
		b.WriteString(sec.String())
	}
	return b.String()
}

// validate checks in and returns the clean rule fields.
func (in RuleInput) validate() (models.ReminderRule, models.FieldErrors) {
	fe := models.FieldErrors{}
	r := models.ReminderRule{
		Name:              strings.TrimSpace(in.Name),
		OnlyIfUnconfirmed: in.OnlyIfUnconfirmed,
		Enabled:           in.Enabled,
	}
	switch {
	case r.Name == "":
		fe["name"] = "required"
	case utf8.RuneCountInString(r.Name) > MaxRuleName:
		fe["name"] = fmt.Sprintf("must be at most %d characters", MaxRuleName)
	case !printable(r.Name, false):
		fe["name"] = "must not contain control characters"
	}
	r.Timing = strings.TrimSpace(in.Timing)
	if r.Timing == "" {
		r.Timing = models.RuleBefore
	}
	switch r.Timing {
	case models.RuleBefore:
		validateBefore(in, &r, fe)
	case models.RuleDayBefore:
		validateDayBefore(in, &r, fe)
	case models.RuleNudge:
		validateNudge(in, &r, fe)
	default:
		fe["timing"] = "must be an offset before the appointment, a time on a day before, or a nudge after a reminder"
	}
	r.TypeIDs, r.LocationIDs, r.ProviderIDs = clean(in.TypeIDs), clean(in.LocationIDs), clean(in.ProviderIDs)
	for field, ids := range map[string]models.IDList{"type_ids": r.TypeIDs, "location_ids": r.LocationIDs, "provider_ids": r.ProviderIDs} {
		if len(ids.String()) > 500 {
			fe[field] = "too many chosen"
		}
	}
	return r, fe
}

// clean drops zero ids and repeats.
func clean(ids []uint) models.IDList {
	l, _ := models.ParseIDList(models.IDList(ids).String())
	var out models.IDList
	for _, id := range l {
		if id != 0 {
			out = append(out, id)
		}
	}
	return out
}

func validateBefore(in RuleInput, r *models.ReminderRule, fe models.FieldErrors) {
	if strings.TrimSpace(in.Before) == "" {
		fe["before"] = "required, such as 48h, 90m or 2d"
	} else if d, err := ParseBefore(in.Before); err != nil {
		fe["before"] = "must be a duration such as 48h, 90m or 2d"
	} else if d < MinBefore || d > MaxBefore {
		fe["before"] = "must be from 1m to 30d"
	} else if d%time.Second != 0 {
		fe["before"] = "must be a whole number of seconds"
	} else {
		r.BeforeSeconds = int64(d / time.Second)
	}
}

func validateDayBefore(in RuleInput, r *models.ReminderRule, fe models.FieldErrors) {
	days := strings.TrimSpace(in.DaysBefore)
	n, err := strconv.Atoi(days)
	switch {
	case days == "":
		fe["days_before"] = "required (1 for the day before, 0 for the same day)"
	case err != nil || n < 0 || n > MaxDaysBefore:
		fe["days_before"] = fmt.Sprintf("must be a whole number from 0 to %d", MaxDaysBefore)
	default:
		r.DaysBefore = n
		// Kept for ordering the rule list: the longest it can fall before.
		r.BeforeSeconds = int64(n) * 24 * 3600
	}
	t := strings.TrimSpace(in.LocalTime)
	if c, err := schedule.ParseClock(t); err != nil {
		if t == "" {
			fe["local_time"] = "required, such as 10:00"
		} else {
			fe["local_time"] = "must be a time such as 10:00 (24 h)"
		}
	} else {
		r.LocalTime = c.String()
	}
}

func validateNudge(in RuleInput, r *models.ReminderRule, fe models.FieldErrors) {
	if in.AfterRuleID == 0 {
		fe["after_rule_id"] = "required (the reminder this nudge follows)"
	} else {
		id := in.AfterRuleID
		r.AfterRuleID = &id
	}
	if strings.TrimSpace(in.After) == "" {
		fe["after"] = "required, such as 2h"
	} else if d, err := ParseBefore(in.After); err != nil {
		fe["after"] = "must be a duration such as 2h, 90m or 1d"
	} else if d < MinBefore || d > MaxAfter || d%time.Second != 0 {
		fe["after"] = "must be from 1m to 7d"
	} else {
		r.AfterSeconds = int64(d / time.Second)
	}
	switch in.Signal {
	case models.SignalClickedNotConfirmed, models.SignalNotConfirmed, models.SignalDeliveredNoReply:
		r.Signal = in.Signal
	case "":
		fe["signal"] = "required (when the nudge is sent)"
	default:
		fe["signal"] = "must be: link opened but not confirmed, not confirmed, or delivered with no reply"
	}
}

// checkRefs refuses ids of types, locations, providers and rules that do
// not exist, and a nudge that follows itself or another nudge.
func (s *Service) checkRefs(ctx context.Context, r *models.ReminderRule, self uint) error {
	fe := models.FieldErrors{}
	if len(r.TypeIDs) > 0 {
		got, err := s.store.AppointmentTypesByID(ctx, r.TypeIDs)
		if err != nil {
			return err
		}
		if len(got) != len(r.TypeIDs) {
			fe["type_ids"] = "must list existing appointment types only"
		}
	}
	for _, id := range r.LocationIDs {
		ok, err := s.store.LocationExists(ctx, id)
		if err != nil {
			return err
		}
		if !ok {
			fe["location_ids"] = "must list existing locations only"
		}
	}
	for _, id := range r.ProviderIDs {
		_, err := s.store.Provider(ctx, id)
		if errors.Is(err, models.ErrNotFound) {
			fe["provider_ids"] = "must list existing providers only"
		} else if err != nil {
			return err
		}
	}
	if r.AfterRuleID != nil {
		after, err := s.store.Rule(ctx, *r.AfterRuleID)
		switch {
		case errors.Is(err, models.ErrNotFound):
			fe["after_rule_id"] = "must be an existing reminder rule"
		case err != nil:
			return err
		case after.ID == self:
			fe["after_rule_id"] = "a nudge cannot follow itself"
		case after.IsNudge():
			fe["after_rule_id"] = "must be a reminder, not another nudge"
		}
	}
	if r.IsNudge() && self != 0 {
		// A reminder that nudges follow cannot become a nudge itself.
		rules, err := s.store.Rules(ctx)
		if err != nil {
			return err
		}
		for _, o := range rules {
			if o.AfterRuleID != nil && *o.AfterRuleID == self {
				fe["timing"] = fmt.Sprintf("cannot be a nudge: the nudge %q follows this reminder", o.Name)
				break
			}
		}
	}
	return fe.Err()
}

// printable refuses invalid UTF-8 and control characters (but newlines when
// multiline).
func printable(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if multiline && (r == '\n' || r == '\r') {
			continue
		}
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return false
		}
	}
	return true
}

// ListRules returns every rule, the earliest first (the longest time
// before the start), then by name.
func (s *Service) ListRules(ctx context.Context) ([]models.ReminderRule, error) {
	rules, err := s.store.RulesByTiming(ctx)
	if err != nil {
		return nil, fmt.Errorf("reminders: list rules: %w", err)
	}
	return rules, nil
}

// GetRule returns one rule, or models.ErrNotFound.
func (s *Service) GetRule(ctx context.Context, id uint) (*models.ReminderRule, error) {
	r, err := s.store.Rule(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("reminders: get rule: %w", err)
	}
	return r, nil
}

// CreateRule saves a new rule with its texts (Options.Texts) and, when it
// is enabled, plans it for every future active appointment.
func (s *Service) CreateRule(ctx context.Context, actor models.Actor, in RuleInput) (*models.ReminderRule, error) {
	r, fe := in.validate()
	if len(fe) > 0 {
		return nil, fe
	}
	now := s.clock()
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		if err := s.nameFree(ctx, r.Name, 0); err != nil {
			return err
		}
		if err := s.checkRefs(ctx, &r, 0); err != nil {
			return err
		}
		r.CreatedAt, r.UpdatedAt = now, now
		if err := s.store.CreateRule(ctx, &r); err != nil {
			if errors.Is(err, models.ErrConflict) {
				return models.FieldErrors{"name": "is already used by another rule"}
			}
			return err
		}
		if s.opts.Texts != nil {
			if err := s.opts.Texts.SeedRule(ctx, &r, now); err != nil {
				return err
			}
		}
		return s.store.Audit(ctx, now, actor, "reminder_rule.create", clinic.EntityRule, r.ID, describeRule(&r))
	})
	if err != nil {
		return nil, wrapUnlessInput("reminders: create rule", err)
	}
	if r.Enabled {
		if err := s.replanFuture(ctx); err != nil {
			return &r, fmt.Errorf("reminders: create rule: saved, but %w", err)
		}
	}
	return &r, nil
}

// UpdateRule changes a rule. A change of timing, condition or enabled state
// replans every future active appointment; a new name is carried to the
// rule's planned messages. Nothing is written when nothing changed.
func (s *Service) UpdateRule(ctx context.Context, actor models.Actor, id uint, in RuleInput) (*models.ReminderRule, error) {
	next, fe := in.validate()
	if len(fe) > 0 {
		return nil, fe
	}
	now := s.clock()
	var out *models.ReminderRule
	replan := false
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.store.LockRule(ctx, id)
		if err != nil {
			return err
		}
		var changes []string
		if cur.Name != next.Name {
			if err := s.nameFree(ctx, next.Name, id); err != nil {
				return err
			}
			changes = append(changes, "name")
		}
		if err := s.checkRefs(ctx, &next, id); err != nil {
			return err
		}
		if cur.BeforeSeconds != next.BeforeSeconds {
			changes = append(changes, "before")
		}
		timing := cur.TimingOrBefore() != next.Timing || cur.DaysBefore != next.DaysBefore || cur.LocalTime != next.LocalTime ||
			!sameID(cur.AfterRuleID, next.AfterRuleID) || cur.AfterSeconds != next.AfterSeconds || cur.Signal != next.Signal
		if timing {
			changes = append(changes, "timing")
		}
		scope := cur.TypeIDs.String() != next.TypeIDs.String() || cur.LocationIDs.String() != next.LocationIDs.String() ||
			cur.ProviderIDs.String() != next.ProviderIDs.String()
		if scope {
			changes = append(changes, "scope")
		}
		if cur.OnlyIfUnconfirmed != next.OnlyIfUnconfirmed {
			changes = append(changes, "only if unconfirmed")
		}
		if cur.Enabled != next.Enabled {
			changes = append(changes, map[bool]string{true: "enabled", false: "disabled"}[next.Enabled])
		}
		out = cur
		if len(changes) == 0 {
			return nil
		}
		next.ID, next.CreatedAt, next.UpdatedAt = id, cur.CreatedAt, now
		if err := s.store.SaveRule(ctx, &next); err != nil {
			if errors.Is(err, models.ErrConflict) {
				return models.FieldErrors{"name": "is already used by another rule"}
			}
			return err
		}
		if cur.Name != next.Name {
			if err := s.store.RenamePlannedReminders(ctx, id, next.Name, now); err != nil {
				return err
			}
		}
		if out, err = s.store.Rule(ctx, id); err != nil {
			return err
		}
		replan = cur.BeforeSeconds != next.BeforeSeconds || cur.OnlyIfUnconfirmed != next.OnlyIfUnconfirmed || cur.Enabled != next.Enabled ||
			timing || scope
		detail := "changed " + strings.Join(changes, ", ") + ": " + describeRule(out)
		return s.store.Audit(ctx, now, actor, "reminder_rule.update", clinic.EntityRule, id, detail)
	})
	if err != nil {
		return nil, wrapUnlessInput("reminders: update rule", err)
	}
	if replan {
		if err := s.replanFuture(ctx); err != nil {
			return out, fmt.Errorf("reminders: update rule: saved, but %w", err)
		}
	}
	return out, nil
}

// SetRuleEnabled enables or disables a rule (see UpdateRule).
func (s *Service) SetRuleEnabled(ctx context.Context, actor models.Actor, id uint, enabled bool) (*models.ReminderRule, error) {
	cur, err := s.GetRule(ctx, id)
	if err != nil {
		return nil, err
	}
	in := InputOf(cur)
	in.Enabled = enabled
	return s.UpdateRule(ctx, actor, id, in)
}

// nameFree refuses a name another rule already has.
func (s *Service) nameFree(ctx context.Context, name string, self uint) error {
	taken, err := s.store.RuleNameTaken(ctx, name, self)
	if err != nil {
		return err
	}
	if taken {
		return models.FieldErrors{"name": "is already used by another rule"}
	}
	return nil
}

// describeRule is a rule's audit text.
func describeRule(r *models.ReminderRule) string {
	d := fmt.Sprintf("%s: %s before", r.Name, FormatBefore(r.Before()))
	switch r.Timing {
	case models.RuleDayBefore:
		d = fmt.Sprintf("%s: %d day(s) before at %s", r.Name, r.DaysBefore, r.LocalTime)
	case models.RuleNudge:
		d = fmt.Sprintf("%s: nudge %s after rule %d, %s", r.Name, FormatBefore(time.Duration(r.AfterSeconds)*time.Second), derefID(r.AfterRuleID), r.Signal)
	}
	if r.Scoped() {
		d += fmt.Sprintf(", types [%s] locations [%s] providers [%s]", r.TypeIDs, r.LocationIDs, r.ProviderIDs)
	}
	if r.OnlyIfUnconfirmed {
		d += ", only if unconfirmed"
	}
	if !r.Enabled {
		d += ", disabled"
	}
	return d
}

// wrapUnlessInput prefixes err with op but returns models.FieldErrors as
// they are, so their text stays clean for people.
func wrapUnlessInput(op string, err error) error {
	if _, ok := models.AsFieldErrors(err); ok {
		return err
	}
	return fmt.Errorf("%s: %w", op, models.Classify(err))
}

// replanFuture replans every future active appointment, when a planner
// is set.
func (s *Service) replanFuture(ctx context.Context) error {
	if s.opts.Planner == nil {
		return nil
	}
	return s.opts.Planner.ReplanFuture(ctx)
}

func sameID(a, b *uint) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func derefID(p *uint) uint {
	if p == nil {
		return 0
	}
	return *p
}
