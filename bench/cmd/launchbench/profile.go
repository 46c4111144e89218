package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/stadionhq/stadion/framework/server"
)

// profileServe runs the scheduler phase with the scheduler in this process
// (framework/server, the code behind `stadion serve`) and the cluster in a
// `stadion mesos local` process, and writes CPU profiles of the launch and
// of the GET run to <cfg.CPUProfile>-launch.pprof and -get.pprof, and the
// live heap once every task runs to -heap.pprof. It measures nothing for the README: the
// bench driver shares the process, so RSS and CPU are not the scheduler's
// alone. Read the profile with `go tool pprof -top <file>`.
func profileServe(ctx context.Context, c config, workDir string, step func(string, ...any)) error {
	step("profile mode: starting stadion mesos local with %d agents", c.Agents)
	cluster, master, err := startCluster(ctx, c.Stadion, workDir, "cluster-profile", c.Agents, c.Resources)
	if err != nil {
		return err
	}
	defer cluster.Stop(30 * time.Second)
	srv, err := server.Start(ctx, server.Config{
		Master:               master,
		HTTPAddress:          "127.0.0.1",
		Hostname:             "127.0.0.1",
		FrameworkName:        "marathon",
		Role:                 "*",
		DataDir:              filepath.Join(workDir, "profile-data"),
		MaxInstancesPerOffer: c.MaxPerOffer,
	})
	if err != nil {
		return err
	}
	defer srv.Stop()
	api := newMarathonClient(srv.URL())
	if _, err := waitFor(ctx, 50*time.Millisecond, 30*time.Second, func() (bool, error) {
		return srv.Scheduler().View().FrameworkID != "", nil
	}); err != nil {
		return fmt.Errorf("scheduler did not subscribe: %w", err)
	}

	launchProfile, getProfile := c.CPUProfile+"-launch.pprof", c.CPUProfile+"-get.pprof"
	start := time.Now()
	err = withProfile(launchProfile, func() error {
		lat, err := api.postApps(ctx, c.Apps, c.Instances, c.PostWorkers)
		if err != nil {
			return err
		}
		step("profile mode: %d POSTs answered after %.2f s (each: p99 %s, max %s)", c.Apps, time.Since(start).Seconds(), ms(lat.P99), ms(lat.Max))
		lastLog := time.Now()
		_, err = waitFor(ctx, c.PollInterval, c.Timeout, func() (bool, error) {
			n, err := api.running(ctx)
			if time.Since(lastLog) > 5*time.Second {
				step("profile mode: %d of %d tasks running after %.1f s", n, c.Tasks(), time.Since(start).Seconds())
				lastLog = time.Now()
			}
			return n >= c.Tasks(), err
		})
		return err
	})
	if err != nil {
		return err
	}
	step("profile mode: %d tasks running after %.2f s; CPU profile in %s", c.Tasks(), time.Since(start).Seconds(), launchProfile)
	heapProfile := c.CPUProfile + "-heap.pprof"
	if err := writeHeapProfile(heapProfile); err != nil {
		return err
	}
	step("profile mode: heap profile (live objects at %d tasks) in %s", c.Tasks(), heapProfile)
	var lat latency
	err = withProfile(getProfile, func() error {
		lat, err = api.measureGET(ctx, "/v2/apps?embed=apps.tasks", c.Requests)
		return err
	})
	if err != nil {
		return err
	}
	step("profile mode: GET p50 %s p99 %s; CPU profile in %s", ms(lat.P50), ms(lat.P99), getProfile)
	return nil
}

// writeHeapProfile writes the live heap, after a garbage collection, to
// path (go tool pprof -sample_index=inuse_space).
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

// withProfile runs fn under a CPU profile written to path.
func withProfile(path string, fn func() error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	defer pprof.StopCPUProfile()
	return fn()
}
