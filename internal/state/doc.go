// Package state is the scheduler's durable state: apps with their versions,
// groups, instances, deployments and the Mesos framework id. Store is the
// interface; the bbolt store (boltstore: embedded, --data_dir) and the
// ZooKeeper store (--zk) implement it and pass one contract test suite
// (statetest), as does memstore, the in-memory store for unit tests.
//
// The scheduler's event loop is the only writer. It loads everything once
// when it starts leading, keeps it in memory, and writes each pass's changes
// as one Change, so a crash leaves either all of a pass or none of it.
package state
