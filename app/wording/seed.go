package wording

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"apptconfirm/app/outbox"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// retired are the English texts earlier versions shipped, by the kind that
// ships a better one now. A clinic that never edited one gets the new one:
// they named the day with fixed words ("today") that quiet hours could make
// wrong, and the HELP and STOP answers did not name the clinic.
var retired = map[string][]string{
	texts.KindReminder: {
		"Hi {first_name}, reminder: your appointment at {location} on {weekday} {date} at {time}. Reply YES to confirm or NO to cancel.",
	},
	texts.KindReminderSoon: {
		"Hi {first_name}, see you at {time} today at {location}. Reply YES to confirm, NO to cancel.",
	},
	texts.KindBookingConfirmation: {
		"Hi {first_name}, your appointment at {location} is booked for {weekday} {date} at {time}. Reply YES to confirm or NO to cancel.",
	},
	texts.KindAckConfirm: {
		"Thank you {first_name}, your appointment on {weekday} {date} at {time} is confirmed. See you then!",
	},
	texts.KindAckCancel: {
		"Thank you {first_name}, your appointment on {weekday} {date} at {time} is cancelled. To book again, call {clinic_phone}.",
	},
	texts.KindCancellationNotice: {
		"Hi {first_name}, your appointment at {location} on {weekday} {date} at {time} has been cancelled. To book again, call {clinic_phone}.",
	},
	texts.KindOptOutAck: {
		"You are unsubscribed and will get no more messages from us. To receive appointment reminders again, reply START.",
	},
	texts.KindOptInAck: {
		"You are subscribed again and will receive appointment reminders from us. Reply STOP to opt out.",
	},
	texts.KindHelp: {
		"Appointment reminders: reply YES to confirm, NO to cancel, STOP to opt out. Questions? Call {clinic_phone}.",
	},
	texts.KindQuestion: {
		"You have more than one appointment. Reply {choices}, with YES or NO (for example 1 YES).",
	},
}

// isRetired reports whether body is a text kind shipped before.
func isRetired(kind, body string) bool {
	for _, old := range retired[kind] {
		if body == old {
			return true
		}
	}
	return false
}

// EnsureTexts prepares the clinic's texts, in one transaction, and is safe
// to call at every start: it stores the languages setting (every shipped
// language) when there is none, replaces the English texts earlier versions
// shipped that the clinic never edited with today's, and adds the shipped
// text of every message kind in every enabled language where the clinic
// has none, and of every rule whose text in the default language is still
// the shipped one (a rule the clinic wrote its own text for keeps only
// that: its other languages fall back to it, and the editor says so). A
// text the clinic cleared (stored empty) stays cleared.
func (s *Service) EnsureTexts(ctx context.Context) error {
	now := s.clock()
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		// Two instances starting together run this one after the other.
		if err := s.store.LockTxExclusive(ctx, "texts"); err != nil {
			return err
		}
		if _, err := s.store.AddSetting(ctx, models.SettingLanguages, strings.Join(texts.Languages(), ",")); err != nil {
			return err
		}
		upgraded, err := s.retire(ctx, now)
		if err != nil {
			return err
		}
		langs, err := s.outbox.Languages(ctx)
		if err != nil {
			return err
		}
		added, err := s.seed(ctx, s.outbox.DefaultLanguage(), langs, now)
		if err != nil {
			return err
		}
		if len(upgraded)+len(added) == 0 {
			return nil
		}
		var parts []string
		if len(upgraded) > 0 {
			parts = append(parts, "replaced the texts shipped before: "+strings.Join(upgraded, ", "))
		}
		if len(added) > 0 {
			parts = append(parts, "added the shipped texts: "+strings.Join(added, ", "))
		}
		detail := models.Clip(strings.Join(parts, "; "), 1000)
		return s.store.Audit(ctx, now, models.SystemActor(), "message_template.create", entityTexts, 0, detail)
	})
	if err != nil {
		return fmt.Errorf("wording: ensure texts: %w", models.Classify(err))
	}
	return nil
}

// retire replaces the stored English texts that earlier versions shipped,
// and returns the keys it replaced.
func (s *Service) retire(ctx context.Context, now time.Time) ([]string, error) {
	stored, err := s.store.Texts(ctx)
	if err != nil {
		return nil, err
	}
	var done []string
	for kind, byLang := range stored.Kinds {
		if body, ok := texts.Default(kind, "en"); ok && isRetired(kind, byLang["en"]) {
			if err := s.store.PutMessageTemplate(ctx, kind, "en", body, now); err != nil {
				return nil, err
			}
			done = append(done, kind+"/en")
		}
	}
	rules, err := s.store.Rules(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range rules {
		have := stored.Rules[r.ID]["en"]
		for _, kind := range []string{texts.KindReminder, texts.KindReminderSoon} {
			if !isRetired(kind, have) {
				continue
			}
			body, _ := texts.Default(texts.ReminderKind(r.Before()), "en")
			if err := s.store.PutRuleTemplate(ctx, r.ID, "en", body, now); err != nil {
				return nil, err
			}
			done = append(done, outbox.RuleKey(&r).String()+"/en")
			break
		}
	}
	sort.Strings(done)
	return done, nil
}

// seed adds the shipped texts in langs where the clinic has none (see
// EnsureTexts), and returns the keys and languages it added.
func (s *Service) seed(ctx context.Context, def string, langs []string, now time.Time) ([]string, error) {
	var added []string
	for _, kind := range outbox.TemplateKinds() {
		for _, lang := range langs {
			body, ok := texts.Default(kind, lang)
			if !ok {
				continue
			}
			ok, err := s.store.AddMessageTemplate(ctx, kind, lang, body, now)
			if err != nil {
				return nil, err
			}
			if ok {
				added = append(added, kind+"/"+lang)
			}
		}
	}
	rules, err := s.store.Rules(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := s.store.Texts(ctx)
	if err != nil {
		return nil, err
	}
	for i := range rules {
		r := &rules[i]
		have := stored.Rules[r.ID]
		kind := texts.ReminderKind(r.Before())
		shipped, _ := texts.Default(kind, def)
		if len(have) > 0 && have[def] != shipped {
			continue // the clinic's own text: its other languages are its to write
		}
		n, err := s.seedRule(ctx, r, langs, now)
		if err != nil {
			return nil, err
		}
		added = append(added, n...)
	}
	return added, nil
}

// seedRule adds rule's shipped texts in langs where it has none.
func (s *Service) seedRule(ctx context.Context, rule *models.ReminderRule, langs []string, now time.Time) ([]string, error) {
	var added []string
	kind := texts.ReminderKind(rule.Before())
	for _, lang := range langs {
		body, ok := texts.Default(kind, lang)
		if !ok {
			continue
		}
		ok, err := s.store.AddRuleTemplate(ctx, rule.ID, lang, body, now)
		if err != nil {
			return nil, err
		}
		if ok {
			added = append(added, outbox.RuleKey(rule).String()+"/"+lang)
		}
	}
	return added, nil
}

// SeedRule gives a new rule the shipped texts for its timing in every
// language the clinic writes in, inside the transaction ctx carries.
func (s *Service) SeedRule(ctx context.Context, rule *models.ReminderRule, now time.Time) error {
	langs, err := s.outbox.Languages(ctx)
	if err != nil {
		return err
	}
	if _, err := s.seedRule(ctx, rule, langs, now); err != nil {
		return fmt.Errorf("wording: texts of rule %q: %w", rule.Name, err)
	}
	return nil
}
