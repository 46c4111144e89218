package mesos_test

import (
	"context"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos"
)

func TestStaticDetector(t *testing.T) {
	tests := []struct {
		name    string
		master  string
		want    string
		wantErr bool
	}{
		{name: "host and port", master: "10.0.0.1:5050", want: "http://10.0.0.1:5050"},
		{name: "bare host gets default port", master: "m1.example", want: "http://m1.example:5050"},
		{name: "http url", master: "http://10.0.0.1:5050", want: "http://10.0.0.1:5050"},
		{name: "trailing slash dropped", master: "http://10.0.0.1:5050/", want: "http://10.0.0.1:5050"},
		{name: "https kept", master: "https://m1.example", want: "https://m1.example"},
		{name: "ipv6 with port", master: "[::1]:5050", want: "http://[::1]:5050"},
		{name: "bare ipv6", master: "[::1]", want: "http://[::1]:5050"},
		{name: "surrounding space", master: " 10.0.0.1:5050\n", want: "http://10.0.0.1:5050"},
		{name: "empty", master: "", wantErr: true},
		{name: "zookeeper url", master: "zk://10.0.0.1:2181/mesos", wantErr: true},
		{name: "other scheme", master: "ftp://10.0.0.1:5050", wantErr: true},
		{name: "path", master: "http://10.0.0.1:5050/master", wantErr: true},
		{name: "query", master: "http://10.0.0.1:5050?x=1", wantErr: true},
		{name: "credentials", master: "http://u:p@10.0.0.1:5050", wantErr: true},
		{name: "bad port", master: "10.0.0.1:http5", wantErr: true},
		{name: "no host", master: "http://:5050", wantErr: true},
		{name: "port out of range", master: "10.0.0.1:65536", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d, err := mesos.StaticDetector(tc.master)
			if tc.wantErr {
				if err == nil {
					leader, _ := d.Leader(context.Background())
					t.Fatalf("StaticDetector(%q) = %q, want an error", tc.master, leader)
				}
				return
			}
			if err != nil {
				t.Fatalf("StaticDetector(%q): %v", tc.master, err)
			}
			got, err := d.Leader(context.Background())
			if err != nil {
				t.Fatalf("Leader: %v", err)
			}
			if got != tc.want {
				t.Fatalf("StaticDetector(%q).Leader() = %q, want %q", tc.master, got, tc.want)
			}
		})
	}
}
