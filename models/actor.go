package models

import (
	"errors"
	"sort"
	"strings"
)

// Actor is who makes a change, as the audit log and the timeline name them.
type Actor struct {
	// UserID is the logged-in user, nil for the API, the system or a patient.
	UserID *uint
	// Name is what the audit log shows: a user's email, "api:<token name>",
	// "system" or "patient".
	Name string
}

// SystemActor is the actor for changes the application makes on its own.
func SystemActor() Actor { return Actor{Name: "system"} }

// PatientActor is the actor for changes a patient makes by SMS or link.
func PatientActor() Actor { return Actor{Name: "patient"} }

// Label is the actor's name for audit and timeline text ("system" when
// the name is empty).
func (a Actor) Label() string {
	if n := strings.TrimSpace(a.Name); n != "" {
		return n
	}
	return "system"
}

// IsPatient reports whether the patient made the change.
func (a Actor) IsPatient() bool { return a.UserID == nil && a.Name == PatientActor().Name }

// TimelineKind is the kind of timeline entry a change by a gets: staff
// actions by a logged-in user, everything else a system entry.
func (a Actor) TimelineKind() string {
	if a.UserID != nil {
		return TimelineStaff
	}
	return TimelineSystem
}

// FieldErrors maps a form or API field name to what is wrong with it; it is
// the validation error every service returns for bad input, and the edges
// turn it into a 400 or 422 that names each field. Field names are the
// REST API's snake_case names ("starts_at", "phone", "email").
type FieldErrors map[string]string

// Error lists every field and its message, sorted by field:
// "invalid input: email: already in use; name: required".
func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid input: ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteString(": ")
		b.WriteString(f[k])
	}
	return b.String()
}

// Add records msg for field unless the field already has a message (the
// first problem found is the one worth telling).
func (f FieldErrors) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Err returns f as an error, or nil when it holds nothing.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}

// AsFieldErrors returns the FieldErrors inside err, if any.
func AsFieldErrors(err error) (FieldErrors, bool) {
	var fe FieldErrors
	if errors.As(err, &fe) {
		return fe, true
	}
	return nil, false
}
