// Package wrapper is the container entrypoint behind `stadion wrap`: it
// turns the Consul KV under a prefix into the environment of a command,
// runs the command as its child (package child), forwards signals to it and
// exits with its status. It watches the prefix with blocking queries and,
// when the configuration changes, asks the scheduler for one rolling
// restart of the app per change, however many instances watch it (an
// instance elected per change through a Consul session lock), or restarts
// the command in place.
package wrapper
