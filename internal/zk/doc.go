// Package zk finds the leading Mesos master in ZooKeeper and contends for
// leadership the way Mesos masters do.
//
// Mesos masters started with --zk=zk://h1:2181,h2:2181/mesos each create an
// ephemeral sequential node <path>/json.info_NNNNNNNNNN holding their
// MasterInfo as JSON; the node with the lowest sequence number is the leader.
// MasterDetector follows that group and MasterContender joins it in the same
// format, so a scheduler finds Stadion's built-in master and a real Mesos
// master the same way.
package zk
