// Package loadgen is an open-loop HTTP load generator: it sends GET requests
// at a fixed rate whatever the answers take, and counts failures and
// latencies. Tests and the e2e use it to show that a load balancer reload
// drops no request.
package loadgen
