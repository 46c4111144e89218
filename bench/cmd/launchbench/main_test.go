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
