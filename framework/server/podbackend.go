package server

import (
	"context"

	"github.com/stadionhq/stadion/framework/api"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// The pod commands of the current term's scheduler (/v2/pods).
var _ api.PodBackend = backend{}

func (b backend) PutPod(ctx context.Context, pod marathon.Pod, create, force bool) (scheduler.PodResult, error) {
	s, err := b.sched()
	if err != nil {
		return scheduler.PodResult{}, err
	}
	return s.PutPod(ctx, pod, create, force)
}

func (b backend) DeletePod(ctx context.Context, id marathon.PathID, force bool) (scheduler.PodResult, error) {
	s, err := b.sched()
	if err != nil {
		return scheduler.PodResult{}, err
	}
	return s.DeletePod(ctx, id, force)
}

func (b backend) KillPodInstances(ctx context.Context, id marathon.PathID, ids []string, wipe bool) ([]state.Instance, error) {
	s, err := b.sched()
	if err != nil {
		return nil, err
	}
	return s.KillPodInstances(ctx, id, ids, wipe)
}

func (b backend) PodVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error) {
	s, err := b.sched()
	if err != nil {
		return nil, err
	}
	return s.PodVersions(ctx, id)
}

func (b backend) PodVersion(ctx context.Context, id marathon.PathID, v marathon.Timestamp) (marathon.Pod, bool, error) {
	s, err := b.sched()
	if err != nil {
		return marathon.Pod{}, false, err
	}
	return s.PodVersion(ctx, id, v)
}
