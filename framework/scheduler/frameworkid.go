package scheduler

import (
	"context"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
)

// FrameworkIDs adapts a state store to the Mesos client's framework id
// store: the id is stored before the client delivers SUBSCRIBED, so a
// restarted scheduler resubscribes as the same framework.
func FrameworkIDs(store state.Store) mesos.FrameworkIDStore { return frameworkIDs{store} }

type frameworkIDs struct{ store state.Store }

// frameworkIDReader is a store that reads the framework id alone;
// otherwise the whole state is loaded for it (every subscription asks).
type frameworkIDReader interface {
	FrameworkID(ctx context.Context) (string, error)
}

func (f frameworkIDs) LoadFrameworkID(ctx context.Context) (string, error) {
	if r, ok := f.store.(frameworkIDReader); ok {
		return r.FrameworkID(ctx)
	}
	snap, err := f.store.Load(ctx)
	return snap.FrameworkID, err
}

func (f frameworkIDs) SaveFrameworkID(ctx context.Context, id string) error {
	return f.store.Apply(ctx, state.Change{FrameworkID: id})
}
