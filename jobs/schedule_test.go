package jobs

import (
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseSchedule(t *testing.T) {
	now := at("2024-05-01T12:00:00Z")
	tests := []struct {
		name     string
		schedule string
		zone     string
		wantErr  bool
		repeats  int
		start    string
		printed  string
		oneShot  bool
	}{
		{name: "infinite", schedule: "R/2024-01-01T02:30:00Z/P1D", repeats: -1, start: "2024-01-01T02:30:00Z", printed: "R/2024-01-01T02:30:00.000Z/P1D"},
		{name: "finite with offset", schedule: "R5/2024-01-01T02:30:00.5+02:00/PT2S", repeats: 5, start: "2024-01-01T00:30:00.5Z", printed: "R5/2024-01-01T02:30:00.500+02:00/PT2S"},
		{name: "empty start is now minus a second", schedule: "R1//PT24H", repeats: 1, start: "2024-05-01T11:59:59Z"},
		{name: "zone keeps the wall clock", schedule: "R/2024-01-01T13:00:00-04:00/P1D", zone: "America/Los_Angeles", repeats: -1, start: "2024-01-01T21:00:00Z"},
		{name: "unknown zone is UTC", schedule: "R/2024-01-01T13:00:00-04:00/P1D", zone: "Nowhere/Else", repeats: -1, start: "2024-01-01T13:00:00Z"},
		{name: "bare date", schedule: "R/2024-01-01/PT1H", repeats: -1, start: "2024-01-01T00:00:00Z"},
		{name: "zero period", schedule: "R/2024-01-01T00:00:00Z/PT0S", repeats: -1, start: "2024-01-01T00:00:00Z", oneShot: true},
		{name: "no period", schedule: "R/2024-01-01T00:00:00Z", wantErr: true},
		{name: "garbage", schedule: "every day", wantErr: true},
		{name: "bad period", schedule: "R/2024-01-01T00:00:00Z/P1X", wantErr: true},
		{name: "bad start", schedule: "R/yesterday/P1D", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sc, err := ParseSchedule(tc.schedule, tc.zone, now)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if sc.Repeats != tc.repeats || !sc.Start.Equal(at(tc.start)) || sc.Period.IsZero() != tc.oneShot {
				t.Errorf("got R%d start %s zero period %v", sc.Repeats, sc.Start, sc.Period.IsZero())
			}
			if tc.printed != "" && sc.String() != tc.printed {
				t.Errorf("printed %q, want %q", sc.String(), tc.printed)
			}
		})
	}
}

