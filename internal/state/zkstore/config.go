package zkstore

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	gozk "github.com/go-zookeeper/zk"

	"github.com/stadionhq/stadion/internal/state"
	"github.com/stadionhq/stadion/internal/zk"
)

// Defaults for the zero values of Config.
const (
	// DefaultSessionTimeout is Marathon's --zk_session_timeout.
	DefaultSessionTimeout = 10 * time.Second
	// DefaultOperationTimeout is Marathon's --zk_timeout.
	DefaultOperationTimeout = 10 * time.Second
	// DefaultMaxRequestBytes bounds one request (a multi): about 230
	// instance updates. ZooKeeper drops the connection of a request over
	// its jute.maxbuffer (1 MiB by default), and keeps its last 500
	// committed requests in memory (zookeeper.commitLogCount), so large
	// requests cost its heap: 768 KiB requests ran a 256 MB server out of
	// memory in tests, while 128 KiB requests write as fast.
	DefaultMaxRequestBytes = 128 << 10
)

// minRequestBytes is the smallest MaxRequestBytes: room for a chunk of
// half of it, its path and a multi's fixed parts.
const minRequestBytes = 1 << 10

// Config configures Open.
type Config struct {
	// Servers are the ZooKeeper servers, host:port, as zk.ParseURL returns
	// them. Unused when Conn is set.
	Servers []string
	// Root is the path of the zk:// URL, such as "/stadion". The store
	// keeps its nodes under Root/state and creates them when missing, so
	// that the leader election can use Root/leader beside it.
	Root string
	// SessionTimeout is the ZooKeeper session timeout; zero means
	// DefaultSessionTimeout. Unused when Conn is set.
	SessionTimeout time.Duration
	// OperationTimeout bounds every wait on ZooKeeper: a request that gets
	// no answer for this long fails, and a store method that lost its
	// connection retries for this long before it fails with ErrNoSession.
	// Zero means DefaultOperationTimeout.
	OperationTimeout time.Duration
	// MaxVersions is the number of app and group versions kept per id;
	// zero means state.DefaultMaxVersions. The current version is always
	// kept.
	MaxVersions int
	// Existing makes Open fail with ErrNoState when Root holds no state,
	// instead of creating it: `stadion state check` and `export` read
	// what is there and never create a root from a mistyped URL.
	Existing bool
	// MaxRequestBytes bounds the size of one request to ZooKeeper; zero
	// means DefaultMaxRequestBytes. A Change whose writes fit in one
	// request is one multi; a larger one goes through a write-ahead record
	// (doc.go). Records over half of it are stored in chunks. A request
	// of one write may exceed it by the length of the write's path: keep
	// it well below the servers' jute.maxbuffer.
	MaxRequestBytes int
	// Fence, when set, is the path of a node that must exist for a write
	// to be committed: the leader's election node, so that a leader that
	// lost its session cannot write after its successor started.
	Fence string
	// Conn, when set, is a connection to share (with the leader
	// election): the store uses it and leaves it open on Close.
	Conn *gozk.Conn
	// Logger receives lifecycle messages; nil discards them.
	Logger *slog.Logger
}

// Validate reports a configuration Open cannot use.
func (c Config) Validate() error {
	var errs []error
	if c.Conn == nil && len(c.Servers) == 0 {
		errs = append(errs, errors.New("zkstore: no ZooKeeper servers"))
	}
	if err := zk.ValidatePath(c.Root); err != nil {
		errs = append(errs, fmt.Errorf("zkstore: root: %w", err))
	}
	if c.SessionTimeout < 0 {
		errs = append(errs, fmt.Errorf("zkstore: session timeout %s is negative", c.SessionTimeout))
	}
	if c.OperationTimeout < 0 {
		errs = append(errs, fmt.Errorf("zkstore: operation timeout %s is negative", c.OperationTimeout))
	}
	if c.MaxVersions < 0 {
		errs = append(errs, fmt.Errorf("zkstore: max versions %d is negative", c.MaxVersions))
	}
	if c.MaxRequestBytes != 0 && c.MaxRequestBytes < minRequestBytes {
		errs = append(errs, fmt.Errorf("zkstore: max request bytes %d is below %d", c.MaxRequestBytes, minRequestBytes))
	}
	if c.Fence != "" {
		if err := zk.ValidatePath(c.Fence); err != nil {
			errs = append(errs, fmt.Errorf("zkstore: fence: %w", err))
		}
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero values.
func (c Config) withDefaults() Config {
	if c.SessionTimeout == 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.OperationTimeout == 0 {
		c.OperationTimeout = DefaultOperationTimeout
	}
	if c.MaxVersions == 0 {
		c.MaxVersions = state.DefaultMaxVersions
	}
	if c.MaxRequestBytes == 0 {
		c.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// chunkSize is the largest chunk for a request limit: half of it, at most
// maxChunkSize, so that a chunk always fits in a multi.
func chunkSize(maxRequest int) int {
	return min(maxChunkSize, maxRequest/2)
}
