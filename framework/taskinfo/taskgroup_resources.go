package taskinfo

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// packed is the matched resources of an instance, sliced.
type packed struct {
	executor []mesos.Resource
	tasks    [][]mesos.Resource
}

// scalarNames are the scalars sliced between the executor and the tasks.
var scalarNames = []string{"cpus", "mem", "disk", "gpus"}

// packResources slices matched into exactly sized shares, as Marathon's
// binPackResources: the executor's cpus, mem and disk first, then each
// container's cpus, mem, disk and gpus, in container order, each taken
// from the matched resources in their order (a share may span roles);
// shares of 0 are left out. Every port range and every other resource
// goes to the executor.
func packResources(p *marathon.Pod, matched []mesos.Resource) (packed, error) {
	left := map[string][]mesos.Resource{}
	var out packed
	for _, r := range matched {
		if r.Type == mesos.ValueScalar && r.Scalar != nil && isScalarName(r.Name) {
			left[r.Name] = append(left[r.Name], r)
			continue
		}
		out.executor = append(out.executor, r)
	}
	take := func(name string, amount float64) ([]mesos.Resource, error) {
		var got []mesos.Resource
		need := milli(amount)
		for need > 0 {
			rs := left[name]
			if len(rs) == 0 {
				return nil, fmt.Errorf("%w: pod %s: matched resources lack %s", ErrInvalid, p.ID, name)
			}
			r := rs[0]
			have := milli(r.Scalar.Value)
			use := min(have, need)
			part := r
			part.Scalar = &mesos.Scalar{Value: float64(use) / 1000}
			got = append(got, part)
			need -= use
			if use == have {
				left[name] = rs[1:]
			} else {
				rest := r
				rest.Scalar = &mesos.Scalar{Value: float64(have-use) / 1000}
				left[name][0] = rest
			}
		}
		return got, nil
	}
	share := func(amounts []float64) ([]mesos.Resource, error) {
		var res []mesos.Resource
		for i, a := range amounts {
			got, err := take(scalarNames[i], a)
			if err != nil {
				return nil, err
			}
			res = append(res, got...)
		}
		return res, nil
	}
	ex := p.ExecutorResources
	exRes, err := share([]float64{ex.Cpus, ex.Mem, ex.Disk})
	if err != nil {
		return packed{}, err
	}
	out.executor = append(exRes, out.executor...)
	for _, c := range p.Containers {
		r := c.Resources
		res, err := share([]float64{r.Cpus, r.Mem, r.Disk, float64(r.Gpus)})
		if err != nil {
			return packed{}, err
		}
		out.tasks = append(out.tasks, res)
	}
	return out, nil
}

func isScalarName(n string) bool {
	for _, s := range scalarNames {
		if s == n {
			return true
		}
	}
	return false
}

// milli rounds a scalar to Mesos's fixed point of three decimals.
func milli(v float64) int64 { return int64(math.Round(v * 1000)) }

// mustJSON encodes the plain wire structs of package mesos, which always
// encode.
func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("taskinfo: encode %T: %v", v, err))
	}
	return b
}
