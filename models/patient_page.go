package models

import (
	"context"
	"fmt"
	"time"
)

// TimelineSince reports whether appointment appointmentID has a timeline
// entry of kind with exactly detail at or after since: the patient page
// records its opening once in a while, not on every reload.
func (s *Store) TimelineSince(ctx context.Context, appointmentID uint, kind, detail string, since time.Time) (bool, error) {
	n, err := count[TimelineEntry](ctx, s, "appointment_id = ? AND kind = ? AND detail = ? AND at >= ?",
		appointmentID, kind, detail, DBTime(since))
	if err != nil {
		return false, fmt.Errorf("store: timeline of appointment %d: %w", appointmentID, err)
	}
	return n > 0, nil
}
