package events

import (
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func terminated(id string) marathon.AppTerminatedEvent {
	return marathon.AppTerminatedEvent{AppID: marathon.PathID(id), EventMeta: marathon.Meta(marathon.EventAppTerminated, now)}
}

func newBus(t *testing.T, max int) *Bus {
	t.Helper()
	return NewBus(Config{MaxOutstanding: max})
}

func TestPublishFilters(t *testing.T) {
	b := newBus(t, 8)
	all := b.Subscribe(nil)
	only := b.Subscribe([]string{"status_update_event"})
	b.Publish(terminated("/a"))
	b.Publish(&marathon.StatusUpdateEvent{TaskID: "t", TaskStatus: marathon.TaskRunning, EventMeta: marathon.Meta(marathon.EventStatusUpdate, now)})
	if m := <-all.C(); m.Type != marathon.EventAppTerminated ||
		string(m.Full) != "event: app_terminated_event\ndata: {\"appId\":\"/a\",\"eventType\":\"app_terminated_event\",\"timestamp\":\"2024-05-01T12:00:00.000Z\"}\n\n" {
		t.Errorf("all got %s %q", m.Type, m.Full)
	}
	if m := <-all.C(); m.Type != marathon.EventStatusUpdate {
		t.Errorf("all got %s", m.Type)
	}
	if m := <-only.C(); m.Type != marathon.EventStatusUpdate {
		t.Errorf("filtered got %s", m.Type)
	}
	select {
	case m := <-only.C():
		t.Errorf("filtered got extra %s", m.Type)
	default:
	}
}

func TestLightPlans(t *testing.T) {
	plan := marathon.DeploymentPlan{ID: "d", Original: &marathon.Group{ID: "/"}, Target: &marathon.Group{ID: "/"}}
	tests := []struct {
		name string
		ev   marathon.Event
	}{
		{name: "info", ev: marathon.DeploymentInfoEvent{Plan: plan, EventMeta: marathon.Meta(marathon.EventDeploymentInfo, now)}},
		{name: "info pointer", ev: &marathon.DeploymentInfoEvent{Plan: plan, EventMeta: marathon.Meta(marathon.EventDeploymentStepSuccess, now)}},
		{name: "success", ev: marathon.DeploymentStatusEvent{ID: "d", Plan: plan, EventMeta: marathon.Meta(marathon.EventDeploymentSuccess, now)}},
		{name: "failed pointer", ev: &marathon.DeploymentStatusEvent{ID: "d", Plan: plan, EventMeta: marathon.Meta(marathon.EventDeploymentFailed, now)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Encode(tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(m.Frame(false, false)), `"original"`) || !strings.Contains(string(m.Full), `"target"`) {
				t.Errorf("full frame lacks the groups: %s", m.Full)
			}
			if strings.Contains(string(m.Frame(true, false)), `"original"`) || strings.Contains(string(m.Light), `"target"`) ||
				!strings.Contains(string(m.Light), `"id":"d"`) {
				t.Errorf("light frame %s", m.Light)
			}
		})
	}
	// The caller's plan is not modified.
	if plan.Original == nil {
		t.Error("plan modified")
	}
	m, err := Encode(terminated("/a"))
	if err != nil || &m.Full[0] != &m.Light[0] {
		t.Errorf("events without plans share one frame: %v", err)
	}
	if _, err := Encode(nil); err == nil {
		t.Error("nil event encoded")
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	b := newBus(t, 2)
	slow := b.Subscribe(nil)
	fast := b.Subscribe(nil)
	for i := range 3 {
		b.Publish(terminated("/a"))
		<-fast.C()
		_ = i
	}
	if !slow.Dropped() || fast.Dropped() || b.Subscribers() != 1 {
		t.Fatalf("dropped slow=%v fast=%v subscribers=%d", slow.Dropped(), fast.Dropped(), b.Subscribers())
	}
	// The backlog is released with the drop.
	n := 0
	for range slow.C() {
		n++
	}
	if n != 0 {
		t.Errorf("slow drained %d buffered events after the drop, want 0", n)
	}
	select {
	case <-slow.Gone():
	default:
		t.Error("Gone not closed after the drop")
	}
	slow.Close()
	fast.Close()
	fast.Close()
	if b.Subscribers() != 0 {
		t.Errorf("%d subscribers after Close", b.Subscribers())
	}
	b.Publish(terminated("/b")) // no subscribers: no panic
}

func TestConcurrentPublish(t *testing.T) {
	b := newBus(t, 0)
	sub := b.Subscribe(nil)
	done := make(chan struct{})
	for range 4 {
		go func() {
			for range 100 {
				b.Publish(terminated("/a"))
			}
			done <- struct{}{}
		}()
	}
	for range 4 {
		<-done
	}
	sub.Close()
	n := 0
	for range sub.C() {
		n++
	}
	if n != 400 {
		t.Errorf("got %d events, want 400", n)
	}
	if b := NewBus(Config{MaxOutstanding: -1}); b.max != DefaultMaxOutstanding {
		t.Errorf("negative MaxOutstanding gave %d", b.max)
	}
}

func TestBacklogInBytes(t *testing.T) {
	m, err := Encode(terminated("/a"))
	if err != nil {
		t.Fatal(err)
	}
	frame := m.Size()
	bigEvent := terminated("/" + strings.Repeat("x", int(4*frame)))
	big, err := Encode(bigEvent)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		// publish runs against a bus whose backlog bound is 3 frames of
		// terminated("/a"); it returns whether sub was dropped.
		publish     func(b *Bus, sub *Subscription) bool
		wantDropped bool
	}{
		{
			name: "a subscriber that does not read is dropped past the bound",
			publish: func(b *Bus, sub *Subscription) bool {
				for range 4 {
					b.Publish(terminated("/a"))
					if got := b.OutstandingBytes(); got > 3*frame {
						t.Errorf("bus holds %d bytes, over the bound %d", got, 3*frame)
					}
				}
				return sub.Dropped()
			},
			wantDropped: true,
		},
		{
			name: "a subscriber that writes what it takes keeps up",
			publish: func(b *Bus, sub *Subscription) bool {
				for range 100 {
					b.Publish(terminated("/a"))
					sub.Done(<-sub.C())
				}
				return sub.Dropped()
			},
		},
		{
			name: "an event over the bound reaches a subscriber with nothing outstanding",
			publish: func(b *Bus, sub *Subscription) bool {
				b.Publish(bigEvent)
				if got := sub.Outstanding(); got != big.Size() {
					t.Errorf("outstanding %d, want %d", got, big.Size())
				}
				sub.Done(<-sub.C())
				return sub.Dropped()
			},
		},
		{
			name: "an event over the bound drops a subscriber with a backlog",
			publish: func(b *Bus, sub *Subscription) bool {
				b.Publish(terminated("/a"))
				b.Publish(bigEvent)
				return sub.Dropped()
			},
			wantDropped: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := NewBus(Config{MaxOutstandingBytes: 3 * frame})
			sub := b.Subscribe(nil)
			if got := tc.publish(b, sub); got != tc.wantDropped {
				t.Fatalf("dropped %v, want %v", got, tc.wantDropped)
			}
			if tc.wantDropped {
				if b.Subscribers() != 0 || b.OutstandingBytes() != 0 {
					t.Errorf("after the drop: %d subscribers, %d bytes held", b.Subscribers(), b.OutstandingBytes())
				}
				return
			}
			if got := b.OutstandingBytes(); got != 0 {
				t.Errorf("%d bytes outstanding after every event was written", got)
			}
		})
	}
}
