// Package cluster is the private protocol between the built-in master and its
// agents: JSON over HTTP in both directions. Agents register with the leading
// master and send task status updates; the master pings agents, asks them to
// run and kill tasks and forwards the scheduler's acknowledgements. Nothing
// outside internal/mesos/master and internal/mesos/agent speaks it.
//
// Every call but registration carries the agent's token (Register.Token) as
// a Bearer credential: the master on its calls to the agent, the agent on its
// status updates. Registration may carry HTTP Basic credentials.
package cluster
