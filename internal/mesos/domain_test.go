package mesos

import "testing"

func TestParseDomain(t *testing.T) {
	tests := []struct {
		name       string
		text       string
		wantRegion string
		wantErr    bool
	}{
		{name: "none", text: ""},
		{name: "fault domain", text: `{"fault_domain":{"region":{"name":"eu"},"zone":{"name":"eu-1"}}}`, wantRegion: "eu"},
		{name: "no fault domain", text: `{}`, wantErr: true},
		{name: "no zone", text: `{"fault_domain":{"region":{"name":"eu"}}}`, wantErr: true},
		{name: "unknown field", text: `{"fault_domain":{"region":{"name":"eu"},"zone":{"name":"z"}},"x":1}`, wantErr: true},
		{name: "not json", text: `eu`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := ParseDomain(tc.text)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseDomain: %v, want error %v", err, tc.wantErr)
			}
			if got := DomainRegion(raw); got != tc.wantRegion {
				t.Errorf("region %q, want %q", got, tc.wantRegion)
			}
		})
	}
}
