package models

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// ImportJob is what is kept of a CSV import started from the web page, so
// that its progress and outcome survive a restart of the server. It holds
// no row of the file: the file itself, its first rows and the refused
// rows' details live in the process's memory only (they may name
// patients).
type ImportJob struct {
	ID      string `gorm:"primaryKey;size:32"`
	OwnerID uint   `gorm:"not null;index"`
	// Name is the uploaded file's name.
	Name  string `gorm:"size:255;not null;default:''"`
	State string `gorm:"size:16;not null"`
	// Done and Total count the rows of the run under way, as committed.
	Done  int `gorm:"not null;default:0"`
	Total int `gorm:"not null;default:0"`
	// Summary is the last run's counts, as JSON.
	Summary string `gorm:"size:2000;not null;default:''"`
	// Error says why the last run failed.
	Error     string    `gorm:"size:1000;not null;default:''"`
	UpdatedAt time.Time `gorm:"not null;index;autoUpdateTime:false"`
}

// SaveImportJob inserts or replaces j (inside the transaction ctx carries,
// if any).
func (s *Store) SaveImportJob(ctx context.Context, j *ImportJob) error {
	j.UpdatedAt = DBTime(j.UpdatedAt)
	j.Name = Clip(j.Name, 255)
	j.Error = Clip(j.Error, 1000)
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Clauses(clause.OnConflict{UpdateAll: true}).Create(j).Error
	})
	if err != nil {
		return fmt.Errorf("store: save import job: %w", err)
	}
	return nil
}

// ImportJob returns the import job id, or ErrNotFound.
func (s *Store) ImportJob(ctx context.Context, id string) (*ImportJob, error) {
	var j ImportJob
	if err := s.conn(ctx).Where("id = ?", id).Take(&j).Error; err != nil {
		if err = Classify(err); errors.Is(err, ErrNotFound) {
			return nil, fmt.Errorf("import job: %w", ErrNotFound)
		}
		return nil, fmt.Errorf("store: import job: %w", err)
	}
	return &j, nil
}

// DeleteImportJobsBefore deletes the import jobs last changed before
// cutoff.
func (s *Store) DeleteImportJobsBefore(ctx context.Context, cutoff time.Time) error {
	err := s.write(ctx, func(db *gorm.DB) error {
		return db.Where("updated_at < ?", DBTime(cutoff)).Delete(&ImportJob{}).Error
	})
	if err != nil {
		return fmt.Errorf("store: delete import jobs: %w", err)
	}
	return nil
}
