// Package deployer puts a Marathon app definition live from CI, as
// `stadion deploy` does: it loads a service.json template (HTTP, file or
// path), renders its $tag, $environment and $instances placeholders as
// text, checks the result with the scheduler's own decoder and validator
// (errors carry line and column), creates the app or updates it on 409,
// waits for the deployment with progress and, when it fails or times out,
// rolls back to the previous version. Gen writes the per-build service
// definitions of gen-service-defs.sh, and ResolveMarathon finds Marathon
// from the leading Mesos master in ZooKeeper, as mesos-resolve did.
package deployer
