// Package boltstore is the embedded state.Store: one bbolt file under
// --data_dir, written with one transaction per Change and read back with
// the bolt tools, since every record is JSON.
//
// Layout (bucket → key → value):
//
//	meta        framework_id → the Mesos framework id
//	            schema_version → "1"
//	apps        <app id> → bucket: current → version, <version> → app (marathon.CanonicalJSON)
//	groups      <group id> → bucket: current → version, <version> → state.Group
//	instances   <instance id> → state.Instance
//	deployments <deployment id> → state.Deployment
//
// Versions are marathon.Timestamp strings, whose byte order is time order.
package boltstore
