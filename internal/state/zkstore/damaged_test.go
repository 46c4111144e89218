package zkstore

import (
	"errors"
	"testing"

	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/statetest"
	"github.com/stadionhq/stadion/internal/testenv"
)

// kindDirs maps record kinds to their directories.
var kindDirs = map[state.Kind]string{
	state.KindApp: kindApps, state.KindGroup: kindGroups,
	state.KindInstance: kindInstances, state.KindDeployment: kindDeployments,
}

func TestContractDamaged(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	conn := rawConn(t, z.Servers())
	statetest.RunDamaged(t,
		func(t *testing.T) state.Store {
			return openConfig(t, testConfig(t, z, newRoot()))
		},
		func(t *testing.T, s state.Store, tg statetest.Target, data []byte) state.Store {
			zs := s.(*Store)
			p := recordPath(kindDirs[tg.Kind], tg.ID)
			if !tg.Version.IsZero() {
				p += "/" + tg.Version.String()
			}
			if _, err := conn.Set(zs.abs(p), data, -1); err != nil {
				t.Fatalf("set %s: %v", p, err)
			}
			return reopen(t, zs, testConfig(t, z, zs.root()))
		})
}

// reopen closes s and opens a store on cfg, as a restart after damage
// done behind the store's back would.
func reopen(t *testing.T, s *Store, cfg Config) state.Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return openConfig(t, cfg)
}

// TestContractDamagedChunks damages records stored in chunks (requests of
// 1 KiB): the manifest stays, the first chunk holds the damaged bytes and
// the others are gone, so that the record no longer matches its manifest.
func TestContractDamagedChunks(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	conn := rawConn(t, z.Servers())
	chunked := 0
	config := func(t *testing.T, root string) Config {
		cfg := testConfig(t, z, root)
		cfg.MaxRequestBytes = minRequestBytes
		return cfg
	}
	statetest.RunDamaged(t,
		func(t *testing.T) state.Store {
			return openConfig(t, config(t, newRoot()))
		},
		func(t *testing.T, s state.Store, tg statetest.Target, data []byte) state.Store {
			zs := s.(*Store)
			p := recordPath(kindDirs[tg.Kind], tg.ID)
			if !tg.Version.IsZero() {
				p += "/" + tg.Version.String()
			}
			head, _, err := conn.Get(zs.abs(p))
			if err != nil {
				t.Fatal(err)
			}
			m, ok, err := parseManifest(head)
			if err != nil || !ok {
				if _, err := conn.Set(zs.abs(p), data, -1); err != nil {
					t.Fatalf("set %s: %v", p, err)
				}
				return reopen(t, zs, config(t, zs.root()))
			}
			chunked++
			if _, err := conn.Set(zs.abs(chunkPath(p, 1)), data, -1); err != nil {
				t.Fatal(err)
			}
			for k := 2; k <= m.chunks; k++ {
				if err := conn.Delete(zs.abs(chunkPath(p, k)), -1); err != nil {
					t.Fatal(err)
				}
			}
			return reopen(t, zs, config(t, zs.root()))
		})
	if chunked == 0 {
		t.Error("no damaged record was chunked")
	}
}

func TestOpenExisting(t *testing.T) {
	z := testenv.StartZooKeeper(t)
	cfg := testConfig(t, z, newRoot())
	cfg.Existing = true
	if s, err := Open(t.Context(), cfg); !errors.Is(err, ErrNoState) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("Open of an empty root with Existing = %v, want ErrNoState", err)
	}
	cfg.Existing = false
	openConfig(t, cfg).Close()
	cfg.Existing = true
	openConfig(t, cfg)
}
