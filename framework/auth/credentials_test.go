package auth

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCredentials(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []Credential
		wantErr string
	}{
		{
			name: "json, as Mesos's --credentials",
			in:   `{"credentials": [{"principal": "ci", "secret": "s3cret"}, {"principal": "viewer", "secret": "v"}]}`,
			want: []Credential{{Principal: "ci", Secret: "s3cret"}, {Principal: "viewer", Secret: "v"}},
		},
		{
			name: "text, one pair a line",
			in:   "# team\nci s3cret\n\nviewer v\n",
			want: []Credential{{Principal: "ci", Secret: "s3cret"}, {Principal: "viewer", Secret: "v"}},
		},
		{name: "empty", in: "", wantErr: "no credentials"},
		{name: "text line without secret", in: "ci\n", wantErr: "line 1"},
		{name: "duplicate principal", in: "ci a\nci b\n", wantErr: "listed twice"},
		{name: "colon in principal", in: "c:i a\n", wantErr: "may not contain ':'"},
		{name: "unknown json field", in: `{"credentials": [{"principal": "ci", "password": "hunter2"}]}`, wantErr: "not a Mesos credentials object"},
		{name: "broken json", in: `{"credentials": [{"principal": "ci", "secret": "hunter2"`, wantErr: "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCredentials([]byte(tc.in))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error shows the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("credentials (-want +got):\n%s", d)
			}
		})
	}
}
