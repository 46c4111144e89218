package state

import (
	"fmt"
	"slices"

	"github.com/stadionhq/stadion/internal/marathon"
)

// AppVersionLookup reports whether a version of an app is stored.
type AppVersionLookup func(id marathon.PathID, version marathon.Timestamp) (bool, error)

// CheckReferences lists the references of snap that do not hold, one
// readable line each, sorted:
//
//   - an instance whose app is unknown, unless it is decommissioned (the
//     instances of a deleted app stay until their tasks are gone);
//   - a running deployment whose target names an unknown app (queued ones
//     name apps they have yet to create; removed apps are gone by design);
//   - a current group version naming an app version that is not stored.
//
// hasVersion is asked only for versions that are not an app's current
// one. Records set aside are not checked: they are listed on their own.
func CheckReferences(snap Snapshot, hasVersion AppVersionLookup) ([]string, error) {
	apps := make(map[marathon.PathID]marathon.Timestamp, len(snap.Apps))
	for _, a := range snap.Apps {
		apps[a.ID] = a.Version
	}
	var out []string
	for _, in := range snap.Instances {
		if _, ok := apps[in.AppID]; !ok && in.Goal != GoalDecommissioned {
			out = append(out, fmt.Sprintf("instance %s: app %s is unknown", in.ID, in.AppID))
		}
	}
	for _, d := range snap.Deployments {
		if d.Queued() {
			continue
		}
		for id := range d.Target {
			if _, ok := apps[id]; !ok {
				out = append(out, fmt.Sprintf("deployment %s: target app %s is unknown", d.ID, id))
			}
		}
	}
	for _, g := range snap.Groups {
		for id, v := range g.Apps {
			current, known := apps[id]
			if known && current.Equal(v.Time) {
				continue
			}
			ok, err := hasVersion(id, v)
			if err != nil {
				return nil, fmt.Errorf("group %s: look up app %s version %s: %w", g.ID, id, v, err)
			}
			if !ok {
				out = append(out, fmt.Sprintf("group %s version %s: app %s version %s is not stored", g.ID, g.Version, id, v))
			}
		}
	}
	slices.Sort(out)
	return out, nil
}
