package local

import (
	"encoding/json"
	"fmt"

	"github.com/stadionhq/stadion/internal/mesos"
)

// defaultPorts is the agent's port range when its resources name none, as
// Mesos's agent has it.
const defaultPorts = "ports:[31000-32000]"

// agentPorts returns agent i of n's resources: text with its port ranges
// cut into n disjoint shares, share i kept. Every agent of the built-in
// cluster runs on this one host, so two agents offering the same port
// would launch two tasks that cannot both bind it. text is in Mesos's
// --resources form; the result is the JSON form, which the agent also
// reads. With one agent text comes back as it is.
func agentPorts(text string, i, n int) (string, error) {
	if n <= 1 {
		return text, nil
	}
	res, err := mesos.ParseResources(text)
	if err != nil {
		return "", err
	}
	var ports []mesos.Range
	var rest mesos.Resources
	for _, r := range res {
		if r.Name == "ports" && r.Type == mesos.ValueRanges && r.Ranges != nil {
			ports = append(ports, r.Ranges.Range...)
			continue
		}
		rest = append(rest, r)
	}
	if len(ports) == 0 {
		def, err := mesos.ParseResources(defaultPorts)
		if err != nil {
			return "", err
		}
		ports = def[0].Ranges.Range
	}
	var total uint64
	for _, r := range ports {
		total += r.End - r.Begin + 1
	}
	share := total / uint64(n)
	if share == 0 {
		return "", fmt.Errorf("%d ports cannot be shared by %d agents", total, n)
	}
	mine := cut(ports, uint64(i)*share, share)
	out := append(rest, mesos.Resource{
		Name: "ports", Type: mesos.ValueRanges, Role: mesos.RoleUnreserved, Ranges: &mesos.Ranges{Range: mine},
	})
	b, err := json.Marshal(out)
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// cut returns count ports of ranges starting at the skip-th.
func cut(ranges []mesos.Range, skip, count uint64) []mesos.Range {
	var out []mesos.Range
	for _, r := range ranges {
		size := r.End - r.Begin + 1
		if skip >= size {
			skip -= size
			continue
		}
		begin := r.Begin + skip
		skip = 0
		end := min(r.End, begin+count-1)
		out = append(out, mesos.Range{Begin: begin, End: end})
		count -= end - begin + 1
		if count == 0 {
			break
		}
	}
	return out
}
