package master

import (
	"context"
	"time"

	"github.com/stadionhq/stadion/internal/mesos"
	"github.com/stadionhq/stadion/internal/mesos/cluster"
)

// Bounds on what the master remembers of finished things.
const (
	maxCompletedFrameworks = 50
	maxCompletedTasks      = 1000
	maxStatusesPerTask     = 64
)

// clusterState is everything the leading master knows. It is replaced as a
// whole when leadership changes.
type clusterState struct {
	frameworks map[string]*framework
	completed  []*framework    // removed frameworks, newest last
	removed    map[string]bool // ids of removed frameworks: never adopted again
	agents     map[string]*agent
	offers     map[string]*offer

	rotation int // round-robin start of the allocator
}

func newClusterState() *clusterState {
	return &clusterState{
		frameworks: map[string]*framework{},
		removed:    map[string]bool{},
		agents:     map[string]*agent{},
		offers:     map[string]*offer{},
	}
}

// close ends every stream, timer and agent link of st; st is not used again.
func (st *clusterState) close() {
	for _, fw := range st.frameworks {
		if fw.sub != nil {
			fw.sub.close()
		}
		if fw.failover != nil {
			fw.failover.Stop()
		}
	}
	for _, a := range st.agents {
		a.link.close()
	}
}

// framework is a framework this master knows: subscribed, disconnected
// (waiting out its failover timeout) or recovered (known only from tasks
// that reregistering agents reported).
type framework struct {
	id        string
	info      mesos.FrameworkInfo
	sub       *subscription // nil while disconnected
	recovered bool

	registeredTime   time.Time
	reregisteredTime time.Time
	unregisteredTime time.Time

	suppressed bool
	filters    map[string][]refusal // by agent id
	failover   *time.Timer
	// failoverGen tells a stale failover timer from the current one.
	failoverGen int

	tasks     map[string]*task // live tasks, including unreachable ones
	completed []*task
	offers    map[string]*offer
}

func newFramework(id string) *framework {
	return &framework{
		id:      id,
		filters: map[string][]refusal{},
		tasks:   map[string]*task{},
		offers:  map[string]*offer{},
	}
}

func (fw *framework) has(c string) bool { return fw.info.HasCapability(c) }

// offerRoles are the roles fw's offers may be allocated to: a MULTI_ROLE
// framework's roles ("*" when it has none), else its single role.
func (fw *framework) offerRoles() []string {
	if fw.has(mesos.CapabilityMultiRole) && len(fw.info.Roles) > 0 {
		return fw.info.Roles
	}
	return []string{fw.role()}
}

// role is the framework's first role, which /master/state shows.
func (fw *framework) role() string {
	if fw.has(mesos.CapabilityMultiRole) {
		if len(fw.info.Roles) > 0 {
			return fw.info.Roles[0]
		}
		return mesos.RoleUnreserved
	}
	if fw.info.Role != "" {
		return fw.info.Role
	}
	return mesos.RoleUnreserved
}

func (fw *framework) complete(t *task) {
	delete(fw.tasks, t.info.TaskID.Value)
	fw.completed = append(fw.completed, t)
	if n := len(fw.completed); n > maxCompletedTasks {
		fw.completed = append([]*task(nil), fw.completed[n-maxCompletedTasks:]...)
	}
}

// refusal is a refuse filter: resources on an agent the framework declined,
// not offered to it again until the deadline unless more is free.
type refusal struct {
	role      string
	resources mesos.Resources
	until     time.Time
}

// task is a task the master knows.
type task struct {
	info        mesos.TaskInfo
	frameworkID string
	agentID     string
	resources   mesos.Resources
	// status is the latest status, in its canonical state (TASK_UNREACHABLE
	// for example); conversion for the framework happens on delivery.
	status   mesos.TaskStatus
	statuses []mesos.TaskStatus
	// executor is the DEFAULT executor of a task launched by LAUNCH_GROUP,
	// shared by the tasks of the group; nil for other tasks.
	executor *groupExecutor
	// owner is the agent whose tasks hold it (setTask): a change of the
	// task's state changes what the agent uses.
	owner *agent
}

// groupExecutor is the executor of a task group: its resources are in
// use while any task of the group is.
type groupExecutor struct {
	info      mesos.ExecutorInfo
	resources mesos.Resources
}

func (t *task) state() mesos.TaskState { return t.status.State }

func (t *task) record(s mesos.TaskStatus) {
	// Only a task that ends (or comes back) changes what its agent uses:
	// STAGING, STARTING and RUNNING hold the same resources.
	if t.owner != nil && t.status.State.Terminal() != s.State.Terminal() {
		t.owner.usedOK = false
	}
	t.status = s
	t.statuses = append(t.statuses, s)
	if n := len(t.statuses); n > maxStatusesPerTask {
		t.statuses = append([]mesos.TaskStatus(nil), t.statuses[n-maxStatusesPerTask:]...)
	}
}

