// Package jobstore holds the two stores of `stadion jobs` (jobs.Store):
// bbolt in a file (the default, --data_dir) and ZooKeeper (--zk_hosts,
// --zk_path), one small node per job and per run, with writes fenced by
// the leader's election node. Both pass the same contract tests.
package jobstore
