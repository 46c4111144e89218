package zk

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/mesos"
)

// MasterContenderConfig configures a MasterContender.
type MasterContenderConfig struct {
	// Servers are the ZooKeeper servers, host:port, as ParseURL returns them.
	Servers []string
	// Path is the masters' group node, such as "/mesos". It is created,
	// with its parents, when missing.
	Path string
	// SessionTimeout is the ZooKeeper session timeout. Zero means 10s.
	// A contender cut off from ZooKeeper for this long stops claiming
	// leadership.
	SessionTimeout time.Duration
	// Info is what this master publishes in its node, as Mesos masters do.
	Info mesos.MasterInfo
	// Logger receives the contender's logs. Nil discards them.
	Logger *slog.Logger
}

// Validate reports whether the configuration is usable.
func (c MasterContenderConfig) Validate() error {
	return c.group().validate("master contender")
}

func (c MasterContenderConfig) group() groupConfig {
	return groupConfig{Servers: c.Servers, Path: c.Path, SessionTimeout: c.SessionTimeout, Logger: c.Logger}
}

// Election is a contender's view of its group: whether it leads, and the
// info the leader published in its node (its own when Elected; the zero
// value when no leader is known).
type Election[T any] struct {
	Elected bool
	Leader  T
}

// Leadership is a Mesos master contender's view of the masters' group.
type Leadership = Election[mesos.MasterInfo]

// MasterContender joins the Mesos masters' group in ZooKeeper with an
// ephemeral sequential json.info_ node and reports whether it leads. When
// its session expires its node is gone: it creates a new one and so goes to
// the back of the line.
type MasterContender struct {
	*contender[mesos.MasterInfo]
}

// contender is a member of a leader election group: an ephemeral
// sequential node prefix+NNNNNNNNNN under path holding info as JSON; the
// member with the lowest sequence number leads.
type contender[T any] struct {
	path     string
	prefix   string
	what     string // names the group in logs
	data     []byte // info as JSON, the node's data
	info     T
	timeout  time.Duration
	log      *slog.Logger
	conn     *zk.Conn
	events   <-chan zk.Event
	changes  chan Election[T]
	abdicate chan chan error
	// own is the path of this contender's node, "" when it has none; run
	// writes it, Node reads it.
	own atomic.Pointer[string]

	// Owned by run.
	node      string // this contender's child of path; "" when it has none
	published Election[T]
	known     bool             // something was published
	pending   bool             // look at the group once the session is up
	watch     <-chan zk.Event  // fires when the group changes
	again     <-chan time.Time // retry after a failure, or poll for the session
	lost      *time.Timer      // presumes the session lost after a disconnect
	lostC     <-chan time.Time // lost.C while lost is set
	cutOff    bool             // lost fired; cleared by a new session

	done      chan struct{} // closed by Close
	stopped   chan struct{} // closed when run returns
	closeErr  error         // set by run before stopped is closed
	closeOnce sync.Once
}

// NewMasterContender connects to ZooKeeper and joins the group at cfg.Path:
// it creates the path when missing, then an ephemeral sequential node
// Path+"/json.info_" holding cfg.Info as compact JSON. Both happen in the
// background once connected; Changes reports the outcome.
func NewMasterContender(cfg MasterContenderConfig) (*MasterContender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c, err := newContender(cfg.group(), infoPrefix, "mesos masters group", "zk_master_contender", cfg.Info)
	if err != nil {
		return nil, err
	}
	return &MasterContender{c}, nil
}

// newContender connects and starts the contender's loop.
func newContender[T any](g groupConfig, prefix, what, component string, info T) (*contender[T], error) {
	data, err := json.Marshal(info)
	if err != nil {
		return nil, fmt.Errorf("encode %s info: %w", what, err)
	}
	conn, events, log, err := g.connect(component)
	if err != nil {
		return nil, err
	}
	c := &contender[T]{
		path:     g.Path,
		prefix:   prefix,
		what:     what,
		data:     data,
		info:     info,
		timeout:  g.timeout(),
		log:      log,
		conn:     conn,
		events:   events,
		changes:  make(chan Election[T], 1),
		abdicate: make(chan chan error),
		done:     make(chan struct{}),
		stopped:  make(chan struct{}),
		pending:  true,
	}
	go c.run()
	return c, nil
}

