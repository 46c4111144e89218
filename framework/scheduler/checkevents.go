package scheduler

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Marathon's health check manager publishes add_health_check_event for
// each check of each app version it starts checking (the current version
// of every app, and the older versions instances still run) and
// remove_health_check_event for each check it stops (an app removed, an
// older version no instance runs any more). A new leader starts them all
// again, and so publishes them all again.

// healthCheckEvents publishes what changed in the checked app versions
// since the last View: called by publish, so that they go out with the
// View that shows the change.
func (s *Scheduler) healthCheckEvents(now time.Time) {
	st := s.st
	want := map[versionKey][]marathon.HealthCheck{}
	for id, app := range st.apps {
		if len(app.HealthChecks) > 0 {
			want[keyOf(id, app.Version)] = app.HealthChecks
		}
	}
	for k, v := range st.versions {
		cur, ok := st.apps[k.id]
		if !ok || !v.ok || len(v.app.HealthChecks) == 0 || cur.Version.UnixNano() == k.version || !st.runsVersion(k) {
			continue
		}
		want[k] = v.app.HealthChecks
	}
	var gone, added []versionKey
	for k := range st.checked {
		if _, ok := want[k]; !ok {
			gone = append(gone, k)
		}
	}
	for k := range want {
		if _, ok := st.checked[k]; !ok {
			added = append(added, k)
		}
	}
	byKey := func(a, b versionKey) int { return cmp.Or(cmp.Compare(a.id, b.id), cmp.Compare(a.version, b.version)) }
	slices.SortFunc(gone, byKey)
	slices.SortFunc(added, byKey)
	for _, k := range gone {
		for range st.checked[k] {
			s.cfg.Events.Publish(marathon.HealthCheckEvent{AppID: k.id, EventMeta: marathon.Meta(marathon.EventRemoveHealthCheck, now)})
		}
	}
	for _, k := range added {
		version := marathon.NewTimestamp(time.Unix(0, k.version))
		for _, hc := range want[k] {
			s.cfg.Events.Publish(marathon.HealthCheckEvent{
				AppID: k.id, Version: version, HealthCheck: &hc, EventMeta: marathon.Meta(marathon.EventAddHealthCheck, now),
			})
		}
	}
	if len(gone) > 0 || len(added) > 0 || st.checked == nil {
		st.checked = maps.Clone(want)
	}
}
