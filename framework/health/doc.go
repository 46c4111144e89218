// Package health runs Marathon's scheduler-side HTTP, HTTPS and TCP health
// checks: a pure State that folds probe outcomes with Marathon's grace period
// and kill rules, the probes themselves, and a Runner that schedules them.
package health
