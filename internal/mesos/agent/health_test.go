package agent

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
)

// quickCheck is a health check that starts at once and fails fast.
func quickCheck(typ mesos.HealthCheckType) *mesos.HealthCheck {
	return &mesos.HealthCheck{
		Type:                typ,
		DelaySeconds:        new(0.0),
		IntervalSeconds:     new(0.05),
		TimeoutSeconds:      new(1.0),
		GracePeriodSeconds:  new(0.0),
		ConsecutiveFailures: new(uint32(2)),
	}
}

// expectHealth waits for the health update of task and checks it.
func expectHealth(t *testing.T, m *fakeMaster, a *Agent, task string, healthy bool) mesos.TaskStatus {
	t.Helper()
	st := m.expectAck(t, a, task, mesos.TaskRunning)
	if st.Healthy == nil || *st.Healthy != healthy || st.Reason != mesos.ReasonTaskHealthCheckStatusUpdated {
		t.Fatalf("health update: healthy %v reason %s message %q, want healthy %v", st.Healthy, st.Reason, st.Message, healthy)
	}
	return st
}

// expectHealthKill waits for the kill that follows failed checks.
func expectHealthKill(t *testing.T, m *fakeMaster, a *Agent, task string) {
	t.Helper()
	m.expectAck(t, a, task, mesos.TaskKilling)
	st := m.expectAck(t, a, task, mesos.TaskKilled)
	if st.Healthy == nil || *st.Healthy || !strings.Contains(st.Message, "health check") {
		t.Fatalf("KILLED healthy %v message %q", st.Healthy, st.Message)
	}
}

func TestHealthCheckHTTP(t *testing.T) {
	var failing atomic.Bool
	srv := newHTTPServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() || r.URL.Path != "/health" {
			http.Error(w, "sick", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv, "http://"))
	p, _ := strconv.Atoi(port)
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", "sleep 30")
	info.HealthCheck = quickCheck(mesos.HealthCheckHTTP)
	info.HealthCheck.HTTP = &mesos.HTTPCheckInfo{Port: uint32(p), Path: "/health"}
	run(t, a, info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	expectHealth(t, m, a, "t1", true)
	failing.Store(true)
	expectHealth(t, m, a, "t1", false)
	expectHealthKill(t, m, a, "t1")
}

func TestHealthCheckTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", "sleep 30")
	info.HealthCheck = quickCheck(mesos.HealthCheckTCP)
	info.HealthCheck.TCP = &mesos.TCPCheckInfo{Port: uint32(ln.Addr().(*net.TCPAddr).Port)}
	run(t, a, info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	expectHealth(t, m, a, "t1", true)
	ln.Close()
	expectHealth(t, m, a, "t1", false)
	expectHealthKill(t, m, a, "t1")
}

func TestHealthCheckCommand(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	// The check passes while the file "ok" exists in the sandbox.
	info := shellTask("t1", "touch ok; sleep 30")
	info.HealthCheck = quickCheck(mesos.HealthCheckCommand)
	info.HealthCheck.Command = &mesos.CommandInfo{Value: new(`test -f ok && test "$MESOS_TASK_ID" = t1`)}
	run(t, a, info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	// A check before the touch may fail: the grace period of 0 makes it
	// count, so allow one unhealthy report first.
	st := m.expectAck(t, a, "t1", mesos.TaskRunning)
	if st.Healthy != nil && !*st.Healthy {
		st = m.expectAck(t, a, "t1", mesos.TaskRunning)
	}
	if st.Healthy == nil || !*st.Healthy {
		t.Fatalf("health update = %+v", st)
	}
}

func TestHealthCheckCommandFails(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, nil)
	info := shellTask("t1", "sleep 30")
	info.HealthCheck = quickCheck(mesos.HealthCheckCommand)
	info.HealthCheck.Command = &mesos.CommandInfo{Value: new("false")}
	run(t, a, info)
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	expectHealth(t, m, a, "t1", false)
	expectHealthKill(t, m, a, "t1")
}
