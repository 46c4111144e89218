package local

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/mesos"
)

func TestAgentPorts(t *testing.T) {
	cases := []struct {
		name    string
		text    string
		i, n    int
		want    []mesos.Range
		wantErr bool
	}{
		{name: "one agent keeps everything", text: "cpus:1;ports:[31000-31100]", i: 0, n: 1},
		{name: "first half", text: "cpus:1;ports:[31000-31099]", i: 0, n: 2, want: []mesos.Range{{Begin: 31000, End: 31049}}},
		{name: "second half", text: "cpus:1;ports:[31000-31099]", i: 1, n: 2, want: []mesos.Range{{Begin: 31050, End: 31099}}},
		{name: "share across ranges", text: "ports:[100-104,200-204]", i: 1, n: 2, want: []mesos.Range{{Begin: 200, End: 204}}},
		{name: "share spanning two ranges", text: "ports:[100-104,200-204]", i: 1, n: 3, want: []mesos.Range{{Begin: 103, End: 104}, {Begin: 200, End: 200}}},
		{name: "default range", text: "cpus:1", i: 1, n: 2, want: []mesos.Range{{Begin: 31500, End: 31999}}},
		{name: "too few ports", text: "ports:[1-1]", i: 0, n: 2, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := agentPorts(tc.text, tc.i, tc.n)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("agentPorts = %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.n == 1 {
				if got != tc.text {
					t.Fatalf("agentPorts = %q, want the text unchanged", got)
				}
				return
			}
			res, err := mesos.ParseResources(got)
			if err != nil {
				t.Fatalf("parse %q: %v", got, err)
			}
			var ports []mesos.Range
			for _, r := range res {
				if r.Name == "ports" {
					ports = r.Ranges.Range
				}
			}
			if diff := cmp.Diff(tc.want, ports); diff != "" {
				t.Errorf("ports (-want +got):\n%s", diff)
			}
		})
	}
}
