package models

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// SuppressedNumber is a number that opted out, kept after its patient was
// erased so that the opt-out outlives the erasure. Only a keyed hash of the
// number is stored (NumberHash), never the number.
type SuppressedNumber struct {
	Hash      string    `gorm:"primaryKey;size:64"`
	Source    string    `gorm:"size:32;not null;default:''"`
	CreatedAt time.Time `gorm:"not null"`
}

// numberKeySetting is the setting that holds the hex key of NumberHash,
// made the first time a number is suppressed.
const numberKeySetting = "number_hash_key"

// NumberHash is the keyed hash (HMAC-SHA-256, hex) under which number is
// kept in the suppression list.
func NumberHash(key []byte, number string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(number))
	return hex.EncodeToString(m.Sum(nil))
}

// numberKey reads the server's key for NumberHash. When there is none yet,
// create says to make one, in the transaction ctx carries (instances doing
// so at once agree on the first one stored); otherwise it returns nil, as
// no number can have been suppressed.
func (s *Store) numberKey(ctx context.Context, create bool) ([]byte, error) {
	v, err := s.Setting(ctx, numberKeySetting)
	if isNotFound(err) && create {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		if _, err := s.AddSetting(ctx, numberKeySetting, hex.EncodeToString(b)); err != nil {
			return nil, err
		}
		v, err = s.Setting(ctx, numberKeySetting)
	}
	switch {
	case isNotFound(err):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("store: number hash key: %w", err)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < 16 {
		return nil, errors.New("store: number hash key: not a hex key of at least 16 bytes")
	}
	return key, nil
}

// hashes returns the keyed hash of each non-empty number; none when there
// is no key and create is false.
func (s *Store) hashes(ctx context.Context, numbers []string, create bool) (map[string]string, error) {
	out := make(map[string]string, len(numbers))
	if len(numbers) == 0 {
		return out, nil
	}
	key, err := s.numberKey(ctx, create)
	if err != nil || key == nil {
		return out, err
	}
	for _, n := range numbers {
		if n != "" {
			out[n] = NumberHash(key, n)
		}
	}
	return out, nil
}

// SuppressNumber adds number to the suppression list (a no-op when it is
// there already or empty).
func (s *Store) SuppressNumber(ctx context.Context, number, source string, now time.Time) error {
	if number == "" {
		return nil
	}
	h, err := s.hashes(ctx, []string{number}, true)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(db *gorm.DB) error {
		return db.Clauses(clause.OnConflict{DoNothing: true}).
			Create(&SuppressedNumber{Hash: h[number], Source: ClipBytes(source, 32), CreatedAt: DBTime(now)}).Error
	})
	if err != nil {
		return fmt.Errorf("store: suppress number: %w", err)
	}
	return nil
}

// UnsuppressNumber removes number from the suppression list (its owner
// opted back in).
func (s *Store) UnsuppressNumber(ctx context.Context, number string) error {
	h, err := s.hashes(ctx, []string{number}, false)
	if err != nil || h[number] == "" {
		return err
	}
	err = s.write(ctx, func(db *gorm.DB) error {
		return db.Where("hash = ?", h[number]).Delete(&SuppressedNumber{}).Error
	})
	if err != nil {
		return fmt.Errorf("store: unsuppress number: %w", err)
	}
	return nil
}

// SuppressedNumbers returns which of numbers are on the suppression list.
func (s *Store) SuppressedNumbers(ctx context.Context, numbers []string) (map[string]bool, error) {
	out := map[string]bool{}
	h, err := s.hashes(ctx, numbers, false)
	if err != nil || len(h) == 0 {
		return out, err
	}
	byHash := make(map[string]string, len(h))
	list := make([]string, 0, len(h))
	for n, x := range h {
		byHash[x] = n
		list = append(list, x)
	}
	var found []string
	if err := s.conn(ctx).Model(&SuppressedNumber{}).Where("hash IN ?", list).Pluck("hash", &found).Error; err != nil {
		return nil, fmt.Errorf("store: suppressed numbers: %w", Classify(err))
	}
	for _, x := range found {
		out[byHash[x]] = true
	}
	return out, nil
}
