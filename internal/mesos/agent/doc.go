// Package agent is Stadion's built-in Mesos-compatible agent. It registers
// with a master over the private cluster protocol (internal/mesos/cluster),
// runs tasks in sandboxes through containerizers, runs Mesos-native health
// checks and delivers status updates reliably.
//
// Registration: the agent posts Register to the master found by Config.Master
// (a fixed address, or the leader in ZooKeeper, followed as it changes) and
// retries with backoff. It reregisters, with its id and every task and its
// latest status, when no ping came for five ping periods, when the master
// answers 404 to a status update, and when the leader in ZooKeeper changes.
//
// Authentication: the agent makes a random token when it starts and sends it
// with every registration. Its cluster endpoints (run, kill, ack, shutdown,
// ping) answer 401 to a call without that token, so only the master it
// registered with can run tasks; its status updates carry the token too.
// Config.Principal and Secret authenticate the registration itself to a
// master with --authenticate_agents. Task, executor, framework and agent ids
// are checked with Mesos's rules before any path is built from them, and the
// sandbox path must lie under <work_dir>/slaves.
//
// Status updates: each carries a fresh 16-byte uuid and is resent with
// backoff (Config.StatusRetryMin doubling up to StatusRetryMax) until the
// master forwards its acknowledgement; a task's next update waits until then.
// Once the terminal update is acknowledged the task is forgotten; its sandbox
// stays on disk under
// <work_dir>/slaves/<agent_id>/frameworks/<framework_id>/executors/<task_id>/runs/<container_id>.
//
// Task groups (LAUNCH_GROUP) run as Mesos's DEFAULT executor runs them,
// with the mesos or the simulated containerizer: each task's sandbox is
// tasks/<task_id> in the executor's,
// <work_dir>/slaves/<agent_id>/frameworks/<framework_id>/executors/<executor_id>/runs/<container_id>;
// the tasks share the agent's network namespace; a SANDBOX_PATH volume
// (PARENT: the executor's sandbox, shared by the group; SELF: the task's)
// or a host_path volume appears at its container path, which must be
// relative (there is no mount namespace without an image: the volume is
// a symbolic link in the task's sandbox); MESOS_EXECUTOR_ID and the
// statuses name the executor. When a task fails or is killed, the other
// tasks are killed (TASK_KILLED), as the default executor's restart
// policy does; a task that finishes leaves the others running. Group
// tasks in DOCKER containers, with container images, or with the bridge
// network are refused; after an agent restart, recovered group tasks are
// no longer killed together.
//
// Containerizers:
//   - mesos: a command task runs as "/bin/sh -c value" (or value exec'd with
//     arguments as argv when shell is false) in its own process group, with
//     the sandbox as working directory, stdout and stderr in the sandbox, PATH
//     and HOME from the agent plus MESOS_SANDBOX, MESOS_DIRECTORY,
//     MESOS_TASK_ID, MESOS_FRAMEWORK_ID, MESOS_EXECUTOR_ID,
//     MESOS_AGENT_ENDPOINT and MESOS_SLAVE_ID, then the command's variables.
//     URIs are fetched first (http, https, file, absolute paths; .tar, .tar.gz,
//     .tgz and .zip are extracted unless extract is false or the file is
//     executable; no cache). Secret variables are not supported.
//   - docker: DOCKER tasks through the Docker Engine API (v1.41). The image
//     is pulled when missing or when force_pull_image is set, and a failed
//     pull fails the task. shell true replaces the entrypoint with /bin/sh -c
//     value; shell false keeps the image's entrypoint with [value] + arguments
//     as its command. Networks HOST, BRIDGE (with port mappings), NONE and
//     USER; the sandbox is mounted at /mnt/mesos/sandbox; cpus and mem become
//     CPU shares and a memory limit; host-path volumes become binds.
//     Parameters understood: env, label, volume, net/network, hostname, user,
//     workdir, entrypoint, cap-add, cap-drop, dns, dns-search, add-host,
//     security-opt, init, log-driver, log-opt; others are logged and ignored.
//     The container is named mesos-<container_id>, labelled stadion.task_id
//     and friends, stopped with "docker stop -t <grace>", and removed after it
//     ends; its output is copied into the sandbox's stdout and stderr.
//   - simulated: no process at all; TASK_RUNNING at once, TASK_KILLED on
//     kill. A task with a health check reports healthy once; no check runs.
//     For benchmarks only: it is used only when it is the agent's explicit
//     containerizer, and a DOCKER task never falls back to it.
//
// Health checks (HTTP, TCP, COMMAND; package health) target 127.0.0.1, or a
// bridged container's own IP with the container port. COMMAND checks run in
// the sandbox with the task's environment, or inside the container through
// the Engine's exec API. A change of health is reported as TASK_RUNNING with
// healthy set and REASON_TASK_HEALTH_CHECK_STATUS_UPDATED; after
// consecutive_failures failures the task is killed and ends TASK_KILLED with
// healthy false.
//
// Kills send TASK_KILLING, then SIGTERM to the process group and SIGKILL
// after the grace period (the kill's policy, else the task's, else 3s).
//
// Recovery: the agent checkpoints its id and every task (task info, pid and
// process start time, boot id, Docker container id, latest status and
// unacknowledged updates) under <work_dir>/meta, atomically. Started again
// on the same work dir, it re-attaches to the tasks still running under its
// old id and reports those that ended while it was down (Config.Recover
// reconnect, the default), or kills them all and registers anew (cleanup).
// See checkpoint.go and recover.go, and docs/architecture.md.
package agent
