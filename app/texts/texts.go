// Package texts holds the texts the app ships for every kind of SMS it
// sends, in each language it ships (en, fr, es, de, nl, pt, it), with the
// names staff read for those kinds and the legal checks on HELP, STOP and
// START answers. The texts are render templates: short clinic SMS written
// as a native speaker would, each fitting one GSM-7 part with realistic
// values wherever the language allows. Clinics edit their own copies; these
// are the defaults and the fallback. It is pure.
package texts

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"apptconfirm/app/render"
)

// The kinds of text, as the app keys its templates and messages. The
// reminder kinds are the defaults of reminder rules (each rule has its own
// text); the others are one template each.
const (
	// KindReminder is a reminder rule's text: the default of the 48 h rule
	// and of any new rule.
	KindReminder = "reminder"
	// KindReminderSoon is the default text of the 2 h rule.
	KindReminderSoon = "reminder_soon"
	// KindBookingConfirmation goes out when an appointment is booked.
	KindBookingConfirmation = "booking_confirmation"
	// KindAckConfirm answers a YES.
	KindAckConfirm = "ack_confirm"
	// KindAckCancel answers a NO.
	KindAckCancel = "ack_cancel"
	// KindOptOutAck is the one text after STOP.
	KindOptOutAck = "optout_ack"
	// KindOptInAck answers START.
	KindOptInAck = "optin_ack"
	// KindHelp answers HELP.
	KindHelp = "help"
	// KindQuestion asks which appointment a bare YES or NO is about.
	KindQuestion = "question"
	// KindCancellationNotice says the clinic cancelled.
	KindCancellationNotice = "cancellation_notice"
	// KindRescheduleNotice says the clinic moved the appointment.
	KindRescheduleNotice = "reschedule_notice"
	// KindRescheduleAck answers a patient who asked for another time.
	KindRescheduleAck = "reschedule_ack"
	// KindRescheduleOffer offers numbered new times.
	KindRescheduleOffer = "reschedule_offer"
	// KindRescheduled confirms the time a patient picked.
	KindRescheduled = "rescheduled"
	// KindOfferTaken says the picked time went to someone else meanwhile,
	// with fresh numbered times.
	KindOfferTaken = "offer_taken"
	// KindNoShowFollowUp invites a patient who missed an appointment to
	// book again through their patient page ({link}).
	KindNoShowFollowUp = "no_show_follow_up"
	// KindWaitlistOffer offers a waitlisted patient a freed time: YES
	// takes it.
	KindWaitlistOffer = "waitlist_offer"
	// KindWaitlistBooked confirms the freed time to the patient whose YES
	// came first.
	KindWaitlistBooked = "waitlist_booked"
	// KindWaitlistTaken tells a later YES that the freed time went to
	// someone else; the patient stays on the waitlist.
	KindWaitlistTaken = "waitlist_taken"
	// KindQuickCallUs is an inbox quick answer: please call us.
	KindQuickCallUs = "quick_call_us"
	// KindQuickWillReply is an inbox quick answer: we will get back to you.
	KindQuickWillReply = "quick_will_reply"
)

// kinds lists every kind in the order staff see them.
var kinds = []string{
	KindReminder, KindReminderSoon, KindBookingConfirmation, KindAckConfirm, KindAckCancel,
	KindCancellationNotice, KindRescheduleNotice, KindRescheduleAck, KindRescheduleOffer, KindRescheduled,
	KindOfferTaken, KindWaitlistOffer, KindWaitlistBooked, KindWaitlistTaken, KindNoShowFollowUp, KindQuestion, KindHelp, KindOptOutAck, KindOptInAck, KindQuickCallUs, KindQuickWillReply,
}

// Kinds returns every kind of text that has defaults, in the order an
// editor lists them.
func Kinds() []string {
	return append([]string(nil), kinds...)
}

// Languages returns the languages every default text exists in, "en" first.
func Languages() []string {
	return render.Languages()
}

// languageNames are the languages as staff read them, in English.
var languageNames = map[string]string{
	"en": "English", "fr": "French", "es": "Spanish", "de": "German",
	"nl": "Dutch", "pt": "Portuguese", "it": "Italian",
}

// LanguageName names a language code for staff ("French" for "fr"); an
// unknown code is returned as it is.
func LanguageName(code string) string {
	if name, ok := languageNames[code]; ok {
		return name
	}
	return code
}

// IsLanguage reports whether code is one of Languages, exactly (lower
// case, no region).
func IsLanguage(code string) bool {
	_, ok := languageNames[code]
	return ok
}

// kindNames are the names staff read. Message kinds that have no default
// text (staff and test messages) are named too, so that one function names
// every message.
var kindNames = map[string]string{
	KindReminder:            "Reminder",
	KindReminderSoon:        "Reminder shortly before",
	KindBookingConfirmation: "Booking confirmation",
	KindAckConfirm:          "Confirmation acknowledgement",
	KindAckCancel:           "Cancellation acknowledgement",
	KindOptOutAck:           "Opt-out acknowledgement (STOP)",
	KindOptInAck:            "Opt-in acknowledgement (START)",
	KindHelp:                "Help answer (HELP)",
	KindQuestion:            "Which-appointment question",
	KindCancellationNotice:  "Cancellation notice",
	KindRescheduleNotice:    "Reschedule notice",
	KindRescheduleAck:       "Reschedule request acknowledgement",
	KindRescheduleOffer:     "Offer of new times",
	KindRescheduled:         "Rescheduled confirmation",
	KindOfferTaken:          "Time taken, new options",
	KindNoShowFollowUp:      "Missed appointment follow-up",
	KindWaitlistOffer:       "Waitlist: freed time offered",
	KindWaitlistBooked:      "Waitlist: freed time booked",
	KindWaitlistTaken:       "Waitlist: freed time already taken",
	KindQuickCallUs:         "Quick answer: please call us",
	KindQuickWillReply:      "Quick answer: we will get back to you",
	"manual":                "Staff message",
	"test":                  "Test message",
}

