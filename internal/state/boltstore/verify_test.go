package boltstore

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/statetest"
)

func TestContractDamaged(t *testing.T) {
	statetest.RunDamaged(t,
		func(t *testing.T) state.Store {
			return open(t, filepath.Join(t.TempDir(), "stadion.db"))
		},
		func(t *testing.T, s state.Store, tg statetest.Target, data []byte) state.Store {
			bs := s.(*Store)
			if err := bs.Close(); err != nil {
				t.Fatal(err)
			}
			db, err := bolt.Open(bs.path, 0o600, &bolt.Options{Timeout: time.Second})
			if err != nil {
				t.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket(bucketOf(tg.Kind))
				key := tg.ID
				if !tg.Version.IsZero() {
					b, key = b.Bucket([]byte(tg.ID)), tg.Version.String()
				}
				return b.Put([]byte(key), data)
			})
			if cerr := db.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatal(err)
			}
			return open(t, bs.path)
		})
}

// filled returns the path of a closed database holding enough records
// to span many pages.
func filled(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "stadion.db")
	s := open(t, path)
	a := marathon.NewApp("/web")
	a.Cmd = "serve"
	a.Version = marathon.NewTimestamp(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	err := s.Apply(t.Context(), state.Change{
		FrameworkID:  "fw-1",
		PutApps:      []marathon.App{a},
		PutInstances: statetest.RunningInstances(500, 1),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// pageSize is the page size of the test databases (bbolt's default, the
// OS page size).
var pageSize = os.Getpagesize()

// scribble writes garbage over the first bytes of the given pages.
func scribble(t *testing.T, path string, pages ...int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	garbage := []byte("\xde\xad\xbe\xef garbage over the page header \xff\xff\xff\xff")
	for _, p := range pages {
		if _, err := f.WriteAt(garbage, int64(p*pageSize)); err != nil {
			t.Fatal(err)
		}
	}
}

// dataPages lists the pages after the two meta pages.
func dataPages(t *testing.T, path string) []int {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	var pages []int
	for p := 2; p < int(info.Size())/pageSize; p++ {
		pages = append(pages, p)
	}
	return pages
}

func TestOpenDamaged(t *testing.T) {
	tests := []struct {
		name string
		// damage changes the file of a filled database in dir.
		damage func(t *testing.T, path string)
		init   bool
		want   error
	}{
		{name: "zero-byte file", damage: func(t *testing.T, path string) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}, want: ErrNoDatabase},
		{name: "missing file beside other files", damage: func(t *testing.T, path string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.Mkdir(filepath.Join(filepath.Dir(path), "mesos"), 0o750); err != nil {
				t.Fatal(err)
			}
		}, want: ErrNoDatabase},
		{name: "truncated file", damage: func(t *testing.T, path string) {
			info, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, info.Size()/2); err != nil {
				t.Fatal(err)
			}
		}, want: ErrCorrupt},
		{name: "garbage in both meta pages", damage: func(t *testing.T, path string) {
			scribble(t, path, 0, 1)
		}, want: ErrCorrupt},
		{name: "garbage in every data page header", damage: func(t *testing.T, path string) {
			scribble(t, path, dataPages(t, path)...)
		}, want: ErrCorrupt},
		{name: "init never replaces a damaged file", damage: func(t *testing.T, path string) {
			scribble(t, path, dataPages(t, path)...)
		}, init: true, want: ErrCorrupt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filled(t)
			tc.damage(t, path)
			s, err := Open(Config{Path: path, Timeout: time.Second, Init: tc.init})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("Open = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("Open = %v, want the path %s in it", err, path)
			}
			if err := Check(path, time.Second); !errors.Is(err, tc.want) {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestOpenInit checks that Init starts fresh where state is expected but
// gone, and that a first start in an unused directory needs no Init.
func TestOpenInit(t *testing.T) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, dir string)
		init    bool
	}{
		{name: "first start in a missing directory", prepare: func(t *testing.T, dir string) {
			if err := os.Remove(dir); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "first start in an empty directory", prepare: func(*testing.T, string) {}},
		{name: "init over a zero-byte file", prepare: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "stadion.db"), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}, init: true},
		{name: "init beside other files", prepare: func(t *testing.T, dir string) {
			if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, init: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, dir)
			path := filepath.Join(dir, "stadion.db")
			s, err := Open(Config{Path: path, Timeout: time.Second, Init: tc.init})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if err := s.Apply(t.Context(), state.Change{FrameworkID: "fw-new"}); err != nil {
				t.Fatal(err)
			}
			if snap, err := s.Load(t.Context()); err != nil || snap.FrameworkID != "fw-new" {
				t.Errorf("Load = %+v, %v", snap, err)
			}
		})
	}
}

// TestLoadDamagedUnderOpenStore damages the pages of a store in use: Load
// fails with ErrCorrupt instead of a panic. (A write is not tried: when a
// write transaction fails, bbolt rescans the file for its free pages in a
// goroutine of its own, where a damaged page ends the process.)
func TestLoadDamagedUnderOpenStore(t *testing.T) {
	path := filled(t)
	s := open(t, path)
	scribble(t, path, dataPages(t, path)...)
	if _, err := s.Load(t.Context()); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), path) {
		t.Errorf("Load = %v, want ErrCorrupt naming %s", err, path)
	}
}

func TestCheck(t *testing.T) {
	path := filled(t)
	if err := Check(path, time.Second); err != nil {
		t.Fatalf("Check of a sound file: %v", err)
	}
	// A server holds the file: Check waits for the lock, then says so.
	s := open(t, path)
	if err := Check(path, 100*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Errorf("Check of a file in use = %v, want ErrLocked", err)
	}
	s.Close()
	if err := Check(filepath.Join(t.TempDir(), "absent.db"), time.Second); !errors.Is(err, ErrNoDatabase) {
		t.Errorf("Check of a missing file = %v, want ErrNoDatabase", err)
	}
}

func TestOpenReadOnly(t *testing.T) {
	path := filled(t)
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(Config{Path: path, ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	snap, err := s.Load(t.Context())
	if err != nil || snap.FrameworkID != "fw-1" || len(snap.Instances) != 500 {
		t.Errorf("Load = %d instances, framework id %q, %v", len(snap.Instances), snap.FrameworkID, err)
	}
	if err := s.Apply(t.Context(), state.Change{FrameworkID: "fw-2"}); err == nil {
		t.Error("Apply on a read-only store succeeded")
	}
	s.Close()
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(before) != string(after) {
		t.Error("a read-only open changed the file")
	}
}
