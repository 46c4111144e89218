// Package scheduler is the event loop behind `stadion serve`: one goroutine
// owns the apps, instances and deployments, takes Mesos events, API commands
// and timers, computes what to do with the pure cores (reconcile,
// deployment, placement, taskinfo) and only then acts: it writes the state
// store, calls Mesos and publishes an immutable View for the API's readers.
package scheduler
