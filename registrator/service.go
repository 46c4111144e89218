package registrator

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Keys of the service meta every registration carries. Ownership is decided
// by MetaOwner alone; the others are for people and templates.
const (
	MetaOwner     = "stadion_owner"
	MetaHash      = "stadion_hash"
	MetaAppID     = "app_id"
	MetaTaskID    = "task_id"
	MetaVersion   = "version"
	MetaPortIndex = "port_index"
	MetaHost      = "host"
	// MetaSource is "docker" on the registrations of the Docker source
	// and absent on the scheduler's: each source changes only its own.
	MetaSource = "stadion_source"
	// MetaContainerID and MetaContainerName name the container of a
	// Docker source registration.
	MetaContainerID   = "container_id"
	MetaContainerName = "container_name"
)

// SourceDocker is the MetaSource of the Docker source's registrations.
const SourceDocker = "docker"

// Status is a Consul check status.
type Status string

// Check statuses the registrator sets.
const (
	StatusPassing  Status = "passing"
	StatusCritical Status = "critical"
	StatusWarning  Status = "warning"
)

// CheckKind says who decides a check's status.
type CheckKind string

// Check kinds.
const (
	// CheckHTTP and CheckTCP are run by the Consul agent.
	CheckHTTP CheckKind = "http"
	CheckTCP  CheckKind = "tcp"
	// CheckStatus carries the scheduler's verdict on the task: a TTL check
	// on an agent, a plain check with a status in the catalog.
	CheckStatus CheckKind = "status"
	// CheckScript, CheckGRPC and CheckTTL come from SERVICE_CHECK_* of a
	// container: the agent runs a script or a gRPC health call, and a
	// TTL check is passed by the container itself, never by the
	// registrator.
	CheckScript CheckKind = "script"
	CheckGRPC   CheckKind = "grpc"
	CheckTTL    CheckKind = "ttl"
)

// Check is one Consul check of a service.
type Check struct {
	ID   string    `json:"id"`
	Name string    `json:"name"`
	Kind CheckKind `json:"kind"`
	// HTTP is the URL of an http check; TCP the host:port of a tcp check.
	HTTP          string `json:"http,omitempty"`
	TLSSkipVerify bool   `json:"tlsSkipVerify,omitempty"`
	TCP           string `json:"tcp,omitempty"`
	// Method of an http check; empty is GET.
	Method string `json:"method,omitempty"`
	// Args of a script check; GRPC the host:port of a grpc check.
	Args       []string `json:"args,omitempty"`
	GRPC       string   `json:"grpc,omitempty"`
	GRPCUseTLS bool     `json:"grpcUseTLS,omitempty"`
	// InitialStatus is the status a check the registrator never sets
	// starts with (empty: Consul's default, critical).
	InitialStatus Status `json:"initialStatus,omitempty"`
	// Notes of a status check say who sets it; empty is the scheduler.
	Notes string `json:"notes,omitempty"`
	// DeregisterAfter makes Consul remove the service after its check has
	// been critical that long.
	DeregisterAfter time.Duration `json:"deregisterAfter,omitempty"`
	// Interval and Timeout of http and tcp checks (the app's).
	Interval time.Duration `json:"interval,omitempty"`
	Timeout  time.Duration `json:"timeout,omitempty"`
	// TTL of a status check on an agent; 0 in the catalog.
	TTL time.Duration `json:"ttl,omitempty"`
	// Status is what the scheduler says: the status of a status check,
	// and the initial status of an http or tcp check (Consul's own runs
	// decide it afterwards). Output says why. Neither is part of the
	// definition's hash.
	Status Status `json:"-"`
	Output string `json:"-"`
}

// Service is one wanted registration: one port of one running task.
type Service struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Tags    []string          `json:"tags"`
	Address string            `json:"address"`
	Port    int               `json:"port"`
	Meta    map[string]string `json:"meta"`
	// Node is the catalog node the service is registered on; "" on an
	// agent (the agent's own node).
	Node string `json:"node,omitempty"`
	// NodeAddress is the catalog node's address: the task's host.
	NodeAddress string  `json:"nodeAddress,omitempty"`
	Checks      []Check `json:"checks"`
}