func TestAdvance(t *testing.T) {
	tests := []struct {
		name     string
		schedule string
		zone     string
		now      string
		want     string
	}{
		{name: "on time", schedule: "R/2024-05-01T12:00:00Z/PT2S", now: "2024-05-01T12:00:00.1Z", want: "R/2024-05-01T12:00:02.000Z/PT2S"},
		{name: "missed periods collapse into one", schedule: "R/2024-05-01T12:00:00Z/PT2S", now: "2024-05-01T12:00:09Z", want: "R/2024-05-01T12:00:10.000Z/PT2S"},
		{name: "finite drops by one whatever was missed", schedule: "R5/2024-05-01T12:00:00Z/PT1M", now: "2024-05-01T12:10:30Z", want: "R4/2024-05-01T12:11:00.000Z/PT1M"},
		{name: "one shot ends", schedule: "R/2024-05-01T12:00:00Z/PT0S", now: "2024-05-01T12:00:01Z", want: "R0/2024-05-01T12:00:00.000Z/PT0S"},
		{name: "P1D keeps the wall clock across DST", schedule: "R/2024-03-30T10:00:00Z/P1D", zone: "Europe/Berlin", now: "2024-03-30T09:01:00Z", want: "R/2024-03-31T10:00:00.000+02:00/P1D"},
		{name: "PT24H does not", schedule: "R/2024-03-30T10:00:00Z/PT24H", zone: "Europe/Berlin", now: "2024-03-30T09:01:00Z", want: "R/2024-03-31T11:00:00.000+02:00/PT24H"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := at(tc.now)
			sc, err := ParseSchedule(tc.schedule, tc.zone, now)
			if err != nil {
				t.Fatal(err)
			}
			if got := sc.Advance(now).String(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestDueAndEpsilon(t *testing.T) {
	now := at("2024-05-01T12:00:09Z")
	tests := []struct {
		name    string
		epsilon string
		ok      bool
		run     bool
		skipped int64
	}{
		{name: "catch up once without epsilon", ok: true, run: true},
		{name: "latest within epsilon runs, older ones are skipped", epsilon: "PT5S", ok: true, run: true, skipped: 4},
		{name: "latest older than epsilon is skipped", epsilon: "PT0.5S", ok: true, run: false, skipped: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Decode([]byte(`{"name":"j","schedule":"R/2024-05-01T12:00:00Z/PT2S","epsilon":"`+tc.epsilon+`"}`), DefaultDefaults)
			if tc.epsilon == "" {
				j, err = Decode([]byte(`{"name":"j","schedule":"R/2024-05-01T12:00:00Z/PT2S"}`), DefaultDefaults)
			}
			if err != nil {
				t.Fatal(err)
			}
			o, ok := Due(j, now)
			if ok != tc.ok || o.Run != tc.run || o.Skipped != tc.skipped {
				t.Errorf("got ok %v %+v", ok, o)
			}
			if !o.ScheduledFor.Equal(at("2024-05-01T12:00:08Z")) {
				t.Errorf("scheduled for %s, want the latest occurrence", o.ScheduledFor)
			}
		})
	}
}

func TestReady(t *testing.T) {
	ok := func(name, success, errAt string, soft bool, parents ...string) *Job {
		return &Job{Name: name, LastSuccess: success, LastError: errAt, SoftError: soft, Parents: parents}
	}
	tests := []struct {
		name  string
		jobs  []*Job
		since string
		want  bool
	}{
		{name: "all parents succeeded after the child last ran", jobs: []*Job{ok("a", "2024-01-01T00:00:02.000Z", "", false), ok("b", "2024-01-01T00:00:03.000Z", "", false)}, since: "2024-01-01T00:00:01Z", want: true},
		{name: "a parent has not completed since", jobs: []*Job{ok("a", "2024-01-01T00:00:02.000Z", "", false), ok("b", "2024-01-01T00:00:00.500Z", "", false)}, since: "2024-01-01T00:00:01Z", want: false},
		{name: "a parent's latest run failed", jobs: []*Job{ok("a", "2024-01-01T00:00:02.000Z", "", false), ok("b", "2024-01-01T00:00:02.000Z", "2024-01-01T00:00:03.000Z", false)}, since: "2024-01-01T00:00:01Z", want: false},
		{name: "softError releases", jobs: []*Job{ok("a", "2024-01-01T00:00:02.000Z", "", false), ok("b", "", "2024-01-01T00:00:03.000Z", true)}, since: "2024-01-01T00:00:01Z", want: true},
		{name: "a parent is missing", jobs: []*Job{ok("a", "2024-01-01T00:00:02.000Z", "", false)}, since: "2024-01-01T00:00:01Z", want: false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			all := map[string]*Job{}
			for _, j := range tc.jobs {
				all[j.Name] = j
			}
			child := ok("c", "", "", false, "a", "b")
			child.depsAt = at(tc.since)
			if got := Ready(child, all); got != tc.want {
				t.Errorf("Ready %v, want %v", got, tc.want)
			}
		})
	}
}

func TestTaskIDAndEnvironment(t *testing.T) {
	due := time.UnixMilli(1428515194358)
	if id := TaskID(due, 0, "NewJob", ""); id != "ct:1428515194358:0:NewJob:" {
		t.Errorf("task id %q", id)
	}
	if id := TaskID(due, 2, "j", "a;b c"); id != "ct:1428515194358:2:j:ab c" {
		t.Errorf("task id %q", id)
	}
	d, a, job, args, ok := ParseTaskID("ct:1428515194358:2:j:ab c")
	if !ok || !d.Equal(due) || a != 2 || job != "j" || args != "ab c" {
		t.Errorf("parsed %v %d %q %q %v", d, a, job, args, ok)
	}
	j := &Job{Name: "j", Owner: "o@x", Mem: 128, CPUs: 0.1, Disk: 256, EnvironmentVariables: []EnvVar{{Name: "CHRONOS_JOB_NAME", Value: "forged"}, {Name: "MINE", Value: "1"}}}
	env := map[string]string{}
	for _, v := range environment(j, Run{TaskID: "ct:1:0:j:", Due: due, Attempt: 1}, "h1").Variables {
		env[v.Name] = *v.Value
	}
	want := map[string]string{"mesos_task_id": "ct:1:0:j:", "MESOS_TASK_ID": "ct:1:0:j:", "CHRONOS_JOB_NAME": "j", "CHRONOS_JOB_OWNER": "o@x",
		"HOST": "h1", "CHRONOS_RESOURCE_MEM": "128.0", "CHRONOS_RESOURCE_CPU": "0.1", "CHRONOS_RESOURCE_DISK": "256.0",
		"CHRONOS_JOB_RUN_TIME": "1428515194358", "CHRONOS_JOB_RUN_ATTEMPT": "1", "MINE": "1"}
	for k, v := range want {
		if env[k] != v {
			t.Errorf("%s=%q, want %q", k, env[k], v)
		}
	}
}
