package zk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path"
	"reflect"
	"sync"
	"time"

	"github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/mesos"
)

// MasterDetectorConfig configures a MasterDetector.
type MasterDetectorConfig struct {
	// Servers are the ZooKeeper servers, host:port, as ParseURL returns them.
	Servers []string
	// Path is the masters' group node, such as "/mesos".
	Path string
	// SessionTimeout is the ZooKeeper session timeout. Zero means 10s.
	SessionTimeout time.Duration
	// Logger receives the detector's logs. Nil discards them.
	Logger *slog.Logger
}

// Validate reports whether the configuration is usable.
func (c MasterDetectorConfig) Validate() error {
	return c.group().validate("master detector")
}

func (c MasterDetectorConfig) group() groupConfig {
	return groupConfig{Servers: c.Servers, Path: c.Path, SessionTimeout: c.SessionTimeout, Logger: c.Logger}
}

// MasterDetector follows the Mesos masters' group in ZooKeeper and knows the
// leading master: the one whose json.info_ node has the lowest sequence
// number. While ZooKeeper is unreachable it keeps the last leader it saw.
type MasterDetector struct {
	path    string
	log     *slog.Logger
	conn    *zk.Conn
	changes chan mesos.MasterInfo

	mu      sync.Mutex
	known   bool             // a first look at the group has completed
	node    string           // the leader's node; "" when there is none
	leader  mesos.MasterInfo // valid when node != ""
	changed chan struct{}    // closed and replaced on every change

	done      chan struct{} // closed by Close
	stopped   chan struct{} // closed when run returns
	closeOnce sync.Once
}

var _ mesos.Detector = (*MasterDetector)(nil)

// NewMasterDetector connects to ZooKeeper and starts watching the children
// of cfg.Path. It does not wait for the connection: LeaderInfo does.
func NewMasterDetector(cfg MasterDetectorConfig) (*MasterDetector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	conn, _, log, err := cfg.group().connect("zk_master_detector")
	if err != nil {
		return nil, err
	}
	d := &MasterDetector{
		path:    cfg.Path,
		log:     log,
		conn:    conn,
		changes: make(chan mesos.MasterInfo, 1),
		changed: make(chan struct{}),
		done:    make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go d.run()
	return d, nil
}

// LeaderInfo blocks until a leading master is known, or ctx ends, and
// returns its MasterInfo.
func (d *MasterDetector) LeaderInfo(ctx context.Context) (mesos.MasterInfo, error) {
	for {
		d.mu.Lock()
		node, info, changed := d.node, d.leader, d.changed
		d.mu.Unlock()
		if node != "" {
			return info, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return mesos.MasterInfo{}, fmt.Errorf("wait for a leading mesos master in %s: %w", d.path, ctx.Err())
		case <-d.done:
			return mesos.MasterInfo{}, ErrClosed
		}
	}
}

// Leader implements mesos.Detector: it returns "http://" followed by the
// leading master's host:port.
func (d *MasterDetector) Leader(ctx context.Context) (string, error) {
	info, err := d.LeaderInfo(ctx)
	if err != nil {
		return "", err
	}
	return "http://" + info.Endpoint(), nil
}

// Changes delivers each change of leader: its MasterInfo, or the zero
// MasterInfo when there is none. The first value is the leader found by the
// first look at the group. The channel holds one value and a newer one
// replaces an unread older one; it is closed by Close.
func (d *MasterDetector) Changes() <-chan mesos.MasterInfo {
	return d.changes
}

// Close stops watching and closes the ZooKeeper connection.
func (d *MasterDetector) Close() error {
	d.closeOnce.Do(func() {
		close(d.done)
		d.conn.Close() // fails a request in flight, so run returns
		<-d.stopped
		close(d.changes)
	})
	return nil
}

// run looks at the group each time its watch fires, until Close.
func (d *MasterDetector) run() {
	defer close(d.stopped)
	var retry backoff
	for {
		watch, err := d.look()
		if err != nil {
			if d.closing() {
				return
			}
			delay := retry.delay()
			d.log.Warn("watch mesos masters failed, retrying", "error", err, "retry_in", delay)
			select {
			case <-d.done:
				return
			case <-time.After(delay):
			}
			continue
		}
		retry.reset()
		select {
		case <-d.done:
			return
		case <-watch:
		}
	}
}

// look reads the group, publishes its leader and returns a watch that fires
// when the group changes.
func (d *MasterDetector) look() (<-chan zk.Event, error) {
	children, _, watch, err := d.conn.ChildrenW(d.path)
	if errors.Is(err, zk.ErrNoNode) {
		// No master has ever joined: wait for the group node.
		exists, _, watch, err := d.conn.ExistsW(d.path)
		if err != nil {
			return nil, fmt.Errorf("watch %s: %w", d.path, err)
		}
		if exists {
			return closedEvents(), nil
		}
		d.publish("", mesos.MasterInfo{})
		return watch, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.path, err)
	}
	node, ok := leaderNode(children, infoPrefix)
	if !ok {
		d.publish("", mesos.MasterInfo{})
		return watch, nil
	}
	data, _, err := d.conn.Get(path.Join(d.path, node))
	if errors.Is(err, zk.ErrNoNode) {
		return watch, nil // gone since the listing; the watch fires
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path.Join(d.path, node), err)
	}
	var info mesos.MasterInfo
	if err := json.Unmarshal(data, &info); err != nil {
		d.log.Warn("leading master's node holds no MasterInfo JSON", "node", node, "error", err)
		d.publish("", mesos.MasterInfo{})
		return watch, nil
	}
	d.publish(node, info)
	return watch, nil
}

// publish records the leader (node "" for none) and, when it differs from
// the last one, wakes LeaderInfo and sends it on Changes.
func (d *MasterDetector) publish(node string, info mesos.MasterInfo) {
	d.mu.Lock()
	if d.known && d.node == node && reflect.DeepEqual(d.leader, info) {
		d.mu.Unlock()
		return
	}
	d.known, d.node, d.leader = true, node, info
	close(d.changed)
	d.changed = make(chan struct{})
	d.mu.Unlock()

	if node == "" {
		d.log.Info("no leading mesos master")
	} else {
		d.log.Info("leading mesos master", "node", node, "master", info.Endpoint(), "master_id", info.ID)
	}
	sendLatest(d.changes, info)
}

func (d *MasterDetector) closing() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// sendLatest puts v in ch, a channel of capacity 1 with this goroutine as
// its only sender, replacing a value the reader has not taken yet.
func sendLatest[T any](ch chan T, v T) {
	select {
	case <-ch:
	default:
	}
	ch <- v
}
