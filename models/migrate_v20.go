package models

import (
	"time"

	"gorm.io/gorm"
)

// migrateV20 adds the analytics summary: per clinic-local day, the counts
// of each breakdown line (analytics_days), the day each appointment was
// last counted in (analytics_members, so that a move marks its old day
// too), the days whose counts are out of date (analytics_dirty), how far
// the domain events have been read (analytics_state) and, on PostgreSQL,
// which of the latest events were read (analytics_seen). See
// docs/analytics.md.
func migrateV20(tx *gorm.DB) error {
	for _, m := range []any{&v20AnalyticsDay{}, &v20AnalyticsMember{}, &v20AnalyticsDirty{}, &v20AnalyticsState{}, &v20AnalyticsSeen{}} {
		if tx.Migrator().HasTable(m) {
			continue
		}
		if err := tx.Migrator().CreateTable(m); err != nil {
			return err
		}
	}
	return nil
}

// v20AnalyticsDay is analytics_days as migration 20 creates it.
type v20AnalyticsDay struct {
	Day         string `gorm:"primaryKey;size:10"`
	Dim         string `gorm:"primaryKey;size:8"`
	Line        string `gorm:"primaryKey;size:40"`
	N           int64  `gorm:"not null;default:0"`
	Confirmed   int64  `gorm:"not null;default:0"`
	Cancelled   int64  `gorm:"not null;default:0"`
	Rescheduled int64  `gorm:"not null;default:0"`
	NoShow      int64  `gorm:"not null;default:0"`
	Outcome     int64  `gorm:"not null;default:0"`
	Sent        int64  `gorm:"not null;default:0"`
	Delivered   int64  `gorm:"not null;default:0"`
}

func (v20AnalyticsDay) TableName() string { return "analytics_days" }

// v20AnalyticsMember is analytics_members as migration 20 creates it.
type v20AnalyticsMember struct {
	AppointmentID uint   `gorm:"primaryKey;autoIncrement:false"`
	Day           string `gorm:"size:10;not null;index:idx_analytics_members_day"`
}

func (v20AnalyticsMember) TableName() string { return "analytics_members" }

// v20AnalyticsDirty is analytics_dirty as migration 20 creates it.
type v20AnalyticsDirty struct {
	Day      string    `gorm:"primaryKey;size:10"`
	EventID  uint      `gorm:"not null;default:0"`
	Initial  bool      `gorm:"not null;default:false"`
	MarkedAt time.Time `gorm:"not null"`
}

func (v20AnalyticsDirty) TableName() string { return "analytics_dirty" }

// v20AnalyticsState is analytics_state as migration 20 creates it.
type v20AnalyticsState struct {
	ID      uint      `gorm:"primaryKey;autoIncrement:false"`
	Zone    string    `gorm:"size:64;not null"`
	EventID uint      `gorm:"not null;default:0"`
	ResetAt time.Time `gorm:"not null"`
}

func (v20AnalyticsState) TableName() string { return "analytics_state" }

// v20AnalyticsSeen is analytics_seen as migration 20 creates it.
type v20AnalyticsSeen struct {
	EventID uint `gorm:"primaryKey;autoIncrement:false"`
}

func (v20AnalyticsSeen) TableName() string { return "analytics_seen" }
