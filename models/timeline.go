package models

import (
	"context"
	"fmt"

	"gorm.io/gorm"
)

// AddTimeline writes timeline entries (their times brought to UTC, their
// details cut to the column), in as few statements as the database allows.
func (s *Store) AddTimeline(ctx context.Context, entries ...TimelineEntry) error {
	if len(entries) == 0 {
		return nil
	}
	for i := range entries {
		entries[i].At = DBTime(entries[i].At)
		entries[i].Detail = Clip(entries[i].Detail, 1000)
	}
	if st := s.txOf(ctx); st != nil && st.deferLogs {
		st.timeline = append(st.timeline, entries...)
		return nil
	}
	err := s.write(ctx, func(db *gorm.DB) error { return s.insertTimeline(db, entries) })
	if err != nil {
		return fmt.Errorf("store: write timeline: %w", err)
	}
	return nil
}

// Timeline returns an appointment's timeline, oldest first, or ErrNotFound
// when the appointment does not exist.
func (s *Store) Timeline(ctx context.Context, appointmentID uint) ([]TimelineEntry, error) {
	var n int64
	if err := s.conn(ctx).Model(&Appointment{}).Where("id = ?", appointmentID).Count(&n).Error; err != nil {
		return nil, fmt.Errorf("store: timeline: %w", Classify(err))
	}
	if n == 0 {
		return nil, fmt.Errorf("appointment %d: %w", appointmentID, ErrNotFound)
	}
	var es []TimelineEntry
	if err := s.conn(ctx).Where("appointment_id = ?", appointmentID).Order("at, id").Find(&es).Error; err != nil {
		return nil, fmt.Errorf("store: timeline: %w", Classify(err))
	}
	return es, nil
}
