package zk

import "testing"

func TestValidatePath(t *testing.T) {
	tests := []struct {
		name string
		path string
		ok   bool
	}{
		{name: "one segment", path: "/stadion", ok: true},
		{name: "nested", path: "/prod/stadion", ok: true},
		{name: "empty", path: ""},
		{name: "relative", path: "stadion"},
		{name: "root", path: "/"},
		{name: "trailing slash", path: "/stadion/"},
		{name: "dot segment", path: "/stadion/../x"},
		{name: "query", path: "/stadion?x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := ValidatePath(tc.path); (err == nil) != tc.ok {
				t.Errorf("ValidatePath(%q) = %v, want ok %v", tc.path, err, tc.ok)
			}
		})
	}
}

func TestConnectNoServers(t *testing.T) {
	if _, _, err := Connect(nil, 0, nil); err == nil {
		t.Fatal("Connect with no servers succeeded")
	}
}
