package master_test

import (
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
)

// groupCall builds an ACCEPT with one LAUNCH_GROUP of tasks under a
// DEFAULT executor with the given resources.
func groupCall(t *testing.T, offer mesos.Offer, executorRes string, mutate func(*mesos.LaunchGroup), tasks ...mesos.TaskInfo) mesos.Call {
	t.Helper()
	res, err := mesos.ParseResources(executorRes)
	if err != nil {
		t.Fatal(err)
	}
	for i := range res {
		res[i].Role = ""
	}
	lg := mesos.LaunchGroup{
		Executor: mesos.ExecutorInfo{
			Type: mesos.ExecutorDefault, ExecutorID: mesos.ExecutorID{Value: "instance-web.u1"},
			Resources: res, Container: &mesos.ContainerInfo{Type: mesos.ContainerMesos},
		},
		TaskGroup: mesos.TaskGroupInfo{Tasks: tasks},
	}
	if mutate != nil {
		mutate(&lg)
	}
	op, err := mesos.LaunchGroupOperation(lg)
	if err != nil {
		t.Fatal(err)
	}
	return mesos.Call{Type: mesos.CallAccept, Accept: &mesos.Accept{OfferIDs: []mesos.OfferID{offer.ID}, Operations: []mesos.Operation{op}}}
}

func TestLaunchGroup(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	a := startAgent(t, m, "cpus:2;mem:1024;ports:[31000-31005]")
	s := subscribe(t, m, frameworkInfo())
	offer := s.next(mesos.EventOffers).Offers.Offers[0]
	s.mustCall(groupCall(t, offer, "cpus:0.1;mem:32;ports:[31001-31001]", nil,
		commandTask("web.instance-u1.server.1", offer, "cpus:0.5;mem:64"),
		commandTask("web.instance-u1.sidecar.1", offer, "cpus:0.25;mem:32")))
	for _, want := range []string{"web.instance-u1.server.1", "web.instance-u1.sidecar.1"} {
		run := recv(t, a.runs, "run")
		if run.Task.TaskID.Value != want || run.Executor == nil || run.Executor.ExecutorID.Value != "instance-web.u1" ||
			run.Executor.FrameworkID.Value != s.frameworkID || len(run.Group) != 2 {
			t.Errorf("run %+v (executor %+v, group %v)", run.Task.TaskID, run.Executor, run.Group)
		}
	}
	// The executor's resources are in use with the tasks': the next offer
	// lacks 0.85 cpus and the executor's port.
	s.mustCall(mesos.Call{Type: mesos.CallRevive})
	nextOffer := s.next(mesos.EventOffers).Offers.Offers[0]
	next := mesos.Resources(nextOffer.Resources)
	if next.Scalar("cpus") != 1.15 || next.Scalar("mem") != 896 || mesos.FormatRanges(next.Ranges("ports")) != "[31000-31000, 31002-31005]" {
		t.Errorf("offer while the group runs: %s", next)
	}
	s.mustCall(mesos.Call{Type: mesos.CallDecline, Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{nextOffer.ID}}})
	// Once every task of the group ended, so did its executor.
	a.update(s.frameworkID, "web.instance-u1.server.1", mesos.TaskFailed)
	a.update(s.frameworkID, "web.instance-u1.sidecar.1", mesos.TaskKilled)
	// Offers made while the tasks ended may hold less: decline them until
	// the whole agent is offered.
	var after mesos.Resources
	for after.Scalar("cpus") != 2 {
		ev := s.next(mesos.EventOffers, mesos.EventUpdate)
		if ev.Type == mesos.EventUpdate {
			continue
		}
		o := ev.Offers.Offers[0]
		if after = mesos.Resources(o.Resources); after.Scalar("cpus") != 2 {
			s.mustCall(mesos.Call{Type: mesos.CallDecline, Decline: &mesos.Decline{OfferIDs: []mesos.OfferID{o.ID}}})
			s.mustCall(mesos.Call{Type: mesos.CallRevive})
		}
	}
	if after.Scalar("mem") != 1024 || mesos.FormatRanges(after.Ranges("ports")) != "[31000-31005]" {
		t.Errorf("offer after the group: %s", after)
	}
}

func TestInvalidTaskGroups(t *testing.T) {
	m := startMaster(t, fastConfig(t))
	startAgent(t, m, "cpus:2;mem:1024;ports:[31000-31005]")
	s := subscribe(t, m, frameworkInfo(mesos.CapabilityPartitionAware))
	tests := []struct {
		name     string
		executor string
		mutate   func(*mesos.LaunchGroup)
		second   string // resources of the second task
		message  string
	}{
		{name: "no executor type", executor: "cpus:0.1", mutate: func(lg *mesos.LaunchGroup) { lg.Executor.Type = "" },
			second: "cpus:0.1", message: "'ExecutorInfo.type' must be set"},
		{name: "executor with a command", executor: "cpus:0.1", mutate: func(lg *mesos.LaunchGroup) {
			v := "x"
			lg.Executor.Command = &mesos.CommandInfo{Value: &v}
		}, second: "cpus:0.1", message: "'ExecutorInfo.command' must not be set for 'DEFAULT' executor"},
		{name: "executor in a docker container", executor: "cpus:0.1", mutate: func(lg *mesos.LaunchGroup) {
			lg.Executor.Container = &mesos.ContainerInfo{Type: mesos.ContainerDocker}
		}, second: "cpus:0.1", message: "'ExecutorInfo.container.type' must be 'MESOS'"},
		{name: "task with networks", executor: "cpus:0.1", mutate: func(lg *mesos.LaunchGroup) {
			lg.TaskGroup.Tasks[1].Container = &mesos.ContainerInfo{Type: mesos.ContainerMesos, NetworkInfos: []mesos.NetworkInfo{{Name: "n"}}}
		}, second: "cpus:0.1", message: "NetworkInfos must be set on the executor"},
		{name: "one task over budget fails the group", executor: "cpus:0.1", second: "cpus:1.9", message: "Task 'g.2' is invalid: Task uses more resources"},
		{name: "executor over budget", executor: "cpus:3", second: "cpus:0.1", message: "Executor uses more resources"},
		{name: "duplicate task ids", executor: "cpus:0.1", mutate: func(lg *mesos.LaunchGroup) {
			lg.TaskGroup.Tasks[1].TaskID = lg.TaskGroup.Tasks[0].TaskID
		}, second: "cpus:0.1", message: "Task group has duplicate task ID: g.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s.mustCall(mesos.Call{Type: mesos.CallRevive})
			offer := s.next(mesos.EventOffers).Offers.Offers[0]
			tasks := []mesos.TaskInfo{commandTask("g.1", offer, "cpus:0.5"), commandTask("g.2", offer, tc.second)}
			s.mustCall(groupCall(t, offer, tc.executor, tc.mutate, tasks...))
			ids := []string{"g.1", "g.2"}
			if tc.name == "duplicate task ids" {
				ids = []string{"g.1", "g.1"}
			}
			for _, id := range ids {
				st := s.update(id)
				if st.State != mesos.TaskError || st.Reason != mesos.ReasonTaskGroupInvalid || st.Source != mesos.SourceMaster || !strings.HasPrefix(st.Message, tc.message) {
					t.Errorf("status of %s: %+v", id, st)
				}
			}
		})
	}
}
