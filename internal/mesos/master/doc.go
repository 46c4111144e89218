// Package master is Stadion's built-in Mesos-compatible master: the v1
// scheduler HTTP API (/api/v1/scheduler), the legacy /master/state JSON and
// redirects as Apache Mesos 1.11 serves them, plus the private cluster
// protocol (internal/mesos/cluster) that the built-in agents speak.
//
// Authentication follows Mesos (docs/mesos-auth.md): with
// Config.AuthenticateFrameworks the scheduler API takes HTTP Basic credentials
// from Config.Credentials (401 with realm "mesos-master-scheduler"
// otherwise), a framework's principal is the authenticated one, and every
// call and resubscription on a framework must come from that principal. With
// Config.AuthenticateAgents agents register with HTTP Basic too. Each agent
// gives the master a token at registration; the master presents it on every
// call to the agent and requires it on the agent's status updates.
//
// It is meant for one machine (development, CI, demos, benchmarks), so a
// scheduler written against it works unchanged against a real Mesos. What it
// deliberately leaves out, and how it answers instead:
//
//   - Only JSON is spoken. A request with Content-Type application/x-protobuf
//     gets 415 ("this master does not support application/x-protobuf"), and a
//     SUBSCRIBE whose Accept allows protobuf but not JSON gets 406, where Mesos
//     would stream protobuf.
//   - Reservations are not supported: every resource is unreserved, role "*",
//     and offered to every framework whatever its roles. A MULTI_ROLE
//     framework's offers are allocated to its roles in turn (one role per
//     offer, allocation_info on the offer and its resources, refuse filters
//     per role); LAUNCH resources without allocation_info get the offer's,
//     as Mesos injects it. Suppression is all-or-nothing: SUPPRESS and
//     suppressed_roles stop every role only when they name them all.
//   - Fault domains (Config.Domain, the agents' domain): agents in another
//     region than the master's are offered only to REGION_AWARE frameworks;
//     an agent with a domain is refused by a master without one.
//   - ACCEPT performs LAUNCH and LAUNCH_GROUP. A task group runs under
//     a DEFAULT executor only (no command, a MESOS container without an
//     image), one group per executor; it is launched whole or answered
//     with TASK_ERROR (REASON_TASK_GROUP_INVALID) for every task, and its
//     executor's resources are in use while any of its tasks is. After a
//     master restart, reregistered group tasks no longer count their
//     executor's resources. RESERVE, UNRESERVE, CREATE, DESTROY and other
//     operations are ignored with a logged warning.
//   - There are no custom executors: SHUTDOWN, MESSAGE and REQUEST are answered
//     202 and ignored; inverse offers and operation feedback calls likewise.
//   - Frameworks and tasks are not persisted. After a restart the master
//     rebuilds its view from agents that reregister with their tasks, and
//     adopts frameworks that resubscribe with an id it has not removed.
//   - Status updates are not stored for redelivery: an update for a
//     disconnected framework is dropped, and the agent, which resends every
//     update until it is acknowledged, delivers it again later. A TASK_KILLING
//     update for a framework without TASK_KILLING_STATE is acknowledged by the
//     master itself so that the agent can move on.
//   - /master/state reports version "1.11.0", the last Apache Mesos release.
package master
