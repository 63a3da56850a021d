package models

import (
	"time"

	"gorm.io/gorm"
)

// migrateV17 adds import_jobs.
func migrateV17(tx *gorm.DB) error {
	if tx.Migrator().HasTable(&v17ImportJob{}) {
		return nil
	}
	return tx.Migrator().CreateTable(&v17ImportJob{})
}

// v17ImportJob is import_jobs as migration 17 creates it.
type v17ImportJob struct {
	ID        string    `gorm:"primaryKey;size:32"`
	OwnerID   uint      `gorm:"not null;index:idx_import_jobs_owner_id"`
	Name      string    `gorm:"size:255;not null;default:''"`
	State     string    `gorm:"size:16;not null"`
	Done      int       `gorm:"not null;default:0"`
	Total     int       `gorm:"not null;default:0"`
	Summary   string    `gorm:"size:2000;not null;default:''"`
	Error     string    `gorm:"size:1000;not null;default:''"`
	UpdatedAt time.Time `gorm:"not null;index:idx_import_jobs_updated_at"`
}

func (v17ImportJob) TableName() string { return "import_jobs" }
