package marathon

import "testing"

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
