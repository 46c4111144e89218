package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/stadionhq/stadion/framework/api"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/zk"
)

// A term is one period of leadership: the store opened for it, a Mesos
// client subscribed with the stored framework id, and a scheduler that
// loads the state, reconciles and resumes the deployments. A term ends when
// leadership is lost (or abdicated): its scheduler stops at once, and a
// later election starts a new term from the store. Without HA there is one
// term, for the life of the server.

// termDeps builds what a term needs; the server provides it.
type termDeps struct {
	// openStore opens the state store for a term; fence is the leader's
	// election node ("" without an election).
	openStore func(ctx context.Context, fence string) (state.Store, error)
	// newClient returns the Mesos client of a term, reading the
	// framework id from store.
	newClient func(store state.Store) (*mesos.Client, error)
	// schedulerConfig is the scheduler's configuration without its
	// Mesos client and store.
	schedulerConfig scheduler.Config
}

// leadership runs terms as the election decides and tells the API who
// leads.
type leadership struct {
	deps    termDeps
	elector *zk.Elector // nil: this instance always leads
	self    string      // this instance's host:port
	log     *slog.Logger

	// sched is the current term's scheduler once its state is loaded;
	// prepared is the one of the term prepared by Start (no election),
	// for Server.Scheduler before it is ready.
	sched    atomic.Pointer[scheduler.Scheduler]
	prepared *scheduler.Scheduler
	leader   atomic.Pointer[string] // the leader's host:port, "" when none is known
	// stored reads the framework id for a standby's /v2/info; nil
	// without an election.
	stored *storedFrameworkID
}

// Leader returns the leader's host:port and whether one is known.
func (l *leadership) Leader() (string, bool) {
	p := l.leader.Load()
	if p == nil || *p == "" {
		return "", false
	}
	return *p, true
}

// Elected reports whether this instance leads and its scheduler serves.
func (l *leadership) Elected() bool { return l.sched.Load() != nil }

// Scheduler is the current term's scheduler, nil between terms.
func (l *leadership) Scheduler() *scheduler.Scheduler {
	if s := l.sched.Load(); s != nil {
		return s
	}
	return l.prepared
}

// Abdicate gives up leadership: the term stops and this instance joins the
// election again, behind the others. Only with an election.
func (l *leadership) Abdicate() error { return l.elector.Abdicate() }

// run follows the election until ctx ends. It returns a term's error when
// a scheduler fails on its own (Mesos removed the framework, a panic).
// Without an election, first is the term prepared by Start, which leads
// at once.
func (l *leadership) run(ctx context.Context, first *term) error {
	if l.elector == nil {
		l.setLeader(l.self)
		return l.serve(ctx, first)
	}
	return l.elector.Follow(ctx, l.setLeader, l.elected, l.log)
}

func (l *leadership) setLeader(hostPort string) { l.leader.Store(&hostPort) }

// term is a prepared term: its store and its scheduler, not running yet.
type term struct {
	store state.Store
	sched *scheduler.Scheduler
}

// prepare opens the store and builds the Mesos client and the scheduler
// of a term.
func (l *leadership) prepare(ctx context.Context, fence string) (*term, error) {
	store, err := l.deps.openStore(ctx, fence)
	if err != nil {
		return nil, fmt.Errorf("open the state store: %w", err)
	}
	client, err := l.deps.newClient(store)
	if err != nil {
		store.Close()
		return nil, err
	}
	cfg := l.deps.schedulerConfig
	cfg.Mesos, cfg.Store = client, store
	sched, err := scheduler.New(cfg)
	if err != nil {
		store.Close()
		return nil, err
	}
	return &term{store: store, sched: sched}, nil
}

// elected runs a term won in an election: it serves once the state is
// loaded.
func (l *leadership) elected(ctx context.Context, fence string) error {
	start := time.Now()
	t, err := l.prepare(ctx, fence)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	go func() {
		select {
		case <-t.sched.Ready():
			l.log.Info("leading", "ready_in", time.Since(start).Round(time.Millisecond))
		case <-ctx.Done():
		}
	}()
	return l.serve(ctx, t)
}

// serve runs a term's scheduler until ctx ends; the API uses it once its
// state is loaded.
func (l *leadership) serve(ctx context.Context, t *term) error {
	defer t.store.Close()
	runErr := make(chan error, 1)
	go func() { runErr <- t.sched.Run(ctx) }()
	select {
	case <-t.sched.Ready():
		l.sched.Store(t.sched)
	case err := <-runErr:
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	err := <-runErr
	l.sched.Store(nil)
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// backend is the API's scheduler: the current term's, or errors telling
// that this instance does not lead (the leader proxy sends requests on
// before they get here, so that is a race with a lost election).
type backend struct{ l *leadership }

var _ api.Backend = backend{}

var errNotLeader = &marathon.Error{Status: http.StatusServiceUnavailable, Message: "This instance is not the leader (any more); retry"}

// emptyView is the View between terms.
var emptyView = &scheduler.View{}

func (b backend) View() *scheduler.View {
	if s := b.l.sched.Load(); s != nil {
		return s.View()
	}
	return emptyView
}

func (b backend) sched() (*scheduler.Scheduler, error) {
	if s := b.l.sched.Load(); s != nil {
		return s, nil
	}
	return nil, errNotLeader
}

func (b backend) Deploy(ctx context.Context, change scheduler.Change, opts scheduler.DeployOptions) (marathon.DeploymentResult, error) {
	s, err := b.sched()
	if err != nil {
		return marathon.DeploymentResult{}, err
	}
	return s.Deploy(ctx, change, opts)
}

func (b backend) DryRun(ctx context.Context, change scheduler.Change, opts scheduler.DeployOptions) ([]marathon.Step, error) {
	s, err := b.sched()
	if err != nil {
		return nil, err
	}
	return s.DryRun(ctx, change, opts)
}

func (b backend) KillTasks(ctx context.Context, taskIDs []string, opts scheduler.KillOptions) (scheduler.KillResult, error) {
	s, err := b.sched()
	if err != nil {
		return scheduler.KillResult{}, err
	}
	return s.KillTasks(ctx, taskIDs, opts)
}

func (b backend) CancelDeployment(ctx context.Context, id string, force bool) (*marathon.DeploymentResult, error) {
	s, err := b.sched()
	if err != nil {
		return nil, err
	}
	return s.CancelDeployment(ctx, id, force)
}

func (b backend) ResetDelay(ctx context.Context, appID marathon.PathID) error {
	s, err := b.sched()
	if err != nil {
		return err
	}
	return s.ResetDelay(ctx, appID)
}

func (b backend) AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	s, err := b.sched()
	if err != nil {
		return nil, err
	}
	return s.AppVersions(ctx, id)
}

func (b backend) AppVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (marathon.App, bool, error) {
	s, err := b.sched()
	if err != nil {
		return marathon.App{}, false, err
	}
	return s.AppVersion(ctx, id, version)
}

func (b backend) GroupVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	s, err := b.sched()
	if err != nil {
		return nil, err
	}
	return s.GroupVersions(ctx, id)
}

func (b backend) GroupVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (state.Group, bool, error) {
	s, err := b.sched()
	if err != nil {
		return state.Group{}, false, err
	}
	return s.GroupVersion(ctx, id, version)
}
