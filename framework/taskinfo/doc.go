// Package taskinfo turns an app, an instance and its placement into the
// Mesos TaskInfo that launches it, as Marathon's TaskBuilder does: command
// or DOCKER/MESOS container, Marathon's task environment, fetch URIs,
// agent-side health checks, kill policy, labels and discovery info. It is
// pure: no I/O, no clock.
package taskinfo
