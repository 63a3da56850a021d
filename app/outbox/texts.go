package outbox

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// Key names one of the clinic's texts: that of a message kind
// (acknowledgements, notices, help, the numbered question, the inbox's
// quick answers) or that of one reminder rule.
type Key struct {
	// Kind is the message kind (a models.Kind* or texts.Kind* value);
	// models.KindReminder for a rule's text.
	Kind string
	// RuleID is the rule whose text it is, for a reminder.
	RuleID uint
	// shipped is the kind whose shipped texts a rule falls back on.
	shipped string
}

// KindKey is the key of a message kind's text.
func KindKey(kind string) Key { return Key{Kind: kind} }

// RuleKey is the key of rule's text; the shipped text it falls back on is
// the one for its timing (texts.ReminderKind).
func RuleKey(rule *models.ReminderRule) Key {
	return Key{Kind: models.KindReminder, RuleID: rule.ID, shipped: texts.ReminderKind(rule.Before())}
}

// IsRule reports whether k is a reminder rule's text.
func (k Key) IsRule() bool { return k.RuleID != 0 }

// String writes k as the API and the editor's URLs name it: the kind
// ("ack_confirm"), or "rule:" and the rule's id ("rule:3").
func (k Key) String() string {
	if k.IsRule() {
		return "rule:" + strconv.FormatUint(uint64(k.RuleID), 10)
	}
	return k.Kind
}

// ParseKey reads a key as String writes it. The kind of a key is not
// checked against the known kinds here; a rule key carries no shipped
// fallback until the rule is known (see RuleKey).
func ParseKey(s string) (Key, bool) {
	if id, ok := strings.CutPrefix(s, "rule:"); ok {
		n, err := strconv.ParseUint(id, 10, 32)
		if err != nil || n == 0 || strconv.FormatUint(n, 10) != id {
			return Key{}, false
		}
		return Key{Kind: models.KindReminder, RuleID: uint(n), shipped: texts.KindReminder}, true
	}
	if s == "" || len(s) > 40 {
		return Key{}, false
	}
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '_' {
			return Key{}, false
		}
	}
	return Key{Kind: s}, true
}

// shippedKind is the kind whose shipped texts k falls back on.
func (k Key) shippedKind() string {
	if k.IsRule() {
		if k.shipped != "" {
			return k.shipped
		}
		return texts.KindReminder
	}
	return k.Kind
}

// TemplateKinds are the kinds of text the app sends other than reminders,
// in the order the editor lists them: each has a text per language.
func TemplateKinds() []string {
	return []string{
		texts.KindBookingConfirmation, texts.KindAckConfirm, texts.KindAckCancel,
		texts.KindCancellationNotice, texts.KindRescheduleNotice,
		texts.KindRescheduleAck, texts.KindRescheduleOffer, texts.KindRescheduled, texts.KindOfferTaken,
		texts.KindWaitlistOffer, texts.KindWaitlistBooked, texts.KindWaitlistTaken,
		texts.KindNoShowFollowUp, texts.KindQuestion, texts.KindHelp, texts.KindOptOutAck, texts.KindOptInAck,
		texts.KindQuickCallUs, texts.KindQuickWillReply,
	}
}

// QuickAnswerKinds are the inbox's quick answers, in the order it offers
// them.
func QuickAnswerKinds() []string {
	return []string{texts.KindQuickCallUs, texts.KindQuickWillReply}
}

// IsTemplateKind reports whether kind is one of TemplateKinds.
func IsTemplateKind(kind string) bool {
	for _, k := range TemplateKinds() {
		if k == kind {
			return true
		}
	}
	return false
}

// ParseLanguages reads the stored list of enabled languages: the known
// codes of a comma-separated list, in the order texts.Languages lists them,
// without repeats. ok is false when the list names no known language.
func ParseLanguages(value string) (langs []string, ok bool) {
	want := map[string]bool{}
	for _, l := range strings.Split(value, ",") {
		want[strings.TrimSpace(l)] = true
	}
	for _, l := range texts.Languages() {
		if want[l] {
			langs = append(langs, l)
		}
	}
	return langs, len(langs) > 0
}