// holdsResources reports whether the task still uses its agent's resources.
func (t *task) holdsResources() bool { return !t.state().Terminal() }

type taskKey struct{ frameworkID, taskID string }

// agent is a registered agent.
type agent struct {
	id               string
	reg              cluster.Register
	total            mesos.Resources
	registeredTime   time.Time
	reregisteredTime time.Time
	reachable        bool
	unreachableTime  time.Time
	tasks            map[taskKey]*task
	offers           map[string]*offer
	// usedSum is used() while usedOK; unusedSum is unused() while
	// unusedOK (and usedOK).
	usedSum   mesos.Resources
	usedOK    bool
	unusedSum mesos.Resources
	unusedOK  bool
	link      *agentLink
}

// used is the sum of the resources of the agent's non-terminal tasks and
// of the executors of their task groups, summed again only after its tasks
// changed (setTask, dropTask, a task's state: task.record). The allocator
// asks for it for every agent on every allocation, with the master's lock
// held: summing every task each time was most of the cluster's CPU at
// 100,000 tasks, and held every status update and call behind it
// (issue 17).
func (a *agent) used() mesos.Resources {
	if a.usedOK {
		return a.usedSum
	}
	var out mesos.Resources
	var executors map[*groupExecutor]bool
	for _, t := range a.tasks {
		if !t.holdsResources() {
			continue
		}
		out = out.Plus(t.resources)
		if e := t.executor; e != nil && !executors[e] {
			if executors == nil {
				executors = map[*groupExecutor]bool{}
			}
			executors[e] = true
			out = out.Plus(e.resources)
		}
	}
	a.usedSum, a.usedOK = out, true
	a.unusedOK = false
	return out
}

// setTask adds or replaces the agent's task at key. A new task that holds
// resources and runs no group executor is added to the cached sum (a
// launch: one sum of its resources, not of every task of the agent again);
// anything else makes the sum be done again.
func (a *agent) setTask(key taskKey, t *task) {
	_, replaced := a.tasks[key]
	a.tasks[key] = t
	t.owner = a
	if a.usedOK && !replaced && t.executor == nil && t.holdsResources() {
		a.usedSum = a.usedSum.Plus(t.resources)
		a.unusedOK = false
		return
	}
	a.usedOK = false
}

// dropTask forgets the agent's task at key.
func (a *agent) dropTask(key taskKey) {
	delete(a.tasks, key)
	a.usedOK = false
}

func (a *agent) offered() mesos.Resources {
	var out mesos.Resources
	for _, o := range a.offers {
		out = out.Plus(o.resources)
	}
	return out
}

// setTotal sets the agent's resources.
func (a *agent) setTotal(total mesos.Resources) {
	a.total = total
	a.usedOK, a.unusedOK = false, false
}

// unused is total minus used, taken again only after used changed: with a
// port per task the subtraction of ranges was most of an allocation at
// 100,000 tasks (issue 17). The result is shared: never modify it.
func (a *agent) unused() mesos.Resources {
	if a.unusedOK && a.usedOK { // used sums again when !usedOK
		return a.unusedSum
	}
	a.unusedSum, a.unusedOK = a.total.Minus(a.used()), true
	return a.unusedSum
}

// free is what can be offered: total minus used minus outstanding offers.
// It may share memory with the agent's caches: never modify it.
func (a *agent) free() mesos.Resources {
	if len(a.offers) == 0 {
		return a.unused()
	}
	return a.unused().Minus(a.offered())
}

// hasOfferFor reports whether fw holds an offer of the agent.
func (a *agent) hasOfferFor(fw *framework) bool {
	for _, o := range a.offers {
		if o.frameworkID == fw.id {
			return true
		}
	}
	return false
}

// offer is an outstanding offer.
type offer struct {
	id          string
	frameworkID string
	agentID     string
	role        string          // the role the offer is allocated to
	resources   mesos.Resources // unreserved, role "*", no allocation info
}

// agentLink carries the master's calls to one agent in order, and pings it.
type agentLink struct {
	url string
	// token is the agent's secret from its registration: the agent
	// refuses calls without it.
	token  string
	ctx    context.Context
	cancel context.CancelFunc
	q      *queue[outbound]
}

// outbound is one call to an agent; failed, when set, runs on failure.
type outbound struct {
	path   string
	body   any
	failed func(error)
}

func (l *agentLink) send(o outbound) { l.q.push(o) }

func (l *agentLink) close() {
	l.cancel()
	l.q.close()
}
