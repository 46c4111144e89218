// Package local runs the built-in Mesos-compatible cluster in one process: a
// master and a number of agents, wired together over loopback HTTP exactly as
// separate processes would be. It backs `stadion serve --master local` and the
// tests that need a real cluster.
package local
