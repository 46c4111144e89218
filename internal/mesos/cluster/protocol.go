package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

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
	// PathAcks forwards up to MaxAcks acknowledgements in one call: Acks
	// in, 202 out once each is taken or refused (an unknown task or uuid
	// is ignored, as PathAck's 404 and 409 are by the master). An agent
	// without it answers 404; the master then sends them one by one.
	PathAcks = "/cluster/v1/acks"
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
	// Domain is the agent's fault domain (mesos.DomainInfo), if any.
	Domain  json.RawMessage `json:"domain,omitempty"`
	Tasks   []Task          `json:"tasks,omitempty"`
	Version string          `json:"version,omitempty"`
	// Token is the agent's secret for this run of the agent, made by the
	// agent (NewToken) and sent only to the master it registers with. The
	// master presents it on every call to the agent, and the agent on
	// every status update; the agent refuses any call without it, so a
	// process that can reach the agent's port cannot run a task.
	Token string `json:"token"`
}

// Task is a task an agent runs, as reported at reregistration.
type Task struct {
	FrameworkID mesos.FrameworkID `json:"framework_id"`
	Info        mesos.TaskInfo    `json:"info"`
	// Status is the latest status the agent has for the task.
	Status mesos.TaskStatus `json:"status"`
	// Principal is FrameworkInfo.principal at the launch, so that a
	// restarted master knows who may resubscribe as the task's framework.
	Principal string `json:"principal,omitempty"`
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
	// Executor and Group are set for a task of a LAUNCH_GROUP: the
	// group's DEFAULT executor and the ids of all the group's tasks, in
	// order (one Run is sent per task).
	Executor *mesos.ExecutorInfo `json:"executor,omitempty"`
	Group    []mesos.TaskID      `json:"group,omitempty"`
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

// Acks is a batch of acknowledgements (PathAcks), in the order the
// scheduler sent them.
type Acks struct {
	Acks []Ack `json:"acks"`
}

// MaxAcks bounds the acknowledgements of one Acks.
const MaxAcks = 1000

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

// NewToken returns a fresh random token: 32 bytes, hex-encoded.
func NewToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Authorized reports whether r carries "Authorization: Bearer <token>". The
// comparison takes the same time whatever the tokens; an empty token
// authorizes nothing.
func Authorized(r *http.Request, token string) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

// Post sends in as JSON to baseURL+path and decodes a 2xx answer's body into
// out when out is not nil. A non-2xx answer is a *StatusError. A non-empty
// token is sent as "Authorization: Bearer <token>".
func Post(ctx context.Context, hc *http.Client, baseURL, path, token string, in, out any) error {
	return post(ctx, hc, baseURL, path, func(r *http.Request) {
		if token != "" {
			r.Header.Set("Authorization", "Bearer "+token)
		}
	}, in, out)
}

// PostBasic is Post with HTTP Basic credentials, or none when principal is
// empty.
func PostBasic(ctx context.Context, hc *http.Client, baseURL, path, principal, secret string, in, out any) error {
	return post(ctx, hc, baseURL, path, func(r *http.Request) {
		if principal != "" {
			r.SetBasicAuth(principal, secret)
		}
	}, in, out)
}

func post(ctx context.Context, hc *http.Client, baseURL, path string, auth func(*http.Request), in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, baseURL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	auth(req)
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

// ValidateID applies Mesos's rules for task, executor, framework and agent
// ids (common/validation.cpp validateID): ids name directories, so they are
// not empty, at most 255 bytes (NAME_MAX), not "." or "..", and hold no
// '/', '\\' or control character. It returns Mesos's message, or "".
func ValidateID(id string) string {
	switch {
	case id == "":
		return "ID must not be empty"
	case len(id) > 255:
		return "ID must not be greater than 255 characters"
	case id == "." || id == "..":
		return "'" + id + "' is disallowed"
	case strings.ContainsFunc(id, func(c rune) bool { return c == '/' || c == '\\' || c < 0x20 || c == 0x7f }):
		return "'" + id + "' contains invalid characters"
	}
	return ""
}
