package master

import (
	"fmt"

	"github.com/stadionhq/stadion/internal/zk"
)

// startContender joins the masters' group in ZooKeeper; the master serves
// only while the contender reports it elected.
func (m *Master) startContender() error {
	servers, path, err := zk.ParseURL(m.cfg.ZK)
	if err != nil {
		return fmt.Errorf("parse zk url: %w", err)
	}
	c, err := zk.NewMasterContender(zk.MasterContenderConfig{
		Servers:        servers,
		Path:           path,
		SessionTimeout: m.cfg.ZKSessionTimeout,
		Info:           m.info,
		Logger:         m.cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("join zookeeper group: %w", err)
	}
	m.spawn(func() {
		defer c.Close()
		for {
			select {
			case <-m.ctx.Done():
				return
			case l, ok := <-c.Changes():
				if !ok {
					return
				}
				m.onLeadership(l)
			}
		}
	})
	return nil
}

func (m *Master) onLeadership(l zk.Leadership) {
	switch {
	case l.Elected:
		m.setLeadership(true, &m.info)
	case l.Leader.ID != "" || l.Leader.Port != 0:
		leader := l.Leader
		m.setLeadership(false, &leader)
	default:
		m.setLeadership(false, nil)
	}
}
