package events

import (
	"reflect"

	"github.com/stadionhq/stadion/internal/marathon"
)

// deref returns the value of an event published as a pointer.
func deref(e marathon.Event) marathon.Event {
	if v := reflect.ValueOf(e); v.Kind() == reflect.Pointer && !v.IsNil() {
		if ev, ok := v.Elem().Interface().(marathon.Event); ok {
			return ev
		}
	}
	return e
}

// appsOf lists the ids of the apps (and groups) an event is about: the
// subscribers who may view all of them get it (Message.Apps).
func appsOf(e marathon.Event) []marathon.PathID {
	switch v := deref(e).(type) {
	case marathon.StatusUpdateEvent:
		return []marathon.PathID{v.AppID}
	case marathon.HealthStatusChangedEvent:
		return []marathon.PathID{v.AppID}
	case marathon.InstanceHealthChangedEvent:
		return []marathon.PathID{v.RunSpecID}
	case marathon.FailedHealthCheckEvent:
		return []marathon.PathID{v.AppID}
	case marathon.HealthCheckEvent:
		return []marathon.PathID{v.AppID}
	case marathon.UnhealthyInstanceKillEvent:
		return []marathon.PathID{v.AppID}
	case marathon.DeploymentInfoEvent:
		return planApps(v.Plan)
	case marathon.DeploymentStatusEvent:
		return planApps(v.Plan)
	case marathon.APIPostEvent:
		return []marathon.PathID{v.AppDefinition.ID}
	case marathon.AppTerminatedEvent:
		return []marathon.PathID{v.AppID}
	case marathon.GroupChangeEvent:
		return []marathon.PathID{v.GroupID}
	case marathon.InstanceChangedEvent:
		return []marathon.PathID{v.RunSpecID}
	case marathon.UnknownInstanceTerminatedEvent:
		return []marathon.PathID{v.RunSpecID}
	}
	return nil
}

// planApps lists the apps of a plan's steps and of its original and
// target groups.
func planApps(p marathon.DeploymentPlan) []marathon.PathID {
	var ids []marathon.PathID
	for _, st := range p.Steps {
		for _, a := range st.Actions {
			ids = append(ids, a.App)
		}
	}
	for _, g := range []*marathon.Group{p.Original, p.Target} {
		if g != nil {
			for _, a := range g.AllApps() {
				ids = append(ids, a.ID)
			}
		}
	}
	return ids
}

// redactedEvent returns the event with the env values of the apps it
// carries redacted; false when it carries none.
func redactedEvent(e marathon.Event) (marathon.Event, bool) {
	switch v := deref(e).(type) {
	case marathon.APIPostEvent:
		if !marathon.HasEnvValues(&v.AppDefinition) {
			return nil, false
		}
		v.AppDefinition = marathon.RedactEnv(v.AppDefinition)
		return v, true
	case marathon.DeploymentInfoEvent:
		p, ok := redactedPlan(v.Plan)
		v.Plan = p
		return v, ok
	case marathon.DeploymentStatusEvent:
		p, ok := redactedPlan(v.Plan)
		v.Plan = p
		return v, ok
	}
	return nil, false
}

func redactedPlan(p marathon.DeploymentPlan) (marathon.DeploymentPlan, bool) {
	carries := false
	for _, g := range []*marathon.Group{p.Original, p.Target} {
		if g != nil {
			for _, a := range g.AllApps() {
				carries = carries || marathon.HasEnvValues(&a)
			}
		}
	}
	if !carries {
		return p, false
	}
	if p.Original != nil {
		g := marathon.RedactGroup(*p.Original)
		p.Original = &g
	}
	if p.Target != nil {
		g := marathon.RedactGroup(*p.Target)
		p.Target = &g
	}
	return p, true
}
