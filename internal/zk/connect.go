package zk

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/go-zookeeper/zk"
)

// Connect opens a ZooKeeper session for other packages (the ZooKeeper state
// store) with the conventions of MasterDetector and MasterContender: a zero
// sessionTimeout means 10s, and the client's own messages go to log at Debug
// (nil discards them). The connection is made in the background and made
// again after a loss; requests wait for it.
func Connect(servers []string, sessionTimeout time.Duration, log *slog.Logger) (*zk.Conn, <-chan zk.Event, error) {
	if sessionTimeout == 0 {
		sessionTimeout = defaultSessionTimeout
	}
	conn, events, err := zk.Connect(servers, sessionTimeout, zk.WithLogger(clientLogger{orDiscard(log)}))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to zookeeper %v: %w", servers, err)
	}
	return conn, events, nil
}

// ValidatePath checks a node path as ParseURL does: absolute, not the
// root, no empty, "." or ".." segments, no query or fragment.
func ValidatePath(p string) error {
	if len(p) == 0 || p[0] != '/' {
		return fmt.Errorf("path %q is not absolute", p)
	}
	return validPath(p)
}
