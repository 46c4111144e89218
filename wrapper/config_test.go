package wrapper

import (
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	valid := func() Config {
		return Config{Scheduler: "127.0.0.1:8080", Prefix: "app", Command: []string{"true"}}
	}
	tests := []struct {
		name   string
		modify func(*Config)
		errs   []string // substrings of the error; none means valid
	}{
		{name: "valid", modify: func(c *Config) {}},
		{name: "local mode needs no scheduler", modify: func(c *Config) { c.RestartMode, c.Scheduler = RestartLocal, "" }},
		{name: "no prefix", modify: func(c *Config) { c.Prefix = "/" }, errs: []string{"no KV prefix"}},
		{name: "no command", modify: func(c *Config) { c.Command = nil }, errs: []string{"no command"}},
		{name: "no scheduler", modify: func(c *Config) { c.Scheduler = "" }, errs: []string{"no scheduler address"}},
		{name: "bad scheduler", modify: func(c *Config) { c.Scheduler = "ftp://x" }, errs: []string{"scheduler address"}},
		{name: "bad mode", modify: func(c *Config) { c.RestartMode = "sometimes" }, errs: []string{"restart mode"}},
		{name: "negative", modify: func(c *Config) { c.KillTimeout = -time.Second }, errs: []string{"negative duration"}},
		{name: "wait max below min", modify: func(c *Config) { c.WaitMin, c.WaitMax = 2*time.Second, time.Second }, errs: []string{"wait max"}},
		{name: "lock key under prefix", modify: func(c *Config) { c.LockKey = "app/lock" }, errs: []string{"lies under the watched prefix"}},
		{name: "default lock key under prefix", modify: func(c *Config) { c.Prefix = "stadion" }, errs: []string{"lies under the watched prefix"}},
		{name: "errors are joined", modify: func(c *Config) { c.Prefix, c.Command = "", nil }, errs: []string{"no KV prefix", "no command"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.modify(&c)
			err := c.Validate()
			if len(tc.errs) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tc.errs)
			}
			for _, s := range tc.errs {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("Validate() = %v, want it to say %q", err, s)
				}
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c := Config{Prefix: "/team/app/", Scheduler: "x:1", Command: []string{"true"}}.withDefaults()
	if c.Prefix != "team/app" || c.App != "/team/app" || c.LockKey != "stadion/wrap/team/app/restart" {
		t.Errorf("prefix %q, app %q, lock key %q", c.Prefix, c.App, c.LockKey)
	}
	if c.RestartMode != RestartScheduler || c.KillTimeout != DefaultKillTimeout {
		t.Errorf("mode %q, kill timeout %v", c.RestartMode, c.KillTimeout)
	}
	c = Config{Prefix: "cfg", App: "svc", WaitMin: time.Second}.withDefaults()
	if c.App != "/svc" || c.WaitMax != time.Second {
		t.Errorf("app %q, wait max %v", c.App, c.WaitMax)
	}
}