// KindName returns the name staff read for a kind of text or message
// ("Confirmation acknowledgement" for "ack_confirm"). An unknown kind is
// shown as itself with spaces ("loyalty offer" reads "Loyalty offer"). A
// reminder of a given rule reads better as ReminderName.
func KindName(kind string) string {
	if name, ok := kindNames[kind]; ok {
		return name
	}
	name := strings.TrimSpace(strings.ReplaceAll(kind, "_", " "))
	if name == "" {
		return "Message"
	}
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// ReminderName names the reminder of a rule by how long before the
// appointment it goes out: "Reminder 48 h before", "Reminder 90 min
// before", "Reminder 1 h 30 min before", "Reminder 7 days before".
func ReminderName(before time.Duration) string {
	return "Reminder " + formatBefore(before) + " before"
}

func formatBefore(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d <= 0:
		return "0 min"
	case d >= 3*day && d%day == 0:
		return fmt.Sprintf("%d days", d/day)
	case d%time.Hour == 0:
		return fmt.Sprintf("%d h", d/time.Hour)
	case d < 2*time.Hour:
		return fmt.Sprintf("%d min", d/time.Minute)
	}
	return fmt.Sprintf("%d h %d min", d/time.Hour, (d%time.Hour)/time.Minute)
}

// Rule is a reminder rule the app ships.
type Rule struct {
	Name              string
	Before            time.Duration
	OnlyIfUnconfirmed bool
	// Kind is the key of its default texts: KindReminder or
	// KindReminderSoon.
	Kind string
}

// DefaultRules returns the shipped reminder rules: 48 h before, and 2 h
// before unless already confirmed.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "48h", Before: 48 * time.Hour, Kind: KindReminder},
		{Name: "2h", Before: 2 * time.Hour, OnlyIfUnconfirmed: true, Kind: KindReminderSoon},
	}
}

// ReminderKind is the kind whose shipped texts a reminder rule sent this
// long before the appointment starts with: KindReminderSoon ("see you {day}
// at {time}") under a day, KindReminder otherwise.
func ReminderKind(before time.Duration) string {
	if before < 24*time.Hour {
		return KindReminderSoon
	}
	return KindReminder
}

// UsesChoices reports whether kind's text lists numbered choices with
// {choices}, and so is checked with render.ValidateQuestion.
func UsesChoices(kind string) bool {
	return kind == KindQuestion || kind == KindRescheduleOffer || kind == KindOfferTaken
}

// Default returns the shipped text of kind in lang. A region is ignored
// ("pt-BR" is "pt"); ok is false for an unknown kind or a language that is
// not shipped, so the caller decides on the fallback.
func Default(kind, lang string) (string, bool) {
	byLang, ok := defaults[kind]
	if !ok {
		return "", false
	}
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(lang)), "-")
	base, _, _ = strings.Cut(base, "_")
	text, ok := byLang[base]
	return text, ok
}

// The reasons LegalCheck refuses a text; the error wraps one of them.
var (
	ErrNoClinicName      = errors.New("texts: the text must name the clinic with {clinic}")
	ErrNoStopInstruction = errors.New("texts: the text must tell how to opt out with the word STOP")
)

// legalKinds are the answers that must name the clinic and say how to opt
// out: HELP and STOP by law and carrier rules, and START because it signs
// the patient up again.
var legalKinds = map[string]bool{KindHelp: true, KindOptOutAck: true, KindOptInAck: true}

// IsLegal reports whether kind's text must pass LegalCheck: the HELP, STOP
// (opt-out) and START (opt-in) answers.
func IsLegal(kind string) bool { return legalKinds[kind] }

// LegalCheck refuses a HELP, STOP (opt-out) or START (opt-in) answer that
// lacks the {clinic} placeholder or the word STOP (any case, as a whole
// word: it is the keyword every carrier and our reply parser understand).
// Texts of other kinds pass. A text that is not a valid template fails
// with render's error.
func LegalCheck(kind, body string) error {
	if !legalKinds[kind] {
		return nil
	}
	if err := render.Validate(body); err != nil {
		return fmt.Errorf("texts: %s: %w", kind, err)
	}
	// In a valid template "{clinic}" can only be the placeholder.
	if !strings.Contains(body, "{clinic}") {
		return fmt.Errorf("%w (%s)", ErrNoClinicName, KindName(kind))
	}
	if !hasWord(body, "stop") {
		return fmt.Errorf("%w (%s)", ErrNoStopInstruction, KindName(kind))
	}
	return nil
}

// hasWord reports whether w (lower case) is a whole word of s, any case.
func hasWord(s, w string) bool {
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if strings.ToLower(f) == w {
			return true
		}
	}
	return false
}

// Check is what an editor runs before saving a text of kind: the template
// check that fits the kind (render.ValidateQuestion for a text with
// numbered choices, render.Validate otherwise), then LegalCheck.
func Check(kind, body string) error {
	validate := render.Validate
	if UsesChoices(kind) {
		validate = render.ValidateQuestion
	}
	if err := validate(body); err != nil {
		return fmt.Errorf("texts: %s: %w", kind, err)
	}
	return LegalCheck(kind, body)
}
