package zkstore

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTxnRoundTrip(t *testing.T) {
	tests := []struct {
		name  string
		nodes map[string][]byte
	}{
		{name: "empty", nodes: map[string][]byte{}},
		{name: "puts and deletes", nodes: map[string][]byte{
			"framework-id":          []byte("fw-1"),
			"apps/02/%2Fprod%2Fweb": []byte("2026-03-01T12:00:00.005Z"),
			"apps/02/%2Fprod%2Fweb/2026-03-01T12:00:00.005Z": []byte(`{"id":"/prod/web"}`),
			"apps/02/%2Fprod%2Fweb/2026-01-01T00:00:00.000Z": nil,
			"instances/28/prod_web.instance-1":               nil,
			"deployments/00/d1":                              []byte{},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payload, err := encodeTxn(tc.nodes)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeTxn(payload)
			if err != nil {
				t.Fatal(err)
			}
			// cmp tells nil (delete) from empty data.
			if diff := cmp.Diff(tc.nodes, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTxnDamaged(t *testing.T) {
	payload, err := encodeTxn(map[string][]byte{"instances/28/x": []byte(`{"id":"x"}`)})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		payload []byte
	}{
		{name: "not gzip", payload: []byte("hello")},
		{name: "truncated", payload: payload[:len(payload)-8]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := decodeTxn(tc.payload); !errors.Is(err, errTxn) {
				t.Errorf("decodeTxn = %v, want errTxn", err)
			}
		})
	}
}
