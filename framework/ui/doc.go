// Package ui serves Stadion's web UI at /ui/: static HTML, CSS and
// JavaScript modules embedded in the binary, which talk to the public /v2
// API only, plus /ui/tasks/<task_id>/files/..., a same-origin proxy to
// the Mesos files API of the agent that runs the task, so that the
// browser reads a task's sandbox without reaching agents itself
// (docs/ui.md).
package ui
