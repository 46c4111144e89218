package secrets

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/stadionhq/stadion/internal/testenv"
)

const wait = 10 * time.Second

// clock is a settable Config.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newResolver(t *testing.T, cfg Config) *Resolver {
	t.Helper()
	r, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// resolve asks for source until a fetch has answered and returns what
// Value then says.
func resolve(t *testing.T, r *Resolver, source string) (string, bool, error) {
	t.Helper()
	deadline := time.After(wait)
	for {
		v, ok, err := r.Value(source)
		if ok || err != nil {
			return v, ok, err
		}
		select {
		case <-r.Changed():
		case <-deadline:
			t.Fatalf("%s: no answer within %s", source, wait)
		}
	}
}

func TestConsul(t *testing.T) {
	consul := testenv.StartConsul(t)
	client, err := api.NewClient(&api.Config{Address: consul.HTTPAddr})
	if err != nil {
		t.Fatal(err)
	}
	put := func(k, v string) {
		if _, err := client.KV().Put(&api.KVPair{Key: k, Value: []byte(v)}, nil); err != nil {
			t.Fatal(err)
		}
	}
	put("app/db/password", "s3cr3t")
	clk := &clock{now: time.Unix(1000, 0)}
	r := newResolver(t, Config{ConsulAddr: "http://" + consul.HTTPAddr, TTL: time.Minute, Now: clk.Now})

	if v, ok, err := resolve(t, r, "consul:app/db/password"); !ok || err != nil || v != "s3cr3t" {
		t.Fatalf("Value = %q, %v, %v; want s3cr3t", v, ok, err)
	}
	if _, ok, err := resolve(t, r, "consul:app/missing"); ok || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing key: ok %v err %v, want ErrNotFound", ok, err)
	}

	// A rotated value: the cached one serves until the TTL, then the
	// old one serves while the new one is fetched.
	put("app/db/password", "rotated")
	if v, _, _ := r.Value("consul:app/db/password"); v != "s3cr3t" {
		t.Fatalf("within the TTL: %q, want the cached value", v)
	}
	clk.add(time.Minute)
	if v, ok, _ := r.Value("consul:app/db/password"); !ok || v != "s3cr3t" {
		t.Fatalf("past the TTL: %q %v, want the cached value while refreshing", v, ok)
	}
	deadline := time.After(wait)
	for {
		if v, _, _ := r.Value("consul:app/db/password"); v == "rotated" {
			break
		}
		select {
		case <-r.Changed():
		case <-deadline:
			t.Fatal("the rotated value never came")
		}
	}
}

func TestConsulDown(t *testing.T) {
	r := newResolver(t, Config{ConsulAddr: "127.0.0.1:1", Timeout: time.Second})
	if _, ok, err := resolve(t, r, "consul:app/pw"); ok || err == nil {
		t.Fatalf("ok %v err %v, want an error", ok, err)
	}
}

func TestFiles(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	for name, data := range map[string]string{
		filepath.Join(dir, "db", "password"):   "from-file\n",
		filepath.Join(outside, "not-a-secret"): "outside",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(outside, "not-a-secret"), filepath.Join(dir, "escape")); err != nil {
		t.Fatal(err)
	}
	r := newResolver(t, Config{Dir: dir})
	for _, tc := range []struct {
		name    string
		source  string
		want    string
		wantErr error
	}{
		{name: "file, bytes as they are", source: "file:db/password", want: "from-file\n"},
		{name: "missing", source: "file:db/nothing", wantErr: ErrNotFound},
		{name: "symlink out of the dir", source: "file:escape"},
		{name: "parent", source: "file:../x"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, ok, err := resolve(t, r, tc.source)
			if tc.want != "" {
				if !ok || err != nil || v != tc.want {
					t.Fatalf("Value = %q, %v, %v; want %q", v, ok, err, tc.want)
				}
				return
			}
			if ok || err == nil || v != "" {
				t.Fatalf("Value = %q, %v, %v; want an error", v, ok, err)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
		})
	}

	noDir := newResolver(t, Config{})
	if _, _, err := resolve(t, noDir, "file:db/password"); !errors.Is(err, ErrNoDir) {
		t.Fatalf("without a dir: %v, want ErrNoDir", err)
	}
}
