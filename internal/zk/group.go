package zk

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/go-zookeeper/zk"
)

// infoPrefix starts the names of the nodes Mesos masters (0.24 and later)
// create: MASTER_INFO_JSON_LABEL "json.info", "_", a 10-digit sequence.
const infoPrefix = "json.info_"

// defaultSessionTimeout is the ZooKeeper session timeout when a Config
// leaves it zero; Mesos's --zk_session_timeout defaults to the same.
const defaultSessionTimeout = 10 * time.Second

// ErrClosed is returned by calls on a closed MasterDetector.
var ErrClosed = errors.New("zk: closed")

// sequence returns the sequence number of a child named prefix+digits
// (json.info_ for Mesos masters), and false for any other child
// (log_replicas, nodes of old masters).
func sequence(child, prefix string) (uint64, bool) {
	digits, ok := strings.CutPrefix(child, prefix)
	if !ok || digits == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

// leaderNode returns the prefix child with the lowest sequence number, and
// false when there is none.
func leaderNode(children []string, prefix string) (string, bool) {
	var (
		best    string
		bestSeq uint64
		found   bool
	)
	for _, c := range children {
		seq, ok := sequence(c, prefix)
		if !ok {
			continue
		}
		if !found || seq < bestSeq {
			best, bestSeq, found = c, seq, true
		}
	}
	return best, found
}

// groupConfig holds the fields MasterDetectorConfig and
// MasterContenderConfig share, with their checks and defaults.
type groupConfig struct {
	Servers        []string
	Path           string
	SessionTimeout time.Duration
	Logger         *slog.Logger
}

// validate checks the fields; what names the config in the error.
func (g groupConfig) validate(what string) error {
	if err := g.check(); err != nil {
		return fmt.Errorf("invalid %s config: %w", what, err)
	}
	return nil
}

func (g groupConfig) check() error {
	if len(g.Servers) == 0 {
		return errors.New("no ZooKeeper servers")
	}
	if !strings.HasPrefix(g.Path, "/") {
		return fmt.Errorf("path %q is not absolute", g.Path)
	}
	if err := validPath(g.Path); err != nil {
		return err
	}
	if g.SessionTimeout < 0 {
		return fmt.Errorf("negative session timeout %v", g.SessionTimeout)
	}
	return nil
}

// timeout returns SessionTimeout, defaultSessionTimeout when zero.
func (g groupConfig) timeout() time.Duration {
	if g.SessionTimeout == 0 {
		return defaultSessionTimeout
	}
	return g.SessionTimeout
}

// connect opens a ZooKeeper connection, which connects in the background
// and reconnects by itself, and returns it with component's logger.
func (g groupConfig) connect(component string) (*zk.Conn, <-chan zk.Event, *slog.Logger, error) {
	log := orDiscard(g.Logger).With("component", component, "path", g.Path)
	conn, events, err := zk.Connect(g.Servers, g.timeout(), zk.WithLogger(clientLogger{log}))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("connect to zookeeper %v: %w", g.Servers, err)
	}
	return conn, events, log, nil
}

// orDiscard returns l, or a logger that drops everything when l is nil.
func orDiscard(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// clientLogger sends the ZooKeeper client's own messages to slog at Debug.
type clientLogger struct{ log *slog.Logger }

func (l clientLogger) Printf(format string, args ...any) {
	l.log.Debug("zookeeper client", "detail", fmt.Sprintf(format, args...))
}

// backoff doubles a retry delay from 100ms up to 5s.
type backoff struct{ next time.Duration }

func (b *backoff) delay() time.Duration {
	if b.next == 0 {
		b.next = 100 * time.Millisecond
	}
	d := b.next
	b.next = min(2*b.next, 5*time.Second)
	return d
}

func (b *backoff) reset() { b.next = 0 }

// closedEvents is a watch that has fired already: the caller looks again at
// once.
func closedEvents() <-chan zk.Event {
	ch := make(chan zk.Event)
	close(ch)
	return ch
}
