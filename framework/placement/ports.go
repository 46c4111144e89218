package placement

import (
	"slices"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// portRequest is what one of the app's ports needs on the host.
type portRequest struct {
	// fixed is the host port that must be offered; 0 for a dynamic port.
	fixed uint32
	// none marks a container port mapping without a host port: the task
	// gets no host port for it (HostPorts holds 0).
	none bool
}

// portRequests lists the host ports of app in port order. Host
// networking: one per port definition, the definition's port itself with
// requirePorts (0 stays dynamic), dynamic otherwise (a non-zero port is
// then a service port). Container networking: one per port mapping in
// use, hostPort N required, 0 dynamic, absent none.
func portRequests(app *marathon.App) []portRequest {
	var reqs []portRequest
	if app.IsHostNetworking() {
		for _, d := range app.PortDefinitions {
			var r portRequest
			if app.RequirePorts && d.Port > 0 {
				r.fixed = uint32(d.Port)
			}
			reqs = append(reqs, r)
		}
		return reqs
	}
	for _, m := range app.PortMappingsInUse() {
		switch {
		case m.HostPort == nil:
			reqs = append(reqs, portRequest{none: true})
		case *m.HostPort > 0:
			reqs = append(reqs, portRequest{fixed: uint32(*m.HostPort)})
		default:
			reqs = append(reqs, portRequest{})
		}
	}
	return reqs
}

// portPick is one chosen host port and the pool it comes from.
type portPick struct {
	pool int
	port uint32
}

// pickPorts chooses host ports for reqs from the accepted pools without
// changing them: required ports where they are offered, then dynamic
// ports lowest first, the app's own role before "*". It returns the picks
// in request order (none entries have pool -1 and port 0) and false when
// some port cannot be had. picks is reused as scratch.
func (s *offerState) pickPorts(reqs []portRequest, r roles, picks []portPick) ([]portPick, bool) {
	picks = picks[:0]
	for _, req := range reqs {
		switch {
		case req.none:
			picks = append(picks, portPick{pool: -1})
		case req.fixed > 0:
			pi := s.poolWith(req.fixed, r)
			if pi < 0 || picked(picks, req.fixed) {
				return picks, false
			}
			picks = append(picks, portPick{pool: pi, port: req.fixed})
		default:
			picks = append(picks, portPick{pool: -2}) // filled below
		}
	}
	for i := range picks {
		if picks[i].pool != -2 {
			continue
		}
		pi, port := s.lowestFree(r, picks)
		if pi < 0 {
			return picks, false
		}
		picks[i] = portPick{pool: pi, port: port}
	}
	return picks, true
}

// poolWith returns the index of an accepted pool that still holds port.
func (s *offerState) poolWith(port uint32, r roles) int {
	for i := range s.ports {
		if !r.accepts(s.ports[i].role) {
			continue
		}
		for _, rg := range s.ports[i].ranges {
			if uint64(port) >= rg.Begin && uint64(port) <= rg.End {
				return i
			}
		}
	}
	return -1
}

// lowestFree returns the lowest port not yet picked, from the pools in
// role preference order, or -1.
func (s *offerState) lowestFree(r roles, picks []portPick) (int, uint32) {
	for _, pass := range r.passes {
		for i := range s.ports {
			if s.ports[i].role != pass {
				continue
			}
			for _, rg := range s.ports[i].ranges {
				for p := rg.Begin; p <= rg.End && p <= 65535; p++ {
					if !picked(picks, uint32(p)) {
						return i, uint32(p)
					}
				}
			}
		}
	}
	return -1, 0
}

func picked(picks []portPick, port uint32) bool {
	for _, p := range picks {
		if p.pool >= 0 && p.port == port {
			return true
		}
	}
	return false
}

// takePorts removes the picks from their pools, appends one ports resource
// per pool used to out, and returns the host ports in request order.
func (s *offerState) takePorts(picks []portPick, out []mesos.Resource) ([]mesos.Resource, []uint32) {
	hostPorts := make([]uint32, len(picks))
	var used []int
	for i, p := range picks {
		if p.pool < 0 {
			continue
		}
		hostPorts[i] = p.port
		s.ports[p.pool].ranges = removePort(s.ports[p.pool].ranges, uint64(p.port))
		if !slices.Contains(used, p.pool) {
			used = append(used, p.pool)
		}
	}
	slices.Sort(used)
	for _, pi := range used {
		var rs []mesos.Range
		for _, p := range picks {
			if p.pool == pi {
				rs = append(rs, mesos.Range{Begin: uint64(p.port), End: uint64(p.port)})
			}
		}
		res := taken(s.ports[pi].src)
		res.Type = mesos.ValueRanges
		res.Ranges = &mesos.Ranges{Range: mergeRanges(rs)}
		out = append(out, res)
	}
	return out, hostPorts
}

// removePort returns rs without port, reusing rs when it can.
func removePort(rs []mesos.Range, port uint64) []mesos.Range {
	for i, rg := range rs {
		if port < rg.Begin || port > rg.End {
			continue
		}
		switch {
		case rg.Begin == rg.End:
			return slices.Delete(rs, i, i+1)
		case port == rg.Begin:
			rs[i].Begin++
		case port == rg.End:
			rs[i].End--
		default:
			rs = slices.Insert(rs, i+1, mesos.Range{Begin: port + 1, End: rg.End})
			rs[i].End = port - 1
		}
		return rs
	}
	return rs
}
