package boltstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

var (
	// ErrNoDatabase is returned by Open when the database file is missing
	// or empty where state is expected: the file is empty (bbolt writes
	// its first pages before Open returns, so an empty file was cut), or
	// it is missing from a directory that holds other files. Starting
	// with empty state then would lose the framework id and orphan every
	// task; Config.Init says to start fresh anyway.
	ErrNoDatabase = errors.New("boltstore: no database where state is expected")
	// ErrCorrupt is returned when the database file is damaged: invalid
	// meta pages, a truncated file, a page that does not parse, or a
	// failed consistency check.
	ErrCorrupt = errors.New("boltstore: database file is damaged")
)

// remedy and remedyMissing are what the errors of a damaged or a
// missing file tell the operator.
const (
	remedy        = "restore the file from a backup (`stadion state check` verifies one), or move it away and run `stadion serve --init` to start with empty state"
	remedyMissing = "restore the file from a backup, or run `stadion serve --init` to start with empty state (a new framework id: the tasks of the old one are orphaned)"
)

// Unused reports whether dir is missing or holds nothing: a first start,
// where Open may create the database without Config.Init.
func Unused(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("read state directory: %w", err)
	}
	return len(entries) == 0, nil
}

// preflight refuses a missing or empty file where state is expected and
// checks an existing file before bbolt opens it for writing.
func preflight(cfg Config, deep bool) error {
	info, err := os.Stat(cfg.Path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if cfg.ReadOnly {
			return fmt.Errorf("open state %s: %w: the file does not exist", cfg.Path, ErrNoDatabase)
		}
		if cfg.Init {
			return nil
		}
		others, err := otherEntries(cfg.Path)
		if err != nil {
			return err
		}
		if len(others) > 0 {
			return fmt.Errorf("open state %s: %w: the file is missing but its directory holds %s; %s",
				cfg.Path, ErrNoDatabase, strings.Join(others, ", "), remedyMissing)
		}
		return nil
	case err != nil:
		return fmt.Errorf("open state %s: %w", cfg.Path, err)
	case info.Size() == 0:
		if cfg.Init && !cfg.ReadOnly {
			return nil
		}
		return fmt.Errorf("open state %s: %w: the file is empty (0 bytes); %s", cfg.Path, ErrNoDatabase, remedy)
	}
	return verify(cfg.Path, cfg.Timeout, deep)
}

// otherEntries lists the names in the database's directory other than
// the database itself, at most a few.
func otherEntries(path string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Dir(path))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read state directory: %w", err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			names = append(names, e.Name())
		}
	}
	if len(names) > 3 {
		names = append(names[:3], fmt.Sprintf("and %d more", len(names)-3))
	}
	return names, nil
}

// verify opens the file read-only and walks every page of its tree in
// this goroutine, where a damaged page becomes an error. bbolt's writable
// Open walks the same pages to rebuild its free list (the file is written
// with NoFreelistSync), but in a goroutine of its own, where the panic of
// a damaged page, or the fault of a page past the end of a truncated file,
// would end the process. With deep, it also runs bbolt's consistency check
// (tx.Check), which is safe once the walk passed.
func verify(path string, timeout time.Duration, deep bool) error {
	var db *bolt.DB
	err := protect(func() (err error) {
		db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: timeout})
		return err
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return fmt.Errorf("open state %s: %w (waited %s)", path, ErrLocked, timeout)
	}
	if err != nil {
		return fmt.Errorf("open state %s: %w: %w; %s", path, ErrCorrupt, err, remedy)
	}
	defer db.Close()
	err = protect(func() error { return db.View(walkPages) })
	if err == nil && deep {
		err = db.View(check)
	}
	if err != nil {
		return fmt.Errorf("open state %s: %w: %w; %s", path, ErrCorrupt, err, remedy)
	}
	return nil
}

// walkPages touches every page of the file's tree: every bucket, key and value.
func walkPages(tx *bolt.Tx) error {
	info, err := os.Stat(tx.DB().Path())
	if err != nil {
		return err
	}
	if tx.Size() > info.Size() {
		return fmt.Errorf("truncated: the file has %d bytes, its pages reach to byte %d", info.Size(), tx.Size())
	}
	var visit func(b *bolt.Bucket, path []string) error
	visit = func(b *bolt.Bucket, path []string) error {
		c := b.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v == nil {
				child := b.Bucket(k)
				if child == nil {
					return fmt.Errorf("bucket %s: key %q has no value", where(path...), k)
				}
				if err := visit(child, append(path, string(k))); err != nil {
					return err
				}
				continue
			}
			if len(v) > 0 {
				_ = v[0] + v[len(v)-1] // touch the value's first and last page
			}
		}
		return nil
	}
	return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
		return visit(b, []string{string(name)})
	})
}

// check collects bbolt's consistency check.
func check(tx *bolt.Tx) error {
	var errs []error
	more := 0
	for err := range tx.Check() {
		if len(errs) < 10 {
			errs = append(errs, err)
		} else {
			more++
		}
	}
	if more > 0 {
		errs = append(errs, fmt.Errorf("and %d more", more))
	}
	return errors.Join(errs...)
}

// errPanic marks a panic of bbolt turned into an error.
var errPanic = errors.New("damaged page")

// protect runs fn, turning a panic (bbolt asserts the pages it reads) or a
// memory fault (a page past the end of a truncated file) into an error.
func protect(fn func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", errPanic, r)
		}
	}()
	return fn()
}

// where names a record by its buckets and key: apps["/prod/web"]["2026-..."].
func where(path ...string) string {
	var b strings.Builder
	for i, p := range path {
		if i == 0 {
			b.WriteString(p)
			continue
		}
		fmt.Fprintf(&b, "[%q]", p)
	}
	return b.String()
}

// Check verifies a database file offline, deeper than Open: the walk of
// Open, then bbolt's consistency check. It opens the file read-only and
// fails with ErrLocked while a server holds it.
func Check(path string, timeout time.Duration) error {
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	return preflight(Config{Path: path, ReadOnly: true, Timeout: timeout}, true)
}
