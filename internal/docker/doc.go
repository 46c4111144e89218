// Package docker is a small client of the Docker Engine API over its unix
// socket or TCP: requests with JSON bodies, the engine's error answers, its
// progress and multiplexed log streams, and the event stream. The built-in
// Mesos agent runs containers with it and the registrator follows them.
package docker
