package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"

	"github.com/stadionhq/stadion/internal/mesos"
)

// Endpoints served by the master, called by agents.
const (
	// PathRegister registers or reregisters an agent: Register in, Registered out.
	PathRegister = "/cluster/v1/register"
	// PathStatus delivers one task status update: StatusUpdate in, 202 out.
	// The master answers 404 when it does not know the agent, which then
	// reregisters.
	PathStatus = "/cluster/v1/status"
)

// Endpoints served by an agent, called by the master.
const (
	// PathPing is the master's liveness ping: Ping in, 200 out. An agent
	// answers 404 to a ping for another agent id, so that a restarted
	// agent is not mistaken for the old one.
	PathPing = "/cluster/v1/ping"
	// PathRun launches one task: Run in, 202 out.
	PathRun = "/cluster/v1/run"
	// PathKill kills one task: Kill in, 202 out.
	PathKill = "/cluster/v1/kill"
	// PathAck forwards a scheduler acknowledgement: Ack in, 202 out.
	PathAck = "/cluster/v1/ack"
	// PathShutdown kills every task of a framework: Shutdown in, 202 out.
	PathShutdown = "/cluster/v1/shutdown"
)

// Register is an agent's (re)registration. AgentID is empty on the first
// registration; an agent that already has an id sends it with every task it
// runs, so that a restarted master rebuilds its view of the cluster.
type Register struct {
	AgentID  string `json:"agent_id,omitempty"`
	Hostname string `json:"hostname"`
	// URL is the agent's base URL, such as http://127.0.0.1:5051.
	URL        string            `json:"url"`
	Port       int32             `json:"port"`
	Resources  []mesos.Resource  `json:"resources"`
	Attributes []mesos.Attribute `json:"attributes,omitempty"`
	Tasks      []Task            `json:"tasks,omitempty"`
	Version    string            `json:"version,omitempty"`
}

// Task is a task an agent runs, as reported at reregistration.
type Task struct {
	FrameworkID mesos.FrameworkID `json:"framework_id"`
	Info        mesos.TaskInfo    `json:"info"`
	// Status is the latest status the agent has for the task.
	Status mesos.TaskStatus `json:"status"`
}

// Registered answers Register.
type Registered struct {
	AgentID  string `json:"agent_id"`
	MasterID string `json:"master_id"`
	// PingTimeoutSeconds tells the agent how often the master pings it, so
	// that it can notice a lost master and re-detect.
	PingTimeoutSeconds float64 `json:"ping_timeout_seconds"`
}

// StatusUpdate is a task status update from an agent. Status.UUID is set:
// the agent resends the update until the scheduler acknowledges it and holds
// back the task's next update until then.
type StatusUpdate struct {
	AgentID     string            `json:"agent_id"`
	FrameworkID mesos.FrameworkID `json:"framework_id"`
	Status      mesos.TaskStatus  `json:"status"`
}

// Ping is the master's liveness check of an agent.
type Ping struct {
	MasterID string `json:"master_id"`
	AgentID  string `json:"agent_id"`
}

// Run asks an agent to launch a task.
type Run struct {
	FrameworkID   mesos.FrameworkID   `json:"framework_id"`
	FrameworkInfo mesos.FrameworkInfo `json:"framework_info"`
	Task          mesos.TaskInfo      `json:"task"`
}

// Kill asks an agent to kill a task. KillPolicy, when set, overrides the
// task's own.
type Kill struct {
	FrameworkID mesos.FrameworkID `json:"framework_id"`
	TaskID      mesos.TaskID      `json:"task_id"`
	KillPolicy  *mesos.KillPolicy `json:"kill_policy,omitempty"`
}

// Ack forwards a scheduler's acknowledgement of a status update.
type Ack struct {
	FrameworkID mesos.FrameworkID `json:"framework_id"`
	TaskID      mesos.TaskID      `json:"task_id"`
	UUID        []byte            `json:"uuid"`
}

// Shutdown asks an agent to kill every task of a framework, which the master
// has removed (teardown or failover timeout).
type Shutdown struct {
	FrameworkID mesos.FrameworkID `json:"framework_id"`
}

// StatusError is a non-2xx answer of a peer.
type StatusError struct {
	Code int
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("cluster: status %d: %s", e.Code, e.Body)
}

// Post sends in as JSON to baseURL+path and decodes a 2xx answer's body into
// out when out is not nil. A non-2xx answer is a *StatusError.
func Post(ctx context.Context, hc *http.Client, baseURL, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("read %s answer: %w", path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Code: resp.StatusCode, Body: string(bytes.TrimSpace(data))}
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode %s answer: %w", path, err)
	}
	return nil
}

// Decode reads a JSON request body into v, answering 400 itself on failure.
// It reports whether decoding succeeded.
func Decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(io.LimitReader(r.Body, 16<<20)).Decode(v); err != nil {
		http.Error(w, "decode request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}