// Texts is what messages are written from: the clinic's stored texts, the
// languages it enabled and its default language, and its name for {clinic}.
// Load one with Outbox.Texts; it is read-only and safe to share.
type Texts struct {
	// Default is the clinic's language: the one a message falls back to.
	Default string
	// Enabled are the languages the clinic writes to patients in, in the
	// order of texts.Languages; Default is always one of them.
	Enabled []string
	// ClinicName fills {clinic}.
	ClinicName string
	// Links fills {link} for the appointment a text is about; nil leaves
	// it empty.
	Links Linker

	enabled map[string]bool
	stored  models.Texts
}

// Texts loads the clinic's texts and languages.
func (o *Outbox) Texts(ctx context.Context) (*Texts, error) {
	stored, err := o.store.Texts(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox: texts: %w", err)
	}
	enabled, err := o.Languages(ctx)
	if err != nil {
		return nil, err
	}
	t := newTexts(o.defaultLanguage(), enabled, o.opts.ClinicName, stored)
	t.Links = o.opts.Links
	return t, nil
}

// newTexts builds a Texts; enabled must hold def.
func newTexts(def string, enabled []string, clinicName string, stored models.Texts) *Texts {
	t := &Texts{Default: def, Enabled: enabled, ClinicName: clinicName, enabled: map[string]bool{}, stored: stored}
	for _, l := range enabled {
		t.enabled[l] = true
	}
	return t
}

// Languages returns the languages the clinic enabled (the setting
// models.SettingLanguages; every shipped language without it), in the
// order of texts.Languages, with the default language always among them.
func (o *Outbox) Languages(ctx context.Context) ([]string, error) {
	def := o.defaultLanguage()
	value, err := o.store.Setting(ctx, models.SettingLanguages)
	if errors.Is(err, models.ErrNotFound) {
		return texts.Languages(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("outbox: languages: %w", err)
	}
	langs, _ := ParseLanguages(value + "," + def)
	return langs, nil
}

// DefaultLanguage is the clinic's language (Options.DefaultLanguage).
func (o *Outbox) DefaultLanguage() string { return o.defaultLanguage() }

func (o *Outbox) defaultLanguage() string {
	if texts.IsLanguage(o.opts.DefaultLanguage) {
		return o.opts.DefaultLanguage
	}
	return "en"
}

// IsEnabled reports whether the clinic writes to patients in lang.
func (t *Texts) IsEnabled(lang string) bool { return t.enabled[lang] }

// Stored returns the clinic's texts of k by language (nil when it has
// none). The map is shared: do not change it.
func (t *Texts) Stored(k Key) map[string]string {
	if k.IsRule() {
		return t.stored.Rules[k.RuleID]
	}
	return t.stored.Kinds[k.Kind]
}

// Choice is the text a message is written from, and in which language.
type Choice struct {
	Template string
	// Language is the language of Template.
	Language string
	// FallbackFrom is the patient's language when the clinic has no text
	// in it (or does not write in it) and Template is in the default
	// language instead; "" otherwise.
	FallbackFrom string
	// Shipped is set when the clinic has no text stored and Template is
	// the one the app ships.
	Shipped bool
}

// patientLanguage reads a patient's language as a code ("pt-BR" is "pt");
// empty is "".
func patientLanguage(lang string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	base, _, _ = strings.Cut(base, "_")
	return base
}

// Pick chooses the text of k for a patient whose language is lang: the
// clinic's text in that language when it writes in it and has one, else
// its text in the default language (a fallback, flagged), else the text
// the app ships in the patient's language (if enabled) or the default one.
// An empty lang is the default language, and no fallback. ok is false only
// for a kind the app has no text of at all.
func (t *Texts) Pick(k Key, lang string) (Choice, bool) {
	want := patientLanguage(lang)
	if want == "" {
		want = t.Default
	}
	stored := t.Stored(k)
	if t.enabled[want] && strings.TrimSpace(stored[want]) != "" {
		return Choice{Template: stored[want], Language: want}, true
	}
	fallback := ""
	if want != t.Default {
		fallback = want
	}
	if body := stored[t.Default]; strings.TrimSpace(body) != "" {
		return Choice{Template: body, Language: t.Default, FallbackFrom: fallback}, true
	}
	if t.enabled[want] {
		if body, ok := texts.Default(k.shippedKind(), want); ok {
			return Choice{Template: body, Language: want, Shipped: true}, true
		}
	}
	if body, ok := texts.Default(k.shippedKind(), t.Default); ok {
		return Choice{Template: body, Language: t.Default, FallbackFrom: fallback, Shipped: true}, true
	}
	return Choice{}, false
}
