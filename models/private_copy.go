package models

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// copyPattern names the files of private copies (os.CreateTemp).
const copyPattern = ".apptconfirm-copy-*.db"

// staleCopyAge is how long after its last write a private copy is taken
// for one a stopped process left behind (no preview runs that long).
const staleCopyAge = 6 * time.Hour

// removeStaleCopies deletes the private copies in dir (with their log
// files) last written before cutoff: a process stopped during a preview
// leaves its copy, which holds patients' data.
func removeStaleCopies(dir string, cutoff time.Time) {
	names, _ := filepath.Glob(filepath.Join(dir, copyPattern+"*"))
	for _, name := range names {
		if fi, err := os.Stat(name); err == nil && fi.Mode().IsRegular() && fi.ModTime().Before(cutoff) {
			_ = os.Remove(name)
		}
	}
}

// PrivateCopy opens a private copy of the live SQLite database, for work
// whose writes are to be thrown away but that must not hold the live
// database's write lock while it runs (an import's preview). The copy is
// taken with VACUUM INTO, which reads the database in one read
// transaction: in WAL mode it blocks no writer, and the copy holds exactly
// what was committed when it began. It is written to a new file in dir, or,
// when dir is empty, beside the database (where the operator gave it room;
// os.TempDir for an in-memory database), opened as a Store of its own
// whose domain events go nowhere, and the returned function closes it and
// deletes the file. Copies a stopped process left there (unchanged for six
// hours) are deleted first. Call it outside Tx; on PostgreSQL it returns
// ErrUsePgDump.
func (s *Store) PrivateCopy(ctx context.Context, dir string) (*Store, func() error, error) {
	if s.driver != DriverSQLite {
		return nil, nil, fmt.Errorf("store: private copy: %w", ErrUsePgDump)
	}
	if dir == "" {
		dir = s.fileDir(ctx)
	}
	removeStaleCopies(dir, time.Now().Add(-staleCopyAge))
	tmp, err := os.CreateTemp(dir, copyPattern)
	if err != nil {
		return nil, nil, fmt.Errorf("store: private copy: %w", err)
	}
	path := tmp.Name()
	_ = tmp.Close()
	remove := func() error {
		err := os.Remove(path)
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		removeSidecars(path)
		return err
	}
	if err := s.db.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		_ = remove()
		return nil, nil, fmt.Errorf("store: private copy: %w", Classify(err))
	}
	cp, err := Open(Options{Driver: DriverSQLite, DSN: path, MaxOpenConns: 2})
	if err != nil {
		_ = remove()
		return nil, nil, fmt.Errorf("store: private copy: %w", err)
	}
	closeFn := func() error {
		err := cp.Close()
		if rerr := remove(); rerr != nil && err == nil {
			err = rerr
		}
		return err
	}
	return cp, closeFn, nil
}

// fileDir is the directory of the SQLite database's main file, or
// os.TempDir when it has none (an in-memory database).
func (s *Store) fileDir(ctx context.Context) string {
	var rows []struct {
		Seq  int
		Name string
		File string
	}
	if err := s.db.WithContext(ctx).Raw("PRAGMA database_list").Scan(&rows).Error; err == nil {
		for _, r := range rows {
			if r.Name == "main" && r.File != "" {
				return filepath.Dir(r.File)
			}
		}
	}
	return os.TempDir()
}
