package agent

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// detector finds the leading master.
type detector interface {
	// Leader returns the leading master's base URL, http://host:port.
	Leader(ctx context.Context) (string, error)
	// Changes delivers leadership changes; nil when leadership is fixed.
	Changes() <-chan mesos.MasterInfo
	Close()
}

// staticDetector is a master given by address.
type staticDetector string

func (s staticDetector) Leader(context.Context) (string, error) { return string(s), nil }
func (staticDetector) Changes() <-chan mesos.MasterInfo         { return nil }
func (staticDetector) Close()                                   {}

// newDetector returns the detector of a parsed Config.Master.
func newDetector(master string, logger *slog.Logger) (detector, error) {
	if len(master) > 5 && master[:5] == "zk://" {
		return newZKDetector(master, logger)
	}
	return staticDetector(master), nil
}

// Registration retry backoff.
const (
	registerBackoffMin = 100 * time.Millisecond
	registerBackoffMax = 2 * time.Second
)

// registerLoop registers with the leading master, watches it through its
// pings and reregisters, with the agent's tasks, when it is lost or
// replaced. It runs until the agent stops.
func (a *Agent) registerLoop() {
	backoff := registerBackoffMin
	wait := func() {
		d := backoff/2 + rand.N(backoff/2+1)
		backoff = min(2*backoff, registerBackoffMax)
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-a.ctx.Done():
		case <-t.C:
		case <-a.det.Changes():
		}
	}
	for a.ctx.Err() == nil {
		leader, err := a.det.Leader(a.ctx)
		if err != nil {
			if a.ctx.Err() == nil {
				a.log.Warn("cannot detect the leading master", "error", err)
			}
			wait()
			continue
		}
		err = a.register(leader)
		if err != nil {
			if a.ctx.Err() == nil {
				a.log.Warn("registration failed; retrying", "master", leader, "error", err)
			}
			wait()
			continue
		}
		backoff = registerBackoffMin
		a.watchMaster(leader)
	}
}

// register posts Register, with the agent id and every task once the agent
// has an id, and takes the answer.
func (a *Agent) register(leader string) error {
	a.mu.Lock()
	req := cluster.Register{
		AgentID:    a.id,
		Hostname:   a.cfg.Hostname,
		URL:        a.url,
		Port:       int32(a.port),
		Resources:  a.resources,
		Attributes: a.attributes,
		Domain:     a.domain,
		Token:      a.token,
	}
	for _, t := range a.tasks {
		req.Tasks = append(req.Tasks, cluster.Task{FrameworkID: t.frameworkID, Info: t.info, Status: t.latest, Principal: t.principal})
	}
	a.mu.Unlock()

	var reg cluster.Registered
	if err := cluster.PostBasic(a.ctx, a.hc, leader, cluster.PathRegister, a.cfg.Principal, a.cfg.Secret, req, &reg); err != nil {
		return err
	}
	if reg.AgentID == "" {
		return fmt.Errorf("master answered registration without an agent id")
	}
	a.mu.Lock()
	first := a.regGen == 0
	if a.id != "" && reg.AgentID != a.id {
		a.log.Warn("master assigned a new agent id", "agent_id", reg.AgentID, "old_agent_id", a.id)
	}
	a.id = reg.AgentID
	a.masterURL = leader
	a.connected = true
	a.regGen++
	a.pingPeriod = DefaultPingTimeout
	if reg.PingTimeoutSeconds > 0 {
		a.pingPeriod = time.Duration(reg.PingTimeoutSeconds * float64(time.Second))
	}
	select {
	case <-a.lost:
	default:
	}
	a.resendAllLocked()
	n := len(a.tasks)
	save := a.savedID != a.id
	a.mu.Unlock()
	if save {
		if err := a.saveAgentID(reg.AgentID); err != nil {
			a.log.Error("cannot checkpoint the agent id", "agent_id", reg.AgentID, "error", err)
		} else {
			a.mu.Lock()
			a.savedID = reg.AgentID
			a.mu.Unlock()
		}
	}
	if first {
		close(a.registered)
		a.log.Info("registered with master", "agent_id", reg.AgentID, "master", leader, "master_id", reg.MasterID)
	} else {
		a.log.Info("reregistered with master", "agent_id", reg.AgentID, "master", leader, "master_id", reg.MasterID, "tasks", n)
	}
	return nil
}

// watchMaster returns when the master seems gone: no ping for five ping
// periods, a 404 to a status update, or a leadership change.
func (a *Agent) watchMaster(leader string) {
	a.mu.Lock()
	timeout := 5 * a.pingPeriod
	a.mu.Unlock()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case <-a.ctx.Done():
			return
		case <-a.pinged:
			timer.Reset(timeout)
			continue
		case <-a.lost:
		case info, ok := <-a.det.Changes():
			if ok && (info.ID == "" || "http://"+info.Endpoint() == leader) {
				continue // no leader for now, or still the same one
			}
			a.log.Info("master leadership changed", "master", leader)
		case <-timer.C:
			a.log.Warn("no ping from master; reregistering", "master", leader, "timeout", timeout)
		}
		a.mu.Lock()
		a.connected = false
		a.mu.Unlock()
		return
	}
}
