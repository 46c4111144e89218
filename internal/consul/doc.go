// Package consul builds the Consul API clients of the tools (stadion
// registrator and wrap) the same way: hashicorp/consul/api's standard
// environment variables (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN,
// CONSUL_HTTP_TOKEN_FILE, CONSUL_HTTP_SSL, CONSUL_CACERT, ...) first, then
// the tool's flags, with bad values reported as errors.
package consul
