// Package wording is the clinic's wording of every SMS the app sends: the
// languages it writes to patients in, and each text (every reminder rule's,
// the booking confirmation, the acknowledgements, the HELP, STOP and START
// answers, the numbered question, the notices, the inbox's quick answers)
// in each of them. It adds the texts the app ships (app/texts) where the
// clinic has none, checks every text an admin or the API saves (unknown
// placeholders, the legal wording of HELP, STOP and START answers, size),
// and previews a text on a real or sample appointment in every language,
// with its length, encoding and SMS parts, and a warning where its fixed
// words name a wrong day. Messages are written from these texts by
// app/outbox.
package wording

import (
	"context"
	"fmt"
	"strings"
	"time"

	"apptconfirm/app/outbox"
	"apptconfirm/app/texts"
	"apptconfirm/models"
)

// Service is the clinic's wording. It is safe for concurrent use.
type Service struct {
	store  *models.Store
	outbox *outbox.Outbox
	now    func() time.Time
}

// New returns a Service on store; ob looks texts up and says when messages
// go out. now is the clock (nil means time.Now).
func New(store *models.Store, ob *outbox.Outbox, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, outbox: ob, now: now}
}

// clock returns the current time at the database's precision.
func (s *Service) clock() time.Time { return models.DBTime(s.now()) }

// Audit entity of text and language changes.
const entityTexts = "message_template"

// Languages is what the clinic writes to patients in.
type Languages struct {
	// Default is the clinic's language (config clinic.language): a
	// patient whose language has no text gets this one.
	Default string
	// Enabled are the languages the clinic writes in, in the order of
	// texts.Languages; Default is always among them.
	Enabled []string
	// All are the languages the app ships texts in.
	All []string
}

// IsEnabled reports whether lang is one of l.Enabled.
func (l Languages) IsEnabled(lang string) bool {
	for _, e := range l.Enabled {
		if e == lang {
			return true
		}
	}
	return false
}

// Languages returns the clinic's languages.
func (s *Service) Languages(ctx context.Context) (Languages, error) {
	enabled, err := s.outbox.Languages(ctx)
	if err != nil {
		return Languages{}, fmt.Errorf("wording: languages: %w", err)
	}
	return Languages{Default: s.outbox.DefaultLanguage(), Enabled: enabled, All: texts.Languages()}, nil
}

// SetLanguages sets the languages the clinic writes to patients in. Each
// must be one the app ships (models.FieldErrors on "languages" otherwise);
// the clinic's default language is always kept. A language enabled now
// gets the shipped texts wherever it has none (see EnsureTexts); texts of
// a language disabled now are kept, and its patients get the default
// language until it is enabled again.
func (s *Service) SetLanguages(ctx context.Context, actor models.Actor, langs []string) (Languages, error) {
	def := s.outbox.DefaultLanguage()
	want := map[string]bool{def: true}
	for _, l := range langs {
		l = strings.TrimSpace(l)
		if !texts.IsLanguage(l) {
			return Languages{}, models.FieldErrors{"languages": fmt.Sprintf("%q is not a language the app writes in; choose among %s",
				models.Clip(l, 20), strings.Join(texts.Languages(), ", "))}
		}
		want[l] = true
	}
	var enabled []string
	for _, l := range texts.Languages() {
		if want[l] {
			enabled = append(enabled, l)
		}
	}
	now := s.clock()
	err := s.store.Tx(ctx, func(ctx context.Context) error {
		cur, err := s.outbox.Languages(ctx)
		if err != nil {
			return err
		}
		if strings.Join(cur, ",") == strings.Join(enabled, ",") {
			return nil
		}
		if err := s.store.PutSetting(ctx, models.SettingLanguages, strings.Join(enabled, ",")); err != nil {
			return err
		}
		var added []string
		for _, l := range enabled {
			if !contains(cur, l) {
				added = append(added, l)
			}
		}
		if len(added) > 0 {
			if _, err := s.seed(ctx, def, added, now); err != nil {
				return err
			}
		}
		detail := "languages: " + strings.Join(enabled, ", ")
		if err := s.store.Audit(ctx, now, actor, "languages.update", entityTexts, 0, detail); err != nil {
			return err
		}
		return s.store.Record(ctx, models.Event{At: now, Type: models.EventTextsChanged, Source: "languages", Detail: detail})
	})
	if err != nil {
		return Languages{}, fmt.Errorf("wording: set languages: %w", models.Classify(err))
	}
	return s.Languages(ctx)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
