package zk

import "testing"

func TestLeaderNode(t *testing.T) {
	tests := []struct {
		name     string
		children []string
		leader   string
		found    bool
	}{
		{name: "empty", children: nil},
		{name: "only log replicas", children: []string{"log_replicas"}},
		{
			name:     "lowest wins, non-contiguous",
			children: []string{"json.info_0000000012", "log_replicas", "json.info_0000000002", "json.info_0000000007"},
			leader:   "json.info_0000000002", found: true,
		},
		{
			name:     "numeric, not lexical",
			children: []string{"json.info_10000000000", "json.info_9999999999"},
			leader:   "json.info_9999999999", found: true,
		},
		{
			name:     "old and foreign nodes ignored",
			children: []string{"info_0000000001", "0000000000", "json.info_", "json.info_x1", "json.info_0000000005"},
			leader:   "json.info_0000000005", found: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			leader, found := leaderNode(tc.children, infoPrefix)
			if leader != tc.leader || found != tc.found {
				t.Fatalf("leaderNode(%q) = %q, %v; want %q, %v", tc.children, leader, found, tc.leader, tc.found)
			}
		})
	}
}
