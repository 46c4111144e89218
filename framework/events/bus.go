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

// DefaultMaxOutstandingBytes is the per-subscriber backlog in bytes when
// Config leaves it unset. Deployment events carry their plan's original
// and target groups, megabytes each with large apps: without a bound in
// bytes, one client that stops reading pinned hundreds of MB within a few
// dozen events (issue 14).
const DefaultMaxOutstandingBytes = 64 << 20

// Config configures a Bus. The zero value is usable.
type Config struct {
	// MaxOutstanding is the number of events a subscriber may have
	// waiting; one more and the subscriber is dropped. 0 (or less) means
	// DefaultMaxOutstanding.
	MaxOutstanding int
	// MaxOutstandingBytes bounds the bytes of the events a subscriber has
	// waiting or being written (Message.Size); an event that would take
	// it over the bound drops the subscriber, unless nothing else is
	// outstanding: an event larger than the bound still reaches a
	// subscriber that keeps up. 0 (or less) means
	// DefaultMaxOutstandingBytes.
	MaxOutstandingBytes int64
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
	// Apps are the ids of the apps (and groups) the event is about, for
	// authorization; none for events about no app.
	Apps []marathon.PathID
	// Redacted is the frame with the env values of the apps it carries
	// redacted (marathon.RedactEnv), for subscribers who may not see them;
	// nil when the event carries no env value. It replaces both Full and
	// Light: events that carry apps have no light form.
	Redacted []byte
}

// Size is the memory the message holds: both frames, or one when they
// are the same.
func (m *Message) Size() int64 {
	if len(m.Light) > 0 && len(m.Full) > 0 && &m.Light[0] == &m.Full[0] && len(m.Light) == len(m.Full) {
		return int64(len(m.Full) + len(m.Redacted))
	}
	return int64(len(m.Full) + len(m.Light) + len(m.Redacted))
}

// Frame returns the encoding a subscriber asked for; redact asks for the
// env values redacted.
func (m *Message) Frame(light, redact bool) []byte {
	switch {
	case redact && m.Redacted != nil:
		return m.Redacted
	case light:
		return m.Light
	}
	return m.Full
}

// Bus fans events out to subscribers. It is safe for concurrent use.
//
// Delivery never blocks the publisher: each subscriber has a backlog of at
// most MaxOutstanding events and MaxOutstandingBytes bytes (counted from
// Publish until the consumer reports the event written with Done), and a
// subscriber whose backlog is full when an event arrives is dropped: it is
// removed from the bus, its backlog is released and its channel is closed
// (Subscription.Dropped and Gone report it), so that the SSE handler ends
// the response and the client reconnects and resynchronises. Marathon's
// docs say the same of its buffer of --event_stream_max_outstanding_messages
// (the connection is dropped), and tell consumers to treat the stream as
// cache invalidation; the bound in bytes is Stadion's.
type Bus struct {
	max      int
	maxBytes int64
	logger   *slog.Logger

	mu    sync.Mutex
	subs  map[*Subscription]struct{}
	bytes int64 // outstanding bytes of every subscriber
}

