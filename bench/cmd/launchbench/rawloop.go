package main

import (
	"context"
	"fmt"
	"math"
	"os/user"
	"strconv"
	"sync"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
)

// rawConfig shapes the raw-limit loop.
type rawConfig struct {
	// Master is the cluster's host:port.
	Master string
	// Tasks is how many tasks to bring to TASK_RUNNING.
	Tasks int
	// CPUs and Mem are each task's resources.
	CPUs, Mem float64
	// Workers is the number of goroutines sending calls (ACCEPT and
	// ACKNOWLEDGE) concurrently; the event loop itself never waits on them.
	Workers int
	// Timeout bounds the whole run.
	Timeout time.Duration
	// Window, when not 0, is the most tasks launched and not running
	// yet, as the scheduler's (maxLaunching): offers wait for room.
	Window int
}

// rawResult is what the raw loop measured.
type rawResult struct {
	Elapsed  time.Duration // SUBSCRIBED to the last TASK_RUNNING
	Running  int
	Launched int
	Accepts  int // ACCEPT calls
	Acks     int // ACKNOWLEDGE calls
}

// runRaw is the smallest scheduler that can launch cfg.Tasks tasks: it
// subscribes, accepts every offer with as many tasks as fit (spread evenly
// over the offers of one OFFERS event, so that the agents share the work as
// they do under the scheduler), acknowledges every update, and stops when
// every task is TASK_RUNNING. It keeps no state beyond counters. The clock
// starts at SUBSCRIBED, before the first offer, as the scheduler's starts
// before it revives offers.
func runRaw(ctx context.Context, cfg rawConfig) (rawResult, error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	det, err := mesos.StaticDetector(cfg.Master)
	if err != nil {
		return rawResult{}, err
	}
	failover := 60.0
	client, err := mesos.New(mesos.Config{
		Detector:  det,
		Framework: mesos.FrameworkInfo{User: currentUser(), Name: "launchbench-raw", FailoverTimeout: &failover},
	})
	if err != nil {
		return rawResult{}, err
	}
	events := make(chan mesos.Event, 1024)
	runErr := make(chan error, 1)
	go func() { runErr <- client.Run(ctx, events) }()

	calls := make(chan func(context.Context) error, 65536)
	var (
		wg       sync.WaitGroup
		callMu   sync.Mutex
		callErr  error
		callDone = make(chan struct{})
	)
	for range max(cfg.Workers, 1) {
		wg.Go(func() {
			for call := range calls {
				if err := call(ctx); err != nil && ctx.Err() == nil {
					callMu.Lock()
					if callErr == nil {
						callErr = err
						close(callDone)
					}
					callMu.Unlock()
				}
			}
		})
	}
	defer func() { close(calls); wg.Wait() }()

	var (
		res     rawResult
		start   time.Time
		running = map[string]bool{}
		held    []mesos.Offer // offers waiting for room in the window
	)
	// launchHeld launches on the held offers what the window has room for.
	launchHeld := func() {
		room := cfg.Tasks - res.Launched
		if cfg.Window > 0 {
			room = min(room, cfg.Window-(res.Launched-len(running)))
		}
		// Launch in batches (a tenth of the window), not one task per
		// TASK_RUNNING: each launch is an ACCEPT call.
		if room <= 0 || len(held) == 0 || room < min(cfg.Window/10, cfg.Tasks-res.Launched) {
			return
		}
		n, unused := rawOffers(held, cfg, res.Launched, room, &res.Accepts, client, calls)
		res.Launched += n
		held = append(held[:0], unused...)
	}
	for {
		select {
		case <-ctx.Done():
			return res, fmt.Errorf("raw loop: %d of %d running: %w", len(running), cfg.Tasks, ctx.Err())
		case err := <-runErr:
			return res, fmt.Errorf("raw loop: mesos client stopped: %w", err)
		case <-callDone:
			return res, fmt.Errorf("raw loop: %w", callErr)
		case ev := <-events:
			switch ev.Type {
			case mesos.EventSubscribed:
				if start.IsZero() {
					start = time.Now()
				}
			case mesos.EventOffers:
				held = append(held, ev.Offers.Offers...)
				launchHeld()
			case mesos.EventUpdate:
				st := ev.Update.Status
				if len(st.UUID) > 0 {
					res.Acks++
					calls <- func(ctx context.Context) error { return client.Acknowledge(ctx, st) }
				}
				switch st.State {
				case mesos.TaskRunning:
					running[st.TaskID.Value] = true
					launchHeld()
				case mesos.TaskStaging, mesos.TaskStarting:
				default:
					return res, fmt.Errorf("raw loop: task %s is %s: %s", st.TaskID.Value, st.State, st.Message)
				}
				if len(running) == cfg.Tasks {
					res.Elapsed = time.Since(start)
					res.Running = len(running)
					return res, nil
				}
			}
		}
	}
}

// rawOffers launches up to room tasks on offers and returns how many it
// launched and the offers it left for later (room ran out first). Offers
// that fit no task, or that come when every task is launched, are declined
// for a long while; what a launch leaves of an offer comes back at once
// while tasks are left.
func rawOffers(offers []mesos.Offer, cfg rawConfig, launched, room int, accepts *int, client *mesos.Client, calls chan<- func(context.Context) error) (int, []mesos.Offer) {
	refuse := 3600.0
	n := 0
	left := min(cfg.Tasks-launched, room)
	share := (left + len(offers) - 1) / max(len(offers), 1)
	var unused []mesos.Offer
	var filters *mesos.Filters
	if launched+left < cfg.Tasks {
		filters = &mesos.Filters{RefuseSeconds: new(0.0)}
	}
	for _, o := range offers {
		res := mesos.Resources(o.Resources)
		fit := int(math.Min(math.Floor(res.Scalar("cpus")/cfg.CPUs+1e-9), math.Floor(res.Scalar("mem")/cfg.Mem+1e-9)))
		k := min(fit, share, left-n)
		ids := []mesos.OfferID{o.ID}
		if k <= 0 && fit > 0 && launched+n < cfg.Tasks {
			unused = append(unused, o) // no room in the window yet
			continue
		}
		if k <= 0 {
			calls <- func(ctx context.Context) error {
				return client.Decline(ctx, ids, &mesos.Filters{RefuseSeconds: &refuse})
			}
			continue
		}
		tasks := make([]mesos.TaskInfo, k)
		for i := range tasks {
			id := "raw-" + strconv.Itoa(launched+n+i)
			tasks[i] = rawTask(id, o.AgentID, cfg)
		}
		n += k
		*accepts++
		calls <- func(ctx context.Context) error { return client.Launch(ctx, ids, tasks, filters) }
	}
	return n, unused
}

func rawTask(id string, agentID mesos.AgentID, cfg rawConfig) mesos.TaskInfo {
	cmd := "sleep 3600"
	return mesos.TaskInfo{
		Name:    id,
		TaskID:  mesos.TaskID{Value: id},
		AgentID: agentID,
		Command: &mesos.CommandInfo{Value: &cmd},
		Resources: mesos.Resources{
			{Name: "cpus", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: cfg.CPUs}},
			{Name: "mem", Type: mesos.ValueScalar, Scalar: &mesos.Scalar{Value: cfg.Mem}},
		},
	}
}

func currentUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "root"
}
