package marathon

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// trickyStrings are the strings encoding/json escapes, or with HTML
// escaping off deliberately does not.
var trickyStrings = []string{
	"", "plain", `q"uote`, `back\slash`, "<b>&amp;</b>", "é日本🚀", "ctl\x00\x01\x1f\t\n\r\b\f", "del\x7f",
	"ls\u2028ps\u2029", "bad\xff\xfe", "trunc\xe2\x80", "\xed\xa0\x80surrogate", "/a/b.c-d_e",
}

func tsp(t Timestamp) *Timestamp { return &t }
func strp(s string) *string      { return &s }

func sampleTasks() []Task {
	now := NewTimestamp(time.Date(2024, 5, 1, 12, 0, 0, 123456789, time.UTC))
	full := Task{
		ID: "web.instance-1._app.1", AppID: "/web", Host: "h1", SlaveID: "agent-1", State: TaskRunning,
		IPAddresses: []IPAddr{{"10.0.0.1", IPv4}, {"fd00::1", IPv6}}, Ports: []uint32{31000, 0, 4294967295},
		ServicePorts: []uint32{10000}, StagedAt: now, StartedAt: now, Version: now,
		HealthCheckResults: []HealthCheckResult{
			{Alive: true, InstanceID: "web.instance-1"},
			{Alive: false, ConsecutiveFailures: 3, FirstSuccess: tsp(now), LastSuccess: tsp(Timestamp{}), LastFailure: tsp(now),
				LastFailureCause: strp(`500 "<oops>"`), InstanceID: "web.instance-1", TaskID: "web.instance-1._app.1"},
		},
		CheckResult:  &CheckResult{},
		LocalVolumes: []LocalVolume{{RunSpecID: "/web", ContainerPath: "data", UUID: "u", PersistenceID: "p"}},
		Region:       "eu", Zone: "eu-1", Role: "*", UnknownSince: now,
	}
	withChecks := full
	withChecks.CheckResult = &CheckResult{}
	withChecks.CheckResult.HTTP = &struct {
		StatusCode int `json:"statusCode"`
	}{200}
	withChecks.CheckResult.TCP = &struct {
		Succeeded bool `json:"succeeded"`
	}{true}
	withChecks.CheckResult.Exec = &struct {
		ExitCode int `json:"exitCode"`
	}{-1}
	onlyExec := Task{ID: "x", StagedAt: now, CheckResult: &CheckResult{Exec: withChecks.CheckResult.Exec}}
	inactive := full
	inactive.StagedAt = Timestamp{}
	out := []Task{{}, full, withChecks, onlyExec, inactive, {ID: "i", StartedAt: now, Version: now, Ports: []uint32{1}},
		{ID: "nil lists", StagedAt: now}, {ID: "empty lists", StagedAt: now, IPAddresses: []IPAddr{}, Ports: []uint32{},
			ServicePorts: []uint32{}, HealthCheckResults: []HealthCheckResult{}, LocalVolumes: []LocalVolume{}}}
	for _, s := range trickyStrings {
		out = append(out, Task{ID: s, AppID: PathID(s), Host: s, SlaveID: s, State: TaskState(s), StagedAt: now,
			IPAddresses: []IPAddr{{s, IPProtocol(s)}}, Region: s, Zone: s, Role: s,
			HealthCheckResults: []HealthCheckResult{{LastFailureCause: strp(s), InstanceID: s, TaskID: s}},
			LocalVolumes:       []LocalVolume{{PathID(s), s, s, s}}})
	}
	return out
}

// randomString draws runes from every class appendString treats apart.
func randomString(r *rand.Rand) string {
	var b strings.Builder
	for range r.IntN(12) {
		switch r.IntN(6) {
		case 0:
			b.WriteByte(byte(r.IntN(0x80)))
		case 1:
			b.WriteByte(byte(0x80 + r.IntN(0x80)))
		case 2:
			b.WriteRune(rune(r.IntN(0x800)))
		case 3:
			b.WriteRune([]rune{'\u2028', '\u2029', '\ufffd', 0x10ffff, '<', '>', '&', '"', '\\'}[r.IntN(9)])
		default:
			b.WriteRune(rune(r.IntN(0x10ffff)))
		}
	}
	return b.String()
}

