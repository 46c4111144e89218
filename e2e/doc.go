// Package e2e holds the end-to-end tests of the article's platform on one
// machine (build tag e2e, `make e2e`): ZooKeeper, Consul, `stadion serve`
// with the built-in cluster, `stadion registrator`, consul-template and
// HAProxy, with the example test-server deployed by `stadion deploy` as a
// Docker image FROM scratch whose entrypoint is `stadion wrap`.
// docs/pipeline.md walks through the same steps by hand. TestDockerHosts
// runs examples/docker-hosts, the platform without Mesos: containers,
// `stadion registrator` in Docker mode, consul-template and nginx.
package e2e
