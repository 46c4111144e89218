package memstore

import (
	"testing"

	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/state/statetest"
)

func TestContract(t *testing.T) {
	open := func(t *testing.T) state.Store {
		s, err := New(Config{MaxVersions: statetest.MaxVersions})
		if err != nil {
			t.Fatalf("New: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	// Nothing outlives the process: reopening is keeping the same store.
	reopen := func(t *testing.T, s state.Store) state.Store { return s }
	statetest.Run(t, open, reopen)
}

func TestConfigValidate(t *testing.T) {
	if _, err := New(Config{MaxVersions: -1}); err == nil {
		t.Error("New with negative MaxVersions: no error")
	}
}