// key identifies a registration: service ids are unique per node.
func (s Service) key() string { return s.Node + "\x00" + s.ID }

// definitionHash is a digest of everything Consul keeps of the service
// except the check statuses (and the hash itself): two registrations with
// the same hash need no re-registration.
func definitionHash(s Service) string {
	s.Meta = maps.Clone(s.Meta)
	delete(s.Meta, MetaHash)
	b, _ := json.Marshal(s) // plain data: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// Registered is an owned service as Consul holds it.
type Registered struct {
	ID   string
	Node string
	Name string
	Meta map[string]string
	// Checks are the statuses of the service's checks by check id.
	Checks map[string]Status
	// Seedable are the checks the Consul agent runs (http, tcp) that may
	// still be seeded with the scheduler's verdict: never seen passing in
	// Consul and never seeded (agentRegistry.List).
	Seedable map[string]bool
}

func (r Registered) key() string { return r.Node + "\x00" + r.ID }

// Node is an owned catalog node.
type Node struct {
	Name string
	// Foreign counts the services on it that someone else owns; a node
	// with any is never deregistered.
	Foreign int
}

// Current is what Consul holds of ours: the owned services (and, in the
// catalog, the owned nodes).
type Current struct {
	Services []Registered
	Nodes    []Node
}

// Skip is a task, or a whole app when TaskID is empty, or a container, that
// could not be turned into registrations. Its registrations, if any, stay
// as they are.
type Skip struct {
	AppID  marathon.PathID
	TaskID string
	// Container is the id of a container of the Docker source.
	Container string
	Err       error
}

// Desired is what Consul should hold, computed from one snapshot.
type Desired struct {
	// Services are sorted by node and id.
	Services []Service
	// Skipped tasks and apps keep their registrations.
	Skipped []Skip
}

// kept reports whether r belongs to a skipped task or app.
func (d Desired) kept(r Registered) bool {
	for _, s := range d.Skipped {
		if s.Container != "" && r.Meta[MetaContainerID] == s.Container {
			return true
		}
		if s.TaskID != "" && r.Meta[MetaTaskID] == s.TaskID {
			return true
		}
		if s.TaskID == "" && s.AppID != "" && r.Meta[MetaAppID] == string(s.AppID) {
			return true
		}
	}
	return false
}

// StatusUpdate sets the status of one status check.
type StatusUpdate struct {
	Node        string
	NodeAddress string
	ServiceID   string
	Check       Check
}

// Plan is what to change in Consul.
type Plan struct {
	// Register are new services and services whose definition changed
	// (or lost a check).
	Register []Service
	// Update are status checks whose status changed.
	Update []StatusUpdate
	// Seed are checks run by the Consul agent that have never passed there
	// while the scheduler already has the task healthy: the agent staggers
	// a new check's first run over up to one interval, and a run before
	// the task listened leaves it critical for one more. They are
	// registered again, passing, once each: a new task is routable as
	// soon as the scheduler counts it healthy, so a rolling upgrade that
	// kills old tasks for it does not leave the balancer empty, and
	// Consul's own runs decide from then on.
	Seed []StatusUpdate
	// StaleChecks are checks of wanted services that their definition no
	// longer has. Agents drop them when the service is registered again;
	// the catalog keeps them until they are deregistered.
	StaleChecks []CheckRef
	// Deregister are owned services with no task behind them.
	Deregister []Registered
	// DeregisterNodes are owned catalog nodes left with nothing on them.
	DeregisterNodes []string
}

// Empty reports whether the plan changes nothing.
func (p Plan) Empty() bool {
	return len(p.Register) == 0 && len(p.Update) == 0 && len(p.Seed) == 0 && len(p.StaleChecks) == 0 &&
		len(p.Deregister) == 0 && len(p.DeregisterNodes) == 0
}

// CheckRef names one check of a registered service.
type CheckRef struct {
	Node      string
	ServiceID string
	CheckID   string
}

// sortServices orders services by node and id.
func sortServices(ss []Service) {
	slices.SortFunc(ss, func(a, b Service) int {
		return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.ID, b.ID))
	})
}
