// Package deployment is the pure core of Marathon's deployments: Plan turns
// a change of apps into steps of start, stop, scale and restart actions
// ordered by dependencies, RestartCounts is the rolling-upgrade arithmetic,
// and Next tells the scheduler, pass after pass, which instances to create
// and which to kill for the current step. Nothing here does I/O or reads a
// clock; Next derives everything from its input, so a new leader resumes a
// deployment from the stored state alone.
package deployment
