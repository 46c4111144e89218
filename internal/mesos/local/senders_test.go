package local

import "testing"

func TestStatusSenders(t *testing.T) {
	tests := []struct {
		name   string
		agents int
		want   int
	}{
		{name: "one agent", agents: 1, want: 8},
		{name: "100 agents", agents: 100, want: 8},
		{name: "200 agents", agents: 200, want: 4},
		{name: "500 agents", agents: 500, want: 2},
		{name: "5000 agents", agents: 5000, want: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := statusSenders(tc.agents); got != tc.want {
				t.Errorf("statusSenders(%d) = %d, want %d", tc.agents, got, tc.want)
			}
		})
	}
}
