package registrator

import (
	"errors"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stadionhq/stadion/internal/marathon"
)

// view is what the table tests compare of a Service.
type view struct {
	ID      string
	Name    string
	Tags    []string
	Address string
	Port    int
	Node    string
	// Checks are "kind target interval/timeout|ttl status".
	Checks []string
}

func viewOf(ss []Service) []view {
	var out []view
	for _, s := range ss {
		v := view{ID: s.ID, Name: s.Name, Tags: s.Tags, Address: s.Address, Port: s.Port, Node: s.Node}
		for _, c := range s.Checks {
			v.Checks = append(v.Checks, checkView(c))
		}
		out = append(out, v)
	}
	return out
}

func checkView(c Check) string {
	switch c.Kind {
	case CheckHTTP:
		tls := ""
		if c.TLSSkipVerify {
			tls = " insecure"
		}
		return fmt.Sprintf("http %s%s %v/%v %s", c.HTTP, tls, c.Interval, c.Timeout, c.Status)
	case CheckTCP:
		return fmt.Sprintf("tcp %s %v/%v %s", c.TCP, c.Interval, c.Timeout, c.Status)
	}
	return fmt.Sprintf("status ttl=%v %s (%s)", c.TTL, c.Status, c.Output)
}

func TestCompute(t *testing.T) {
	httpHealth := checks(healthCheck(marathon.ProtocolHTTP, 0, "/healthcheck"))
	tests := []struct {
		name string
		snap Snapshot
		opts Options
		want []view
		// skipped are the "app_id task_id" of the skipped tasks.
		skipped []string
	}{
		{
			name: "one port: the last segment of the app id, owner tag",
			snap: snapshot(app(id("/prod/web"), portDefs(10000), tasks(task("prod_web.1", "h1", 31000)))),
			opts: agentOpts(),
			want: []view{{ID: "prod_web.1:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31000}},
		},
		{
			name: "several ports: one service each, named -<port>",
			snap: snapshot(app(id("/web"), portDefs(10000, 10001), tasks(task("web.1", "h1", 31000, 31001)))),
			opts: agentOpts(),
			want: []view{
				{ID: "web.1:10000", Name: "web-10000", Tags: []string{"stadion"}, Address: "h1", Port: 31000},
				{ID: "web.1:10001", Name: "web-10001", Tags: []string{"stadion"}, Address: "h1", Port: 31001},
			},
		},
		{
			name: "the article's app: bridge mappings name by container port, SERVICE_TAGS from env",
			snap: snapshot(app(id("/app/production/test-server"), bridge(3000, 3010),
				env("SERVICE_TAGS", "production, internal-listen-http-3000", "SERVICE_3010_TAGS", "production,internal-listen-http-3010"),
				tasks(task("app_production_test-server.1", "h1", 31005, 31006)))),
			opts: agentOpts(),
			want: []view{
				{ID: "app_production_test-server.1:3000", Name: "test-server-3000", Tags: []string{"production", "internal-listen-http-3000", "stadion"}, Address: "h1", Port: 31005},
				{ID: "app_production_test-server.1:3010", Name: "test-server-3010", Tags: []string{"production", "internal-listen-http-3010", "stadion"}, Address: "h1", Port: 31006},
			},
		},
		{
			name: "SERVICE_NAME names every port, SERVICE_<port>_NAME one; labels win over env",
			snap: snapshot(app(id("/web"), portDefs(10000, 10001),
				env("SERVICE_NAME", "from-env", "SERVICE_TAGS", "a"),
				labels("SERVICE_NAME", "front", "SERVICE_10001_name", "admin", "SERVICE_10001_TAGS", "b, b ,,c"),
				tasks(task("web.1", "h1", 31000, 31001)))),
			opts: agentOpts(),
			want: []view{
				{ID: "web.1:10000", Name: "front", Tags: []string{"a", "stadion"}, Address: "h1", Port: 31000},
				{ID: "web.1:10001", Name: "admin", Tags: []string{"b", "c", "stadion"}, Address: "h1", Port: 31001},
			},
		},
		{
			name: "SERVICE_IGNORE and SERVICE_<port>_IGNORE",
			snap: snapshot(
				app(id("/quiet"), portDefs(10000), labels("SERVICE_IGNORE", "true"), tasks(task("quiet.1", "h1", 31000))),
				app(id("/half"), portDefs(10000, 10001), labels("SERVICE_10001_IGNORE", "1"), tasks(task("half.1", "h1", 31002, 31003))),
				app(id("/back"), portDefs(10000), labels("SERVICE_IGNORE", "yes", "SERVICE_10000_IGNORE", "false"), tasks(task("back.1", "h1", 31004))),
			),
			opts: agentOpts(),
			want: []view{
				{ID: "back.1:10000", Name: "back", Tags: []string{"stadion"}, Address: "h1", Port: 31004},
				{ID: "half.1:10000", Name: "half-10000", Tags: []string{"stadion"}, Address: "h1", Port: 31002},
			},
		},
		{
			name: "only running tasks",
			snap: snapshot(app(id("/web"), portDefs(10000), tasks(
				with(task("web.staging", "h1", 31000), state(marathon.TaskStaging)),
				with(task("web.killing", "h1", 31001), state(marathon.TaskKilling)),
				with(task("web.killed", "h1", 31002), state(marathon.TaskKilled)),
				with(task("web.unreachable", "h1", 31003), state(marathon.TaskUnreachable)),
				task("web.running", "h1", 31004),
			))),
			opts: agentOpts(),
			want: []view{{ID: "web.running:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31004}},
		},
		{
			name: "agent mode: only the tasks of this host, whatever the case",
			snap: snapshot(app(id("/web"), portDefs(10000), tasks(task("web.1", "H1", 31000), task("web.2", "h2", 31000)))),
			opts: agentOpts(),
			want: []view{{ID: "web.1:10000", Name: "web", Tags: []string{"stadion"}, Address: "H1", Port: 31000}},
		},
		{
			name: "catalog mode: every task, on a node per host",
			snap: snapshot(app(id("/web"), portDefs(10000), tasks(task("web.1", "h1", 31000), task("web.2", "h2", 31000)))),
			opts: catalogOpts(),
			want: []view{
				{ID: "web.1:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Node: "stadion-h1"},
				{ID: "web.2:10000", Name: "web", Tags: []string{"stadion"}, Address: "h2", Port: 31000, Node: "stadion-h2"},
			},
		},
		{
			name: "ip mode: the container's address and port on container networks",
			snap: snapshot(
				app(id("/web"), bridge(3000), tasks(with(task("web.1", "h1", 31000), ip("172.17.0.2")))),
				app(id("/host"), portDefs(10000), tasks(with(task("host.1", "h1", 31001), ip("10.0.0.1")))),
				app(id("/noip"), portDefs(10000), tasks(task("noip.1", "h1", 31002))),
			),
			opts: ipOpts(),
			want: []view{
				{ID: "host.1:10000", Name: "host", Tags: []string{"stadion"}, Address: "10.0.0.1", Port: 31001},
				{ID: "noip.1:10000", Name: "noip", Tags: []string{"stadion"}, Address: "h1", Port: 31002},
				{ID: "web.1:3000", Name: "web", Tags: []string{"stadion"}, Address: "172.17.0.2", Port: 3000},
			},
		},
		{
			name: "container network: a port without host port is not advertised on the host",
			snap: snapshot(app(id("/web"), containerNet("3000", "3010:0"), tasks(with(task("web.1", "h1", 31000), ip("10.1.0.5"))))),
			opts: agentOpts(),
			want: []view{{ID: "web.1:3010", Name: "web-3010", Tags: []string{"stadion"}, Address: "h1", Port: 31000}},
		},
		{
			name: "ports without a number are labelled by name, then index; colliding labels fall back to port<i>",
			snap: func() Snapshot {
				named := app(id("/named"), portDefs(0, 0), tasks(task("named.1", "h1", 31000, 31001)))
				named.PortDefinitions[0].Name = "http"
				dup := app(id("/dup"), bridge(3000, 3000), tasks(task("dup.1", "h1", 31002, 31003)))
				return snapshot(named, dup)
			}(),
			opts: agentOpts(),
			want: []view{
				{ID: "dup.1:port0", Name: "dup-3000", Tags: []string{"stadion"}, Address: "h1", Port: 31002},
				{ID: "dup.1:port1", Name: "dup-3000", Tags: []string{"stadion"}, Address: "h1", Port: 31003},
				{ID: "named.1:1", Name: "named-1", Tags: []string{"stadion"}, Address: "h1", Port: 31001},
				{ID: "named.1:http", Name: "named-http", Tags: []string{"stadion"}, Address: "h1", Port: 31000},
			},
		},
		{
			name: "a UDP port's id says so",
			snap: snapshot(app(id("/dns"), portDefs(53, 10053), udp(0), tasks(task("dns.1", "h1", 31000, 31001)))),
			opts: agentOpts(),
			want: []view{
				{ID: "dns.1:10053", Name: "dns-10053", Tags: []string{"stadion"}, Address: "h1", Port: 31001},
				{ID: "dns.1:53:udp", Name: "dns-53", Tags: []string{"stadion"}, Address: "h1", Port: 31000},
			},
		},
		{
			name: "a bad task is skipped, the others stay",
			snap: snapshot(app(id("/web"), portDefs(10000, 10001), tasks(
				task("web.short", "h1", 31000),
				task("web.long", "h1", 31000, 31001, 31002),
				task("web.ok", "h1", 31003, 31004),
			)), app(id("/nohost"), portDefs(10000), tasks(task("nohost.1", "", 31000)))),
			opts: catalogOpts(),
			want: []view{
				{ID: "web.ok:10000", Name: "web-10000", Tags: []string{"stadion"}, Address: "h1", Port: 31003, Node: "stadion-h1"},
				{ID: "web.ok:10001", Name: "web-10001", Tags: []string{"stadion"}, Address: "h1", Port: 31004, Node: "stadion-h1"},
			},
			skipped: []string{"/web web.short", "/web web.long", "/nohost nohost.1"},
		},
		{
			name: "checks mode: HTTP, HTTPS and TCP checks (and MESOS_ ones) mirrored on every port's service",
			snap: snapshot(app(id("/web"), portDefs(10000, 10001), checks(
				healthCheck(marathon.ProtocolHTTP, 0, "/healthcheck?full=1"),
				healthCheck(marathon.ProtocolMesosHTTPS, 1, ""),
				healthCheck(marathon.ProtocolTCP, 1, ""),
			), tasks(with(task("web.1", "h1", 31000, 31001), results(true, true, true))))),
			opts: agentOpts(),
			want: []view{
				{ID: "web.1:10000", Name: "web-10000", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Checks: []string{
					"http http://h1:31000/healthcheck?full=1 5s/2s passing",
					"http https://h1:31001/ insecure 5s/2s passing",
					"tcp h1:31001 5s/2s passing",
				}},
				{ID: "web.1:10001", Name: "web-10001", Tags: []string{"stadion"}, Address: "h1", Port: 31001, Checks: []string{
					"http http://h1:31000/healthcheck?full=1 5s/2s passing",
					"http https://h1:31001/ insecure 5s/2s passing",
					"tcp h1:31001 5s/2s passing",
				}},
			},
		},
		{
			name: "checks mode: a COMMAND check becomes a TTL check with the scheduler's verdict",
			snap: snapshot(app(id("/web"), portDefs(10000), checks(healthCheck(marathon.ProtocolHTTP, 0, "/h"), commandCheck()),
				tasks(with(task("web.1", "h1", 31000), results(true, false))))),
			opts: agentOpts(),
			want: []view{{ID: "web.1:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Checks: []string{
				"http http://h1:31000/h 5s/2s critical",
				"status ttl=1m0s critical (unhealthy in the scheduler: 503)",
			}}},
		},
		{
			name: "ttl mode: one status check, critical until every check has an alive result",
			snap: snapshot(app(id("/web"), portDefs(10000), httpHealth, tasks(
				with(task("web.healthy", "h1", 31000), results(true)),
				with(task("web.sick", "h1", 31001), results(false)),
				task("web.new", "h1", 31002),
			)), app(id("/plain"), portDefs(10000), tasks(task("plain.1", "h1", 31003)))),
			opts: ttlOpts(),
			want: []view{
				{ID: "plain.1:10000", Name: "plain", Tags: []string{"stadion"}, Address: "h1", Port: 31003},
				{ID: "web.healthy:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Checks: []string{"status ttl=1m0s passing (healthy in the scheduler)"}},
				{ID: "web.new:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31002, Checks: []string{"status ttl=1m0s critical (no health check result yet)"}},
				{ID: "web.sick:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31001, Checks: []string{"status ttl=1m0s critical (unhealthy in the scheduler: 503)"}},
			},
		},
		{
			name: "catalog mode: the scheduler's verdict as a check without TTL",
			snap: snapshot(app(id("/web"), portDefs(10000), httpHealth, tasks(with(task("web.1", "h2", 31000), results(false))))),
			opts: catalogOpts(),
			want: []view{{ID: "web.1:10000", Name: "web", Tags: []string{"stadion"}, Address: "h2", Port: 31000, Node: "stadion-h2",
				Checks: []string{"status ttl=0s critical (unhealthy in the scheduler: 503)"}}},
		},
		{
			name: "checks mode: a check on a fixed port, and one on a port the task lacks",
			snap: func() Snapshot {
				fixed := healthCheck(marathon.ProtocolTCP, 0, "")
				fixed.PortIndex, fixed.Port = nil, new(int)
				*fixed.Port = 8080
				return snapshot(app(id("/web"), portDefs(10000), checks(fixed, healthCheck(marathon.ProtocolHTTP, 3, "/")),
					tasks(with(task("web.1", "h1", 31000), results(true, true)))))
			}(),
			opts: agentOpts(),
			want: []view{{ID: "web.1:10000", Name: "web", Tags: []string{"stadion"}, Address: "h1", Port: 31000, Checks: []string{
				"tcp h1:8080 5s/2s passing",
				"status ttl=1m0s passing (healthy in the scheduler)",
			}}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Compute(tc.snap, tc.opts)
			if diff := cmp.Diff(tc.want, viewOf(got.Services)); diff != "" {
				t.Errorf("services (-want +got):\n%s", diff)
			}
			var skipped []string
			for _, s := range got.Skipped {
				if !errors.Is(s.Err, ErrBadTask) {
					t.Errorf("skip %s %s: error %v is not ErrBadTask", s.AppID, s.TaskID, s.Err)
				}
				skipped = append(skipped, string(s.AppID)+" "+s.TaskID)
			}
			if diff := cmp.Diff(tc.skipped, skipped); diff != "" {
				t.Errorf("skipped (-want +got):\n%s", diff)
			}
		})
	}
}

func TestComputeMeta(t *testing.T) {
	snap := snapshot(app(id("/prod/web"), portDefs(10000, 10001), tasks(task("prod_web.instance-1._app.1", "h1", 31000, 31001))))
	got := Compute(snap, catalogOpts())
	if len(got.Services) != 2 {
		t.Fatalf("%d services, want 2", len(got.Services))
	}
	s := got.Services[1]
	want := map[string]string{
		MetaOwner:     "stadion",
		MetaAppID:     "/prod/web",
		MetaTaskID:    "prod_web.instance-1._app.1",
		MetaVersion:   v1.String(),
		MetaPortIndex: "1",
		MetaHost:      "h1",
		MetaHash:      s.Meta[MetaHash],
	}
	if diff := cmp.Diff(want, s.Meta); diff != "" {
		t.Errorf("meta (-want +got):\n%s", diff)
	}
	if s.NodeAddress != "h1" {
		t.Errorf("node address %q, want h1", s.NodeAddress)
	}
	if len(s.Meta[MetaHash]) != 16 || s.Meta[MetaHash] == got.Services[0].Meta[MetaHash] {
		t.Errorf("hashes %q and %q: want 16 hex digits, different per service", got.Services[0].Meta[MetaHash], s.Meta[MetaHash])
	}
}

// TestDefinitionHash: the hash follows the definition, not the statuses.
func TestDefinitionHash(t *testing.T) {
	sick := snapshot(app(id("/web"), portDefs(10000), checks(healthCheck(marathon.ProtocolHTTP, 0, "/h")), tasks(with(task("web.1", "h1", 31000), results(false)))))
	well := snapshot(app(id("/web"), portDefs(10000), checks(healthCheck(marathon.ProtocolHTTP, 0, "/h")), tasks(with(task("web.1", "h1", 31000), results(true)))))
	moved := snapshot(app(id("/web"), portDefs(10000), checks(healthCheck(marathon.ProtocolHTTP, 0, "/h")), tasks(with(task("web.1", "h1", 31009), results(true)))))
	tagged := snapshot(app(id("/web"), portDefs(10000), labels("SERVICE_TAGS", "x"), checks(healthCheck(marathon.ProtocolHTTP, 0, "/h")), tasks(with(task("web.1", "h1", 31000), results(true)))))
	hash := func(s Snapshot, o Options) string { return Compute(s, o).Services[0].Meta[MetaHash] }

	tests := []struct {
		name string
		a, b string
		same bool
	}{
		{name: "health status changes", a: hash(sick, agentOpts()), b: hash(well, agentOpts()), same: true},
		{name: "host port changes", a: hash(well, agentOpts()), b: hash(moved, agentOpts())},
		{name: "tags change", a: hash(well, agentOpts()), b: hash(tagged, agentOpts())},
		{name: "health mode changes", a: hash(well, agentOpts()), b: hash(well, ttlOpts())},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if (tc.a == tc.b) != tc.same {
				t.Errorf("hashes %s and %s: same = %v, want %v", tc.a, tc.b, tc.a == tc.b, tc.same)
			}
		})
	}
}

func TestComputeKeepsBadApps(t *testing.T) {
	snap := snapshot(app(id("/web"), portDefs(10000), tasks(task("web.1", "h1", 31000))))
	snap.Bad = []Skip{{AppID: "/broken", Err: ErrBadApp}}
	got := Compute(snap, agentOpts())
	if len(got.Skipped) != 1 || got.Skipped[0].AppID != "/broken" {
		t.Errorf("skipped %v, want the bad app", got.Skipped)
	}
	if !got.kept(Registered{Meta: map[string]string{MetaAppID: "/broken", MetaTaskID: "broken.1"}}) {
		t.Error("a registration of the bad app is not kept")
	}
	if got.kept(Registered{Meta: map[string]string{MetaAppID: "/web", MetaTaskID: "web.9"}}) {
		t.Error("a registration of a good app is kept")
	}
}
