package marathon

import (
	"strings"
	"testing"
)

func TestParseSecretSource(t *testing.T) {
	tests := []struct {
		name    string
		source  string
		want    SecretSource
		wantErr bool
	}{
		{name: "consul key", source: "consul:app/db/password", want: SecretSource{Kind: SecretConsul, Ref: "app/db/password"}},
		{name: "consul leading slash", source: "consul:/app/pw", want: SecretSource{Kind: SecretConsul, Ref: "app/pw"}},
		{name: "consul empty", source: "consul:", wantErr: true},
		{name: "consul folder", source: "consul:app/", wantErr: true},
		{name: "file", source: "file:db/password", want: SecretSource{Kind: SecretFile, Ref: "db/password"}},
		{name: "file cleaned", source: "file:db/./password", want: SecretSource{Kind: SecretFile, Ref: "db/password"}},
		{name: "file parent", source: "file:../x", wantErr: true},
		{name: "file inner parent escaping", source: "file:a/../../x", wantErr: true},
		{name: "file absolute", source: "file:/etc/shadow", wantErr: true},
		{name: "file empty", source: "file:", wantErr: true},
		{name: "no kind", source: "/db/password", wantErr: true},
		{name: "unknown kind", source: "vault:secret/x", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSecretSource(tc.source)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseSecretSource(%q) error = %v, want error %v", tc.source, err, tc.wantErr)
			}
			if err == nil && got != tc.want {
				t.Errorf("ParseSecretSource(%q) = %+v, want %+v", tc.source, got, tc.want)
			}
		})
	}
}

func TestAdmitFileSecrets(t *testing.T) {
	const app = `{"id":"/a","cmd":"x","env":{"P":{"secret":"pw"}},"secrets":{"pw":{"source":"file:db/pw"}}}`
	const group = `{"id":"/g","apps":[` + `{"id":"/g/a","cmd":"x","env":{"P":{"secret":"pw"}},"secrets":{"pw":{"source":"file:db/pw"}}}` + `]}`
	tests := []struct {
		name    string
		opts    NormalizeOptions
		wantErr bool
	}{
		{name: "with a secrets dir", opts: NormalizeOptions{}},
		{name: "without", opts: NormalizeOptions{NoFileSecrets: true}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseApp([]byte(app), tc.opts)
			if (err != nil) != tc.wantErr {
				t.Errorf("app: %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "/secrets/pw/source: "+msgNoFileSecrets) {
				t.Errorf("app: %v", err)
			}
			g, err := DecodeGroup([]byte(group))
			if err != nil {
				t.Fatal(err)
			}
			_, err = AdmitGroup(g, tc.opts)
			if (err != nil) != tc.wantErr {
				t.Errorf("group: %v, want error %v", err, tc.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), "/apps(0)/secrets/pw/source") {
				t.Errorf("group: %v", err)
			}
		})
	}
}
