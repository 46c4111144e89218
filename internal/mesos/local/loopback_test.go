package local

import "testing"

func TestAgentIP(t *testing.T) {
	cases := []struct {
		name    string
		i       int
		want    string
		wantErr bool
	}{
		{name: "first agent", i: 0, want: "127.0.0.2"},
		{name: "second agent", i: 1, want: "127.0.0.3"},
		{name: "last of the first block", i: 253, want: "127.0.0.255"},
		{name: "into the next block", i: 254, want: "127.0.1.0"},
		{name: "last usable", i: 1<<24 - 4, want: "127.255.255.254"},
		{name: "broadcast refused", i: 1<<24 - 3, wantErr: true},
		{name: "negative", i: -1, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := agentIP(tc.i)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("agentIP(%d) = %q, %v; want %q, error %v", tc.i, got, err, tc.want, tc.wantErr)
			}
		})
	}
}
