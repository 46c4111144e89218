// Package boltstore is the embedded state.Store: one bbolt file under
// --data_dir, written with one transaction per Change and read back with
// the bolt tools, since every record is JSON.
//
// Layout (bucket → key → value):
//
//	meta        framework_id → the Mesos framework id
//	            schema_version → "1"
//	apps        <app id> → bucket: current → version, <version> → app (marathon.CanonicalJSON)
//	pods        <pod id> → bucket: current → version, <version> → marathon.Pod (JSON)
//	groups      <group id> → bucket: current → version, <version> → state.Group
//	instances   <instance id> → state.Instance
//	deployments <deployment id> → state.Deployment
//
// Versions are marathon.Timestamp strings, whose byte order is time order.
//
// Damage: Open refuses a missing or empty file where state is expected
// (ErrNoDatabase, unless Config.Init) and a damaged file (ErrCorrupt): it
// walks every page read-only first, in a goroutine where bbolt's panic on
// a bad page, or the fault of a page past the end of a truncated file,
// becomes an error. Load sets aside the records that do not decode
// (state.SetAside) and loads the rest. Check adds bbolt's consistency
// check, for `stadion state check`.
package boltstore
