// Package jobs holds the end-to-end test of the article's deploy chain
// (build tag e2e, `make e2e`): `stadion serve` and `stadion jobs`, each
// with its built-in cluster, and examples/jobs/submit.sh posting
// prepare → deploy → smoke-test, where deploy runs `stadion deploy`
// against serve. docs/jobs.md walks through the same steps by hand.
package jobs
