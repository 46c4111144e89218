// Package health runs a task's Mesos-native health check (HTTP, TCP or
// COMMAND) on the agent and decides, with Mesos's rules for delay, grace
// period and consecutive failures, when the task's health changes and when it
// must be killed.
package health
