package registrator

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := func() Config { return Config{Schedulers: []string{"http://m1:8080", "https://user:secret@m2:8443/"}} }
	tests := []struct {
		name    string
		change  func(*Config)
		wantErr string
	}{
		{name: "defaults", change: func(*Config) {}},
		{name: "every mode", change: func(c *Config) {
			c.Mode, c.Health, c.Address, c.Owner, c.TTL = ModeCatalog, HealthTTL, AddressIP, "team-a.prod", 5*time.Second
		}},
		{name: "no scheduler", change: func(c *Config) { c.Schedulers = nil }, wantErr: "no scheduler URL"},
		{name: "scheduler without scheme", change: func(c *Config) { c.Schedulers = []string{"m1:8080"} }, wantErr: "want http(s)://host:port"},
		{name: "password never echoed", change: func(c *Config) { c.Schedulers = []string{"ftp://u:hunter2@m1"} }, wantErr: "u:xxxxx@m1"},
		{name: "bad mode", change: func(c *Config) { c.Mode = "dns" }, wantErr: `mode "dns"`},
		{name: "bad health", change: func(c *Config) { c.Health = "http" }, wantErr: `health "http"`},
		{name: "bad address", change: func(c *Config) { c.Address = "dns" }, wantErr: `address "dns"`},
		{name: "bad owner", change: func(c *Config) { c.Owner = "a b" }, wantErr: `owner "a b"`},
		{name: "short ttl", change: func(c *Config) { c.TTL = 10 * time.Millisecond }, wantErr: "ttl"},
		{name: "negative duration", change: func(c *Config) { c.ResyncInterval = -time.Second }, wantErr: "negative"},
		{name: "retry bounds", change: func(c *Config) { c.RetryMin, c.RetryMax = time.Minute, time.Second }, wantErr: "retry min"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.change(&c)
			err := c.Validate()
			switch {
			case tc.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Errorf("Validate() = %v, want an error with %q", err, tc.wantErr)
			case err != nil && strings.Contains(err.Error(), "hunter2"):
				t.Errorf("Validate() = %v shows the password", err)
			}
		})
	}
}
