package zkstore

import (
	"testing"
	"time"

	gozk "github.com/go-zookeeper/zk"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{name: "defaults", cfg: Config{Servers: []string{"h:2181"}, Root: "/stadion"}, ok: true},
		{name: "shared connection", cfg: Config{Conn: &gozk.Conn{}, Root: "/stadion"}, ok: true},
		{name: "nested root", cfg: Config{Servers: []string{"h:2181"}, Root: "/prod/stadion"}, ok: true},
		{name: "fence", cfg: Config{Servers: []string{"h:2181"}, Root: "/stadion", Fence: "/stadion/leader/member_0000000001"}, ok: true},
		{name: "no servers", cfg: Config{Root: "/stadion"}},
		{name: "no root", cfg: Config{Servers: []string{"h:2181"}}},
		{name: "relative root", cfg: Config{Servers: []string{"h:2181"}, Root: "stadion"}},
		{name: "root slash", cfg: Config{Servers: []string{"h:2181"}, Root: "/"}},
		{name: "negative session timeout", cfg: Config{Servers: []string{"h:2181"}, Root: "/s", SessionTimeout: -time.Second}},
		{name: "negative operation timeout", cfg: Config{Servers: []string{"h:2181"}, Root: "/s", OperationTimeout: -time.Second}},
		{name: "negative max versions", cfg: Config{Servers: []string{"h:2181"}, Root: "/s", MaxVersions: -1}},
		{name: "tiny requests", cfg: Config{Servers: []string{"h:2181"}, Root: "/s", MaxRequestBytes: 100}},
		{name: "relative fence", cfg: Config{Servers: []string{"h:2181"}, Root: "/s", Fence: "leader"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.cfg.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate() = %v, want ok %v", err, tc.ok)
			}
		})
	}
}
