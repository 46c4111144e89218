// Package zkstore is the ZooKeeper state.Store (--zk zk://h1:2181,h2:2181/stadion):
// one small node per app version, pod version, group version, instance and
// deployment, so that no node grows with the cluster (Marathon's 1 MB
// group:root node), and Changes written in as few round trips as their size
// allows.
//
// # Layout
//
// Under <Root>/state (Root is the path of the zk:// URL; <Root>/leader is
// left to the leader election):
//
//	schema                       "1"
//	commit                       {"token":..., "pending":{...}}: see Atomicity
//	framework-id                 the Mesos framework id ("" until set)
//	apps/<bb>/<app>              the current version, e.g. 2026-03-01T12:00:00.005Z
//	apps/<bb>/<app>/<version>    the app at that version (marathon.CanonicalJSON)
//	pods/<bb>/<pod>              the current version
//	pods/<bb>/<pod>/<version>    the marathon.Pod at that version (JSON)
//	groups/<bb>/<group>          the current version
//	groups/<bb>/<group>/<version> the state.Group at that version (JSON)
//	instances/<bb>/<instance>    the state.Instance (JSON)
//	deployments/<bb>/<id>        the state.Deployment (JSON)
//	txn/<token>/<n>              pieces of the write-ahead record of a large Change
//
// Names: an id is escaped into one node name: A-Z a-z 0-9 . _ - stay,
// every other byte is %XX, as url.PathUnescape reads back ("/prod/web" is
// "%2Fprod%2Fweb"; "prod_web.instance-1" stays). <bb> is a bucket, two hex
// digits of the FNV-1a hash of the id (256 per kind, created when first
// used), so that no children list grows into one large reply. Versions are
// marathon.Timestamp strings, whose byte order is time order. Every record
// is JSON and readable with zkCli.
//
// Chunks: a record larger than the chunk size (half of MaxRequestBytes,
// 64 KiB by default, at most 256 KiB) is split: its node holds the manifest
// "chunks <n> <bytes> <crc32>" and the nodes "<name>~1" ... "<name>~n" next
// to it hold its bytes. This is for the group records, which map every app
// of their subtree to its version: the root group of 10,000 apps is nearly
// 500 KB. Such a record is still written and read whole with each version;
// groups holding references to their children would end that.
//
// # Atomicity
//
// The commit node's znode version counts committed writes. Every write
// names the version it expects (a set or a check of the commit node in the
// same multi) and, with Config.Fence, checks that the fence node exists, so
// a writer whose picture of the state is stale, or who lost leadership,
// writes nothing.
//
// A Change whose writes fit in MaxRequestBytes (128 KiB by default: a
// scheduler pass's batch of about 230 instance updates) is one multi,
// atomic in ZooKeeper, which also sets the commit node to the Apply's
// token: one round trip.
//
// A larger Change (an app scaled to 10,000 instances) goes through a
// write-ahead record:
//
//  1. its plan, the final content of every node it touches (nil for a
//     node to delete), is encoded, gzipped and written as pieces under
//     txn/<token>, pipelined; nothing refers to them yet;
//  2. one multi sets the commit node to {"token", "pending": pieces, size,
//     checksum} and checks that txn/<token> was not claimed by garbage
//     collection (its data version is still 0): from here on the Change is
//     committed;
//  3. the plan is written to its nodes in multis of up to MaxRequestBytes,
//     pipelined, phase by phase (parents created before children, deleted
//     after them), each multi checking the commit node's version;
//  4. one multi clears "pending"; the pieces are deleted.
//
// Writing a plan is idempotent: it is diffed against the nodes as they
// are. So a crash (or a lost connection) before step 2 leaves only pieces
// nothing refers to, deleted by the next method of the store or the next
// Open; a crash after step 2 leaves a pending commit, which the next
// method of the store, or Open in the next leader, finishes before it does
// anything else. Load therefore never
// sees half of an Apply: it reads under the store's lock, after any pending
// Change is finished, and checks that the commit node did not move while it
// read (a change by another writer makes it read again).
//
// The store assumes one writer per root: leader election keeps the others
// away, the commit version check turns a second writer's write into
// ErrConflict instead of a mix, and Config.Fence stops a deposed leader
// whose picture happens to be current.
//
// # Sessions
//
// The client reconnects by itself. A request that gets no answer for
// OperationTimeout fails; a method whose connection or session was lost
// waits for a new session and tries again for up to OperationTimeout, then
// fails with ErrNoSession. A write whose answer was lost is resolved on
// the next try: the commit node holds its token if it committed.
package zkstore