func TestAppendStringMatchesEncoder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	strs := append([]string(nil), trickyStrings...)
	for range 20000 {
		strs = append(strs, randomString(r))
	}
	for b := range 256 {
		strs = append(strs, string([]byte{byte(b)}), "a"+string([]byte{byte(b)})+"z")
	}
	for _, s := range strs {
		want, err := marshalPlain(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestAppendJSONMatchesEncoder(t *testing.T) {
	for _, task := range sampleTasks() {
		want, err := marshalPlain(legacyTask(task))
		if err != nil {
			t.Fatal(err)
		}
		got, err := marshalPlain(task)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("task %q:\n got %s\nwant %s", task.ID, got, want)
		}
		if direct := task.AppendJSON(nil); !bytes.Equal(direct, want) {
			t.Errorf("AppendJSON %q:\n got %s\nwant %s", task.ID, direct, want)
		}
	}

	apps := []App{NewApp("/a")}
	for _, name := range []string{"app.json", "app-check-http-example.json"} {
		var a App
		if err := json.Unmarshal(readExample(t, name), &a); err != nil {
			t.Fatalf("%s: %v", name, err)
		} else {
			apps = append(apps, a)
		}
	}
	now := NewTimestamp(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC))
	infos := []AppInfo{}
	for _, a := range apps {
		a.Labels = map[string]string{"<k>": trickyStrings[3], "x": trickyStrings[6]}
		infos = append(infos,
			AppInfo{App: a},
			AppInfo{App: a, TasksStaged: 1, TasksRunning: 2, TasksHealthy: 3, TasksUnhealthy: -4,
				Deployments: []DeploymentRef{{"d1"}, {`d"2`}}, ReadinessCheckResults: []ReadinessCheckResult{},
				Tasks: []Task{}},
			AppInfo{App: a, Deployments: []DeploymentRef{},
				ReadinessCheckResults: []ReadinessCheckResult{{Name: "r", TaskID: "t", LastResponse: &ReadinessResponse{503, "text/html", "<h1>&</h1>"}}},
				Tasks:                 sampleTasks(),
				LastTaskFailure:       &TaskFailure{AppID: "/a", Host: "<h>", Message: trickyStrings[9], State: TaskFailed, Timestamp: now, Version: now},
				TasksStats: &TasksStats{TotalSummary: &TaskStatsGroup{Stats: TaskStats{Counts: TaskCounts{Running: 1},
					LifeTime: &TaskLifeTime{AverageSeconds: 1.0 / 3, MedianSeconds: 1e21}}}}})
	}
	for _, info := range infos {
		want, err := legacyAppInfoJSON(info)
		if err != nil {
			t.Fatal(err)
		}
		got, err := info.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("AppInfo %s:\n got %s\nwant %s", info.ID, got, want)
		}
		// Through an encoder, as the API writes it, and with the
		// definition given.
		wantList, err := marshalPlain(struct {
			Apps []json.RawMessage `json:"apps"`
		}{[]json.RawMessage{want}})
		if err != nil {
			t.Fatal(err)
		}
		gotList, err := marshalPlain(AppList{Apps: []AppInfo{info}})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(gotList, wantList) {
			t.Errorf("AppList %s:\n got %s\nwant %s", info.ID, gotList, wantList)
		}
		def, err := info.App.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		withDef, err := info.AppendJSON([]byte("prefix"), def)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(withDef, append([]byte("prefix"), want...)) {
			t.Errorf("AppendJSON with definition %s:\n got %s\nwant %s", info.ID, withDef, want)
		}
	}
	if _, err := (&AppInfo{}).AppendJSON(nil, []byte("[]")); err == nil {
		t.Error("AppendJSON accepted a definition that is no object")
	}
}

func FuzzAppendTask(f *testing.F) {
	for _, s := range trickyStrings {
		f.Add(s, int64(1714564800123), true)
	}
	f.Fuzz(func(t *testing.T, s string, ms int64, active bool) {
		ts := NewTimestamp(time.UnixMilli(ms))
		task := Task{ID: s, AppID: PathID(s), Host: s, State: TaskState(s), Version: ts, StartedAt: ts,
			IPAddresses: []IPAddr{{s, IPv4}}, HealthCheckResults: []HealthCheckResult{{LastFailureCause: &s, LastSuccess: &ts}}}
		if active {
			task.StagedAt = ts
		}
		want, err := marshalPlain(legacyTask(task))
		if err != nil {
			t.Fatal(err)
		}
		if got := task.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	})
}

func TestAppendWireTimeMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	times := []time.Time{
		{}, time.Unix(0, 0), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 2, 29, 1, 2, 3, 4000000, time.FixedZone("x", -7*3600)),
		time.Date(2024, 5, 1, 12, 0, 0, 999999, time.UTC),
	}
	for range 100000 {
		times = append(times, time.Unix(r.Int64N(1<<40)-1<<39, r.Int64N(1e9)).In(time.FixedZone("z", r.IntN(50000)-25000)))
	}
	for _, tm := range times {
		want := tm.UTC().Format(timestampLayout)
		if got := string(appendWireTime(nil, tm)); got != want {
			t.Fatalf("appendWireTime(%v) = %s, want %s", tm, got, want)
		}
	}
}
