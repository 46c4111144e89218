package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestLogfmt(t *testing.T) {
	tests := []struct {
		name string
		line string
		want map[string]string
	}{
		{name: "bare values", line: "time=2026-11-22T05:47:40.926Z level=INFO msg=leading component=leadership ready_in=1.222s",
			want: map[string]string{"time": "2026-11-22T05:47:40.926Z", "level": "INFO", "msg": "leading", "component": "leadership", "ready_in": "1.222s"}},
		{name: "quoted values with spaces and escapes", line: `msg="elected leader" group="stadion \"schedulers\"" node=member_0000000002`,
			want: map[string]string{"msg": "elected leader", "group": `stadion "schedulers"`, "node": "member_0000000002"}},
		{name: "not logfmt", line: "stadion serve: Marathon API on http://127.0.0.1:38307", want: map[string]string{}},
		{name: "unterminated quote keeps what came before", line: `a=1 msg="open`, want: map[string]string{"a": "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, logfmt(tc.line)); diff != "" {
				t.Errorf("logfmt (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseLeaderLog(t *testing.T) {
	const log = `time=2026-11-22T05:47:15.463Z level=INFO msg="following the leader" component=election node=member_0000000002
time=2026-11-22T05:47:39.704Z level=INFO msg="elected leader" component=election node=member_0000000002
time=2026-11-22T05:47:40.926Z level=INFO msg=leading component=leadership ready_in=1.222s
time=2026-11-22T05:47:42.139Z level=INFO msg=subscribed component=mesos framework_id=f-0000
time=2026-11-22T05:47:42.142Z level=INFO msg="subscribed to mesos" component=scheduler framework_id=f-0000
time=2026-11-22T05:47:44.464Z level=INFO msg="subscribed to mesos" component=scheduler framework_id=f-0000
`
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	got := parseLeaderLog(log)
	want := leaderLogTimes{
		Elected:    at("2026-11-22T05:47:39.704Z"),
		Ready:      at("2026-11-22T05:47:40.926Z"),
		ReadyIn:    1222 * time.Millisecond,
		Subscribed: at("2026-11-22T05:47:42.142Z"), // the first one
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseLeaderLog (-want +got):\n%s", diff)
	}
	killed := at("2026-11-22T05:47:30.000Z")
	wantSince := leaderLog{Elected: 9704 * time.Millisecond, Ready: 10926 * time.Millisecond, ReadyIn: 1222 * time.Millisecond, Subscribed: 12142 * time.Millisecond}
	if diff := cmp.Diff(wantSince, got.since(killed)); diff != "" {
		t.Errorf("since (-want +got):\n%s", diff)
	}
	if got := (leaderLogTimes{}).since(killed); got != (leaderLog{}) {
		t.Errorf("missing lines: since = %+v, want zero", got)
	}
}
