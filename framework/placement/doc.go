// Package placement fits waiting instances into Mesos offers: cpus, mem,
// disk and gpus, host ports (dynamic, required, and BRIDGE port mappings)
// and Marathon's placement constraints. It is pure: Fit takes everything it
// needs as arguments, does no I/O and keeps no state between calls.
package placement