// NewBus returns a Bus.
func NewBus(cfg Config) *Bus {
	max := cfg.MaxOutstanding
	if max <= 0 {
		max = DefaultMaxOutstanding
	}
	maxBytes := cfg.MaxOutstandingBytes
	if maxBytes <= 0 {
		maxBytes = DefaultMaxOutstandingBytes
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Bus{max: max, maxBytes: maxBytes, logger: logger.With("component", "events"), subs: map[*Subscription]struct{}{}}
}

// Subscription is one subscriber's view of the bus.
type Subscription struct {
	bus   *Bus
	types map[marathon.EventType]bool // nil: every type
	keep  func(*Message) bool         // nil: every event
	ch    chan *Message
	gone  chan struct{} // closed with ch

	// Guarded by bus.mu.
	closed  bool
	dropped bool
	bytes   int64 // outstanding: queued in ch or being written
}

// C delivers the events; it is closed when the subscriber is dropped or
// Close is called.
func (s *Subscription) C() <-chan *Message { return s.ch }

// Gone is closed when the subscriber is dropped or closed; a consumer
// blocked in a write can watch it to give up at once.
func (s *Subscription) Gone() <-chan struct{} { return s.gone }

// Done reports that the consumer has written m (or given up on it): its
// bytes stop counting against the subscriber's backlog.
func (s *Subscription) Done(m *Message) {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	if s.closed {
		return
	}
	n := min(m.Size(), s.bytes)
	s.bytes -= n
	s.bus.bytes -= n
}

// Outstanding returns the bytes of the subscriber's backlog.
func (s *Subscription) Outstanding() int64 {
	s.bus.mu.Lock()
	defer s.bus.mu.Unlock()
	return s.bytes
}

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

// wants reports whether the subscriber filters m in.
func (s *Subscription) wants(m *Message) bool {
	return (s.types == nil || s.types[m.Type]) && (s.keep == nil || s.keep(m))
}

// Subscribe registers a subscriber for the given event types; none means
// every type (Marathon's event_type query parameter).
func (b *Bus) Subscribe(types []string) *Subscription {
	return b.SubscribeFunc(types, nil)
}

// SubscribeFunc is Subscribe that also leaves out the events keep rejects
// (authorization: the apps a subscriber may not view). keep runs in
// Publish, under the bus's lock: it must be quick and must not call the
// bus.
func (b *Bus) SubscribeFunc(types []string, keep func(*Message) bool) *Subscription {
	s := &Subscription{bus: b, keep: keep, ch: make(chan *Message, b.max), gone: make(chan struct{})}
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

// OutstandingBytes returns the bytes of every subscriber's backlog
// together: the memory that subscribers pin (an event shared by several
// counts once per subscriber).
func (b *Bus) OutstandingBytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.bytes
}

// Publish encodes e (value or pointer) once in both plan formats and queues it for every subscriber of its type. It never blocks
// on subscribers. A value that cannot be encoded is logged and dropped.
func (b *Bus) Publish(e marathon.Event) {
	m, err := Encode(e)
	if err != nil {
		b.logger.Error("drop unencodable event", "event_type", fmt.Sprintf("%T", e), "err", err)
		return
	}
	size := m.Size()
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if !s.wants(m) {
			continue
		}
		if s.bytes > 0 && s.bytes+size > b.maxBytes {
			b.dropLocked(s, "drop slow event subscriber: backlog in bytes full")
			continue
		}
		select {
		case s.ch <- m:
			s.bytes += size
			b.bytes += size
		default:
			b.dropLocked(s, "drop slow event subscriber: backlog in events full")
		}
	}
}

func (b *Bus) dropLocked(s *Subscription, msg string) {
	b.logger.Warn(msg, "max_outstanding", b.max, "max_outstanding_bytes", b.maxBytes,
		"outstanding_events", len(s.ch), "outstanding_bytes", s.bytes)
	s.dropped = true
	b.removeLocked(s)
	// Release the backlog now rather than when the consumer has gone:
	// the stream ends anyway.
	for range s.ch {
	}
}

func (b *Bus) removeLocked(s *Subscription) {
	if s.closed {
		return
	}
	s.closed = true
	b.bytes -= s.bytes
	s.bytes = 0
	delete(b.subs, s)
	close(s.ch)
	close(s.gone)
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
	m := &Message{Type: ev.Type(), Full: full, Light: full, Apps: appsOf(ev)}
	if light, ok := lightEvent(ev); ok {
		if m.Light, err = marathon.EncodeSSE(light); err != nil {
			return nil, fmt.Errorf("encode light %s: %w", ev.Type(), err)
		}
	}
	if red, ok := redactedEvent(ev); ok {
		if m.Redacted, err = marathon.EncodeSSE(red); err != nil {
			return nil, fmt.Errorf("encode redacted %s: %w", ev.Type(), err)
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
