package agent

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/stadionhq/stadion/internal/zk"
)

// zkSessionTimeout is the ZooKeeper session timeout of master detection.
const zkSessionTimeout = 10 * time.Second

// zkDetector adapts zk.MasterDetector, whose Close returns an error.
type zkDetector struct {
	*zk.MasterDetector
}

func (d zkDetector) Close() { _ = d.MasterDetector.Close() }

// newZKDetector follows the leading master in ZooKeeper.
func newZKDetector(url string, logger *slog.Logger) (detector, error) {
	servers, path, err := zk.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("master: %w", err)
	}
	d, err := zk.NewMasterDetector(zk.MasterDetectorConfig{
		Servers:        servers,
		Path:           path,
		SessionTimeout: zkSessionTimeout,
		Logger:         logger,
	})
	if err != nil {
		return nil, fmt.Errorf("detect master in zookeeper: %w", err)
	}
	return zkDetector{d}, nil
}
