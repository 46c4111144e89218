// Package child runs the one command a container entrypoint supervises: it
// starts it in its own process group, forwards signals to it, escalates a
// stop to SIGKILL after a timeout and reports how it ended. When the
// supervisor is PID 1 (or a child subreaper), a Reaper also reaps the orphans
// the kernel hands over, so that no zombie piles up.
package child
