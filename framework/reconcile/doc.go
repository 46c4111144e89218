// Package reconcile computes, without any I/O, what the scheduler must do to
// bring the instances it holds in line with the apps it runs: which instances
// need a task now, which tasks to kill, which instances to create, forget or
// decommission, and when to look again. Running deployments own their apps'
// instance counts (framework/deployment); everything else is here: relaunch
// with backoff, launch timeouts, unreachable instances, instances of removed
// apps, and drift from an app's instance count.
package reconcile
