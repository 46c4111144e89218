package server

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/marathon/marathontest"
)

// infoNull are the keys of Marathon's example that Stadion writes as null:
// settings it has no counterpart of, as Marathon writes an unset option.
var infoNull = map[string]bool{
	"marathon_config.default_network_name":              true,
	"marathon_config.env_vars_prefix":                   true,
	"marathon_config.launch_token":                      true,
	"marathon_config.launch_token_refresh_interval":     true,
	"marathon_config.mesos_bridge_name":                 true,
	"marathon_config.mesos_heartbeat_failure_threshold": true,
	"marathon_config.mesos_heartbeat_interval":          true,
	"marathon_config.min_revive_offers_interval":        true,
	"marathon_config.offer_matching_timeout":            true,
	"marathon_config.on_elected_prepare_timeout":        true,
	"marathon_config.scale_apps_initial_delay":          true,
	"marathon_config.scale_apps_interval":               true,
	"marathon_config.task_launch_confirm_timeout":       true,
	"marathon_config.task_reservation_timeout":          true,
	"zookeeper_config.zk_compression_threshold":         true,
}

// TestInfoConfig checks /v2/info's config objects against Marathon's
// example: every key, of the example's JSON type (null only for the
// settings in infoNull), the pre-1.5 keys go-marathon reads, and no
// credential of the ZooKeeper or master URLs.
func TestInfoConfig(t *testing.T) {
	cfg := Config{
		Master:                   "zk://mesos:master-secret@zk1:2181,zk2:2181/mesos",
		ZK:                       "zk://marathon:zk-secret@zk1:2181/stadion",
		Hostname:                 "node1",
		FrameworkName:            "marathon",
		Role:                     "*",
		MesosUser:                "nobody",
		FailoverTimeout:          time.Hour,
		TaskLaunchTimeout:        5 * time.Minute,
		ReconciliationInterval:   10 * time.Minute,
		DeclineOfferDuration:     2 * time.Minute,
		AccessControlAllowOrigin: []string{"*"},
		SecretsDir:               "/run/secrets",
		SecretFile:               "/etc/stadion/secret",
	}
	rt := infoRuntime{
		webUIURL:  "http://node1:8080",
		masterURL: func() string { return "http://admin:ui-secret@m1:5050" },
	}
	body, err := json.Marshal(info(cfg, true, "node1:8080", listeners{}, rt, &scheduler.View{}))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"master-secret", "zk-secret", "ui-secret", "/etc/stadion/secret"} {
		if strings.Contains(string(body), secret) {
			t.Errorf("/v2/info shows %q: %s", secret, body)
		}
	}
	var got, want map[string]any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(marathontest.Example(t, "info.json"), &want); err != nil {
		t.Fatal(err)
	}
	for _, obj := range []string{"marathon_config", "zookeeper_config", "http_config"} {
		g, _ := got[obj].(map[string]any)
		for key, w := range want[obj].(map[string]any) {
			v, ok := g[key]
			switch {
			case !ok:
				t.Errorf("%s.%s missing", obj, key)
			case v == nil && !infoNull[obj+"."+key]:
				t.Errorf("%s.%s is null, Marathon writes %v", obj, key, w)
			case v != nil && jsonKind(v) != jsonKind(w):
				t.Errorf("%s.%s = %v (%s), Marathon writes a %s", obj, key, v, jsonKind(v), jsonKind(w))
			}
		}
	}
	for _, key := range []string{"event_subscriber"} {
		if v, ok := got[key]; !ok || v != nil {
			t.Errorf("%s = %v, present %v; want null", key, v, ok)
		}
	}
	if v, ok := got["http_config"].(map[string]any)["assets_path"]; !ok || v != nil {
		t.Errorf("http_config.assets_path = %v, present %v; want null", v, ok)
	}
	mc := got["marathon_config"].(map[string]any)
	zc := got["zookeeper_config"].(map[string]any)
	for key, want := range map[string]any{
		"marathon_config.master":              "zk://zk1:2181,zk2:2181/mesos",
		"marathon_config.mesos_leader_ui_url": "http://m1:5050/",
		"marathon_config.webui_url":           "http://node1:8080",
		"marathon_config.ha":                  true,
		"marathon_config.checkpoint":          true,
		"marathon_config.local_port_min":      float64(10000),
		"marathon_config.local_port_max":      float64(20000),
		"marathon_config.mesos_user":          "nobody",
		"zookeeper_config.zk":                 "zk://zk1:2181/stadion",
		"zookeeper_config.zk_max_versions":    float64(50),
	} {
		obj, k, _ := strings.Cut(key, ".")
		m := mc
		if obj == "zookeeper_config" {
			m = zc
		}
		if m[k] != want {
			t.Errorf("%s = %#v, want %#v", key, m[k], want)
		}
	}
	if f, _ := json.Marshal(mc["features"]); string(f) != `["task_killing","secrets"]` {
		t.Errorf("features = %s", f)
	}
}

// jsonKind names the JSON type of a decoded value.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	default:
		return "object"
	}
}
