// Package secrets resolves the secrets of Marathon apps (App.Secrets) at
// launch, from Consul KV or from files under a directory, with a cache that
// the scheduler loop reads without waiting on I/O. Values live only in
// memory here and in the TaskInfos built from them (docs/secrets.md).
package secrets
