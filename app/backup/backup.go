// Package backup takes the nightly copy of a SQLite database
// (backup.dir, backup.keep): a consistent copy while the app keeps
// serving, named by its time, the oldest deleted past the number to keep.
// PostgreSQL has its own tools (pg_dump); the job does not run there.
package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"apptconfirm/models"
)

// Copies are named FilePrefix + UTC time + FileSuffix, so that their names
// sort by age: apptconfirm-20260302T020000Z.db.
const (
	FilePrefix = "apptconfirm-"
	FileSuffix = ".db"
	timeLayout = "20060102T150405Z"
)

// Options configure Nightly.
type Options struct {
	// Dir is where the copies go; it is created (0700) when missing.
	Dir string
	// Keep is how many copies are kept (at least 1).
	Keep int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Nightly takes the nightly copies. It is safe for concurrent use, though
// the job registry never runs it twice at once.
type Nightly struct {
	store *models.Store
	opts  Options
}

// New returns a Nightly for store; it checks that Dir can be used.
func New(store *models.Store, opts Options) (*Nightly, error) {
	if opts.Dir == "" {
		return nil, errors.New("backup: no directory")
	}
	if opts.Keep < 1 {
		return nil, fmt.Errorf("backup: keep must be at least 1, got %d", opts.Keep)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: directory %s: %w", opts.Dir, err)
	}
	return &Nightly{store: store, opts: opts}, nil
}

// Run writes a copy of the database into Dir and deletes the oldest
// copies past Keep. It returns the new copy's path.
func (n *Nightly) Run(ctx context.Context) (string, error) {
	name := FilePrefix + n.opts.Now().UTC().Format(timeLayout) + FileSuffix
	path := filepath.Join(n.opts.Dir, name)
	if err := n.store.Backup(ctx, path, models.BackupOptions{}); err != nil {
		return "", fmt.Errorf("backup: %w", err)
	}
	if err := n.prune(); err != nil {
		return path, err
	}
	return path, nil
}

// Copies lists the copies in dir, oldest first.
func Copies(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	var out []string
	for _, e := range entries {
		name := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(name, FilePrefix) && strings.HasSuffix(name, FileSuffix) {
			stamp := strings.TrimSuffix(strings.TrimPrefix(name, FilePrefix), FileSuffix)
			if _, err := time.Parse(timeLayout, stamp); err == nil {
				out = append(out, filepath.Join(dir, name))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// prune deletes the oldest copies past Keep; files that are not copies are
// left alone.
func (n *Nightly) prune() error {
	copies, err := Copies(n.opts.Dir)
	if err != nil {
		return err
	}
	var errs []error
	for len(copies) > n.opts.Keep {
		if err := os.Remove(copies[0]); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
		copies = copies[1:]
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("backup: prune: %w", err)
	}
	return nil
}