// Changes delivers the contender's Leadership each time it changes, the
// first as soon as it is known. The channel holds one value and a newer one
// replaces an unread older one; it is closed by Close.
func (c *contender[T]) Changes() <-chan Election[T] {
	return c.changes
}

// Close leaves the group: it deletes the contender's node and closes the
// connection, which ends the session.
func (c *contender[T]) Close() error {
	c.closeOnce.Do(func() {
		close(c.done)
		select {
		case <-c.stopped:
		case <-time.After(c.timeout):
			// run is stuck on an unreachable ZooKeeper; closing the
			// connection fails its request.
		}
		c.conn.Close()
		<-c.stopped
		close(c.changes)
	})
	return c.closeErr
}

// run is the contender's loop: it looks at the group when connected and
// whenever the group changes, and tracks the session.
func (c *contender[T]) run() {
	defer close(c.stopped)
	defer c.leave()
	var retry backoff
	for {
		if c.pending && c.again == nil {
			c.look(&retry)
		}
		select {
		case <-c.done:
			return
		case <-c.watch:
			c.watch, c.pending = nil, true
		case <-c.again:
			c.again = nil
		case ev := <-c.events:
			c.onSession(ev)
		case <-c.lostC:
			c.onLost()
		case reply := <-c.abdicate:
			reply <- c.onAbdicate()
		}
	}
}

// look runs contend when the session is up, and arranges a retry when it
// fails.
func (c *contender[T]) look(retry *backoff) {
	if c.conn.State() != zk.StateHasSession {
		// A request now would wait for the session. The session event
		// wakes the loop; the poll covers a dropped event.
		c.again = time.After(500 * time.Millisecond)
		return
	}
	w, err := c.contend()
	if err != nil {
		if c.closing() {
			return
		}
		delay := retry.delay()
		c.log.Warn("contend for mesos leadership failed, retrying", "error", err, "retry_in", delay)
		c.again = time.After(delay)
		return
	}
	retry.reset()
	c.pending, c.watch = false, w
}

// onSession follows the session: after a disconnect a timer presumes the
// session lost; on reconnect the group is read again; on expiry the node is
// gone.
func (c *contender[T]) onSession(ev zk.Event) {
	if ev.Type != zk.EventSession {
		return // such as the EventNotWatching copies of invalidated watches
	}
	switch ev.State {
	case zk.StateDisconnected:
		// Every failed reconnect reports this again: time the first.
		if c.lost == nil && !c.cutOff {
			c.lost = time.NewTimer(c.timeout)
			c.lostC = c.lost.C
		}
	case zk.StateHasSession:
		if c.lost != nil {
			c.lost.Stop()
			c.lost, c.lostC = nil, nil
		}
		c.cutOff = false
		c.pending, c.again = true, nil
	case zk.StateExpired:
		c.log.Warn("zookeeper session expired, rejoining the group", "node", c.node)
		c.node = ""
		c.own.Store(nil)
		c.publish(Election[T]{})
	}
}

// onLost gives up leadership after being cut off for the session timeout:
// by then ZooKeeper has most likely expired the session and another master
// leads.
func (c *contender[T]) onLost() {
	c.lost, c.lostC, c.cutOff = nil, nil, true
	c.log.Warn("cut off from zookeeper for the session timeout, no longer claiming leadership", "session_timeout", c.timeout)
	c.publish(Election[T]{})
}

// contend makes sure this contender has a node in the group, publishes who
// leads and returns a watch that fires when the group changes.
func (c *contender[T]) contend() (<-chan zk.Event, error) {
	children, _, watch, err := c.conn.ChildrenW(c.path)
	if errors.Is(err, zk.ErrNoNode) {
		if err := c.createPath(); err != nil {
			return nil, err
		}
		return closedEvents(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", c.path, err)
	}
	if c.node == "" || !slices.Contains(children, c.node) {
		if c.node != "" {
			c.log.Warn("own node is gone, rejoining the group", "node", c.node)
		}
		node, err := c.join(children)
		if err != nil {
			return nil, err
		}
		c.node = node
		return closedEvents(), nil // look again, with our node in the listing
	}
	leader, _ := leaderNode(children, c.prefix)
	if leader == c.node {
		c.publish(Election[T]{Elected: true, Leader: c.info})
		return watch, nil
	}
	data, _, err := c.conn.Get(path.Join(c.path, leader))
	if errors.Is(err, zk.ErrNoNode) {
		return watch, nil // gone since the listing; the watch fires
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path.Join(c.path, leader), err)
	}
	var info T
	if err := json.Unmarshal(data, &info); err != nil {
		c.log.Warn("leader's node holds no valid info", "group", c.what, "node", leader, "error", err)
		var zero T
		info = zero
	}
	c.publish(Election[T]{Leader: info})
	return watch, nil
}

