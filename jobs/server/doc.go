// Package server runs `stadion jobs`: the built-in Mesos cluster with
// --master local, the jobs store (bbolt, or ZooKeeper with leader
// election), the scheduler of each term of leadership, and Chronos's API,
// which standbys proxy to the leader as Chronos's RedirectFilter does.
package server
