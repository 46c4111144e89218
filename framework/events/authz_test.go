package events

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestEncodeAppsAndRedacted(t *testing.T) {
	secretApp := marathon.App{ID: "/team-b/db", Env: map[string]marathon.EnvVar{"DB_PASSWORD": {Value: "hunter2"}, "T": {Secret: "s0"}}}
	plainApp := marathon.App{ID: "/team-a/web"}
	t0 := time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)
	meta := func(t marathon.EventType) marathon.EventMeta { return marathon.Meta(t, t0) }
	tests := []struct {
		name     string
		event    marathon.Event
		apps     []marathon.PathID
		redacted bool
	}{
		{name: "status update", event: marathon.StatusUpdateEvent{AppID: "/a", EventMeta: meta(marathon.EventStatusUpdate)}, apps: []marathon.PathID{"/a"}},
		{name: "pointer event", event: &marathon.AppTerminatedEvent{AppID: "/b", EventMeta: meta(marathon.EventAppTerminated)}, apps: []marathon.PathID{"/b"}},
		{name: "instance changed", event: marathon.InstanceChangedEvent{RunSpecID: "/c", EventMeta: meta(marathon.EventInstanceChanged)}, apps: []marathon.PathID{"/c"}},
		{name: "no app", event: marathon.SchedulerEvent{EventMeta: meta(marathon.EventSchedulerRegistered)}},
		{name: "api post with env", event: marathon.APIPostEvent{AppDefinition: secretApp, EventMeta: meta(marathon.EventAPIPost)},
			apps: []marathon.PathID{"/team-b/db"}, redacted: true},
		{name: "api post without env", event: marathon.APIPostEvent{AppDefinition: plainApp, EventMeta: meta(marathon.EventAPIPost)},
			apps: []marathon.PathID{"/team-a/web"}},
		{name: "plan with steps only", event: marathon.DeploymentInfoEvent{EventMeta: meta(marathon.EventDeploymentInfo), Plan: marathon.DeploymentPlan{ID: "d",
			Steps: []marathon.Step{{Actions: []marathon.Action{{Action: marathon.ScaleApplication, App: "/a"}, {Action: marathon.StartApplication, App: "/b"}}}}}},
			apps: []marathon.PathID{"/a", "/b"}},
		{name: "plan with a target group", event: &marathon.DeploymentStatusEvent{EventMeta: meta(marathon.EventDeploymentSuccess), Plan: marathon.DeploymentPlan{ID: "d",
			Target: &marathon.Group{ID: "/", Groups: []marathon.Group{{ID: "/team-b", Apps: []marathon.App{secretApp}}}}}},
			apps: []marathon.PathID{"/team-b/db"}, redacted: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Encode(tc.event)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.apps, m.Apps); d != "" {
				t.Errorf("Apps (-want +got):\n%s", d)
			}
			if got := m.Redacted != nil; got != tc.redacted {
				t.Fatalf("redacted frame present = %v, want %v", got, tc.redacted)
			}
			if !tc.redacted {
				if string(m.Frame(false, true)) != string(m.Full) {
					t.Errorf("Frame(redact) of an event without env values should be the full frame")
				}
				return
			}
			red := string(m.Frame(true, true))
			if strings.Contains(red, "hunter2") || !strings.Contains(red, `"DB_PASSWORD":"*****"`) || !strings.Contains(red, `"T":{"secret":"s0"}`) {
				t.Errorf("redacted frame %s", red)
			}
			if !strings.Contains(string(m.Full), "hunter2") {
				t.Errorf("the full frame lost the value: %s", m.Full)
			}
			if m.Size() < int64(len(m.Full)+len(m.Redacted)) {
				t.Errorf("Size %d does not count the redacted frame", m.Size())
			}
		})
	}
}

func TestSubscribeFuncLeavesOutRejected(t *testing.T) {
	b := NewBus(Config{MaxOutstanding: 1})
	sub := b.SubscribeFunc(nil, func(m *Message) bool { return len(m.Apps) == 0 || m.Apps[0] != "/team-b/db" })
	t0 := time.Date(2024, 5, 1, 11, 0, 0, 0, time.UTC)
	// More rejected events than the backlog holds: none counts, the
	// subscriber stays.
	for range 3 {
		b.Publish(marathon.StatusUpdateEvent{AppID: "/team-b/db", EventMeta: marathon.Meta(marathon.EventStatusUpdate, t0)})
	}
	if sub.Dropped() || sub.Outstanding() != 0 {
		t.Fatalf("rejected events counted: dropped %v, outstanding %d", sub.Dropped(), sub.Outstanding())
	}
	b.Publish(marathon.StatusUpdateEvent{AppID: "/team-a/web", EventMeta: marathon.Meta(marathon.EventStatusUpdate, t0)})
	m := <-sub.C()
	if len(m.Apps) != 1 || m.Apps[0] != "/team-a/web" {
		t.Errorf("delivered %v, want the /team-a/web event", m.Apps)
	}
}
