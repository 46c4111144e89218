// Package testenv starts the real external parts Stadion's tests need
// (ZooKeeper, Consul, HAProxy) on random loopback ports and stops them in
// t.Cleanup.
//
// A part whose binary is missing skips the test, except under CI=true, where
// it fails the test: CI must never turn a missing part into a silent skip.
// `make deps` installs everything.
package testenv
