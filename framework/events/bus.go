package events

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/stadionhq/stadion/internal/marathon"
)

// DefaultMaxOutstanding is the per-subscriber buffer when Config leaves it
// unset, as Marathon's --event_stream_max_outstanding_messages.
const DefaultMaxOutstanding = 1024

// Config configures a Bus. The zero value is usable.
type Config struct {
	// MaxOutstanding is the number of events a subscriber may have
	// waiting; one more and the subscriber is dropped. 0 (or less) means
	// DefaultMaxOutstanding.
	MaxOutstanding int
	// Logger receives drops at Warn and encoding failures at Error; nil
	// discards.
	Logger *slog.Logger
}

// Message is one published event, encoded once for every subscriber.
type Message struct {
	// Type is the event's eventType, also its SSE event name.
	Type marathon.EventType
	// Full is the SSE frame ("event: ...\ndata: {...}\n\n").
	Full []byte
	// Light is the frame for plan-format=light subscribers: deployment
	// events without the plan's original and target groups. It is Full
	// for events that carry no plan.
	Light []byte
}

// Frame returns the encoding a subscriber asked for.
func (m *Message) Frame(light bool) []byte {
	if light {
		return m.Light
	}
	return m.Full
}

// Bus fans events out to subscribers. It is safe for concurrent use.
//
// Delivery never blocks the publisher: each subscriber has a buffer of
// MaxOutstanding events, and a subscriber whose buffer is full when an event
// arrives is dropped: it is removed from the bus and its channel is closed
// (Subscription.Dropped reports it), so that the SSE handler ends the
// response and the client reconnects and resynchronises. Marathon instead
// keeps the connection and silently discards the events that do not fit;
// a closed stream is the louder and safer signal, since Marathon's own docs
// tell consumers to treat the stream as cache invalidation.
type Bus struct {
	max    int
	logger *slog.Logger

	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// NewBus returns a Bus.
func NewBus(cfg Config) *Bus {
	max := cfg.MaxOutstanding
	if max <= 0 {
		max = DefaultMaxOutstanding
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Bus{max: max, logger: logger.With("component", "events"), subs: map[*Subscription]struct{}{}}
}

// Subscription is one subscriber's view of the bus.
type Subscription struct {
	bus   *Bus
	types map[marathon.EventType]bool // nil: every type
	ch    chan *Message

	// closed and dropped are guarded by bus.mu.
	closed  bool
	dropped bool
}

// C delivers the events; it is closed when the subscriber is dropped or
// Close is called.
func (s *Subscription) C() <-chan *Message { return s.ch }

// Dropped reports whether the bus dropped the subscriber for falling
// behind.
func (s *Subscription) Dropped() bool {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.dropped
}

// Close unsubscribes; it may be called more than once.
func (s *Subscription) Close() {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	s.bus.removeLocked(s)
}

// wants reports whether the subscriber filters t in.
func (s *Subscription) wants(t marathon.EventType) bool {
	return s.types == nil || s.types[t]
}

// Subscribe registers a subscriber for the given event types; none means
// every type (Marathon's event_type query parameter).
func (b *Bus) Subscribe(types []string) *Subscription {
	s := &Subscription{bus: b, ch: make(chan *Message, b.max)}
	if len(types) > 0 {
		s.types = make(map[marathon.EventType]bool, len(types))
		for _, t := range types {
			s.types[marathon.EventType(t)] = true
		}
	}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Subscribers returns the number of current subscribers.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// Publish encodes e (value or pointer) once in both plan formats and queues it for every subscriber of its type. It never blocks
// on subscribers. A value that cannot be encoded is logged and dropped.
func (b *Bus) Publish(e marathon.Event) {
	m, err := Encode(e)
	if err != nil {
		b.logger.Error("drop unencodable event", "event_type", fmt.Sprintf("%T", e), "err", err)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if !s.wants(m.Type) {
			continue
		}
		select {
		case s.ch <- m:
		default:
			s.dropped = true
			b.removeLocked(s)
			b.logger.Warn("drop slow event subscriber", "max_outstanding", b.max)
		}
	}
}

func (b *Bus) removeLocked(s *Subscription) {
	if s.closed {
		return
	}
	s.closed = true
	delete(b.subs, s)
	close(s.ch)
}

// Encode renders e as a Message: its SSE frame and, for deployment events,
// the light frame whose plan has no original and target.
func Encode(ev marathon.Event) (*Message, error) {
	if ev == nil {
		return nil, errors.New("events: nil event")
	}
	full, err := marathon.EncodeSSE(ev)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", ev.Type(), err)
	}
	m := &Message{Type: ev.Type(), Full: full, Light: full}
	if light, ok := lightEvent(ev); ok {
		if m.Light, err = marathon.EncodeSSE(light); err != nil {
			return nil, fmt.Errorf("encode light %s: %w", ev.Type(), err)
		}
	}
	return m, nil
}

// lightEvent returns the plan-format=light form of deployment events.
func lightEvent(e marathon.Event) (marathon.Event, bool) {
	switch v := e.(type) {
	case marathon.DeploymentInfoEvent:
		v.Plan = v.Plan.Light()
		return v, true
	case *marathon.DeploymentInfoEvent:
		c := *v
		c.Plan = c.Plan.Light()
		return c, true
	case marathon.DeploymentStatusEvent:
		v.Plan = v.Plan.Light()
		return v, true
	case *marathon.DeploymentStatusEvent:
		c := *v
		c.Plan = c.Plan.Light()
		return c, true
	}
	return nil, false
}