// join returns this session's node in the group, creating it unless an
// earlier create whose answer was lost made one already.
func (c *contender[T]) join(children []string) (string, error) {
	session := c.conn.SessionID()
	for _, child := range children {
		if _, ok := sequence(child, c.prefix); !ok {
			continue
		}
		_, stat, err := c.conn.Exists(path.Join(c.path, child))
		if err != nil {
			return "", fmt.Errorf("stat %s: %w", path.Join(c.path, child), err)
		}
		if stat != nil && stat.EphemeralOwner == session {
			own := path.Join(c.path, child)
			c.own.Store(&own)
			return child, nil
		}
	}
	created, err := c.conn.Create(path.Join(c.path, c.prefix), c.data, zk.FlagEphemeralSequential, zk.WorldACL(zk.PermAll))
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path.Join(c.path, c.prefix), err)
	}
	node := path.Base(created)
	c.log.Info("joined the group", "group", c.what, "node", node)
	own := path.Join(c.path, node)
	c.own.Store(&own)
	return node, nil
}

// createPath creates the group node and its parents, as persistent nodes.
func (c *contender[T]) createPath() error {
	p := ""
	for _, seg := range strings.Split(c.path[1:], "/") {
		p += "/" + seg
		_, err := c.conn.Create(p, nil, zk.FlagPersistent, zk.WorldACL(zk.PermAll))
		if err != nil && !errors.Is(err, zk.ErrNodeExists) {
			return fmt.Errorf("create %s: %w", p, err)
		}
	}
	return nil
}

// leave deletes this contender's node, if it has one and is connected.
func (c *contender[T]) leave() {
	if c.node == "" || c.conn.State() != zk.StateHasSession {
		return
	}
	p := path.Join(c.path, c.node)
	if err := c.conn.Delete(p, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		c.closeErr = fmt.Errorf("delete %s: %w", p, err)
		return
	}
	c.node = ""
	c.own.Store(nil)
}

// publish sends l on Changes when it differs from the last value sent.
func (c *contender[T]) publish(l Election[T]) {
	if c.known && reflect.DeepEqual(c.published, l) {
		return
	}
	c.known, c.published = true, l
	var zero T
	switch {
	case l.Elected:
		c.log.Info("elected leader", "group", c.what, "node", c.node)
	case !reflect.DeepEqual(l.Leader, zero):
		c.log.Info("following the leader", "group", c.what, "node", c.node, "leader", l.Leader)
	default:
		c.log.Info("no leader known", "group", c.what, "node", c.node)
	}
	sendLatest(c.changes, l)
}

// Node returns the path of the contender's node in the group, "" while it
// has none. A leader passes it as a fence to the writes only a leader may
// make: they fail once the node is gone.
func (c *contender[T]) Node() string {
	if p := c.own.Load(); p != nil {
		return *p
	}
	return ""
}

// Abdicate gives up leadership, if held: the contender deletes its node
// and joins again at the back of the line (alone in the group, it leads
// again at once).
func (c *contender[T]) Abdicate() error {
	reply := make(chan error, 1)
	select {
	case c.abdicate <- reply:
		return <-reply
	case <-c.done:
		return ErrClosed
	}
}

// onAbdicate deletes the contender's node; the group watch brings the
// loop back to contend, which joins again.
func (c *contender[T]) onAbdicate() error {
	if c.node == "" {
		return nil
	}
	p := path.Join(c.path, c.node)
	if err := c.conn.Delete(p, -1); err != nil && !errors.Is(err, zk.ErrNoNode) {
		return fmt.Errorf("delete %s: %w", p, err)
	}
	c.log.Info("abdicated", "group", c.what, "node", c.node)
	c.node = ""
	c.own.Store(nil)
	c.publish(Election[T]{})
	c.pending = true
	return nil
}

func (c *contender[T]) closing() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}
