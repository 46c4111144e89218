package main

import (
	"slices"
	"testing"
	"time"
)

func TestParseMillisList(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []time.Duration
		wantErr bool
	}{
		{name: "two values", in: "10000,3000", want: []time.Duration{10 * time.Second, 3 * time.Second}},
		{name: "spaces and an empty field", in: " 500 ,,", want: []time.Duration{500 * time.Millisecond}},
		{name: "empty", in: "", wantErr: true},
		{name: "not a number", in: "10s", wantErr: true},
		{name: "zero", in: "0", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMillisList(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("parseMillisList(%q) error %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("parseMillisList(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseScale(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    scale
		wantErr bool
	}{
		{name: "100,000 on 500", in: "1000x100x500", want: scale{Apps: 1000, Instances: 100, Agents: 500}},
		{name: "two parts", in: "1000x100", wantErr: true},
		{name: "zero", in: "1000x0x500", wantErr: true},
		{name: "not a number", in: "1000xmanyx500", wantErr: true},
		{name: "too large", in: "1000x100x2000000", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseScale(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Errorf("parseScale(%q) = %+v, %v; want %+v, error %v", tc.in, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestConfigAt(t *testing.T) {
	c := config{Apps: 100, Instances: 100, Agents: 50, Timeout: 5 * time.Minute, Requests: 200, FailoverRuns: 3,
		SessionTimeouts: []time.Duration{10 * time.Second, 3 * time.Second}}
	lc := c.at(scale{Apps: 1000, Instances: 100, Agents: 500})
	if lc.Tasks() != 100000 || lc.Agents != 500 || lc.Timeout != 50*time.Minute || lc.Requests != 50 ||
		lc.FailoverRuns != 1 || len(lc.SessionTimeouts) != 1 || lc.SessionTimeouts[0] != 10*time.Second {
		t.Errorf("large config %+v", lc)
	}
}
