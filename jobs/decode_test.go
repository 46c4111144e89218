package jobs

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDecode(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		wantErr bool
		check   func(t *testing.T, j *Job)
	}{
		{name: "defaults filled in at parse time", body: `{"name":"a","schedule":"R/2024-01-01T00:00:00Z/P1D"}`, check: func(t *testing.T, j *Job) {
			want := Job{Name: "a", Shell: true, Retries: 2, CPUs: 0.1, Mem: 128, Disk: 256, RunAsUser: "root", Schedule: "R/2024-01-01T00:00:00Z/P1D",
				Fetch: []Fetch{}, URIs: []string{}, EnvironmentVariables: []EnvVar{}, Arguments: []string{}, Constraints: [][]string{}}
			zone := ""
			want.ScheduleTimeZone = &zone
			if diff := cmp.Diff(want, *j, cmp.AllowUnexported(Job{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
		{name: "numbers and booleans as strings", body: `{"name":"a","cpus":"0.5","mem":"64","retries":"0","shell":"false","concurrent":"true","schedule":"R//PT1H"}`, check: func(t *testing.T, j *Job) {
			if j.CPUs != 0.5 || j.Mem != 64 || j.Retries != 0 || j.Shell || !j.Concurrent {
				t.Errorf("%+v", j)
			}
		}},
		{name: "parents make a dependent job", body: `{"name":"c","parents":["a","b","a"],"schedule":"R//PT1H"}`, check: func(t *testing.T, j *Job) {
			if !j.Dependent() || j.Schedule != "" || len(j.Parents) != 2 {
				t.Errorf("%+v", j)
			}
		}},
		{name: "neither schedule nor parents runs once now", body: `{"name":"once"}`, check: func(t *testing.T, j *Job) {
			if j.Schedule != "R1//PT24H" {
				t.Errorf("schedule %q", j.Schedule)
			}
		}},
		{name: "unknown fields ignored, 2.x fields kept", body: `{"name":"a","schedule":"R//PT1H","whatever":1,"epsilon":"PT30S","async":true}`, check: func(t *testing.T, j *Job) {
			if j.EpsilonDuration().Seconds() != 30 || !j.Async {
				t.Errorf("%+v", j)
			}
		}},
		{name: "fetch extract defaults to true", body: `{"name":"a","schedule":"R//PT1H","fetch":[{"uri":"http://x/a.tgz"},{"uri":"http://x/b","extract":false}]}`, check: func(t *testing.T, j *Job) {
			if !j.Fetch[0].Extract || j.Fetch[1].Extract {
				t.Errorf("%+v", j.Fetch)
			}
		}},
		{name: "unknown constraint operators dropped", body: `{"name":"a","schedule":"R//PT1H","constraints":[["rack","like","r[1-3]"],["host","CLUSTER","x"],["zone","EQUALS","a"]]}`, check: func(t *testing.T, j *Job) {
			if diff := cmp.Diff([][]string{{"rack", "LIKE", "r[1-3]"}, {"zone", "EQUALS", "a"}}, j.Constraints); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		}},
		{name: "container defaults", body: `{"name":"a","schedule":"R//PT1H","container":{"image":"busybox","volumes":[{"containerPath":"/x","hostPath":"/y","mode":"ro"}]}}`, check: func(t *testing.T, j *Job) {
			c := j.Container
			if c == nil || c.Type != ContainerDocker || c.Network != "HOST" || c.Volumes[0].Mode != "RO" {
				t.Errorf("%+v", c)
			}
		}},
		{name: "container without image ignored", body: `{"name":"a","schedule":"R//PT1H","container":{"type":"DOCKER"}}`, check: func(t *testing.T, j *Job) {
			if j.Container != nil {
				t.Errorf("%+v", j.Container)
			}
		}},
		{name: "no name", body: `{"schedule":"R//PT1H"}`, wantErr: true},
		{name: "not an object", body: `[1]`, wantErr: true},
		{name: "bad number", body: `{"name":"a","cpus":"lots"}`, wantErr: true},
		{name: "negative retries", body: `{"name":"a","retries":-1}`, wantErr: true},
		{name: "calendar epsilon", body: `{"name":"a","epsilon":"P1D"}`, wantErr: true},
		{name: "bad network", body: `{"name":"a","container":{"image":"x","network":"bridge"}}`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			j, err := Decode([]byte(tc.body), DefaultDefaults)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if err != nil {
				if !errors.Is(err, ErrBadJob) {
					t.Errorf("error %v does not wrap ErrBadJob", err)
				}
				return
			}
			tc.check(t, j)
		})
	}
}

func TestStoredJobRoundTrip(t *testing.T) {
	j, err := Decode([]byte(`{"name":"a","schedule":"R//PT1H","epsilon":"PT5S","successCount":3}`), DefaultDefaults)
	if err != nil {
		t.Fatal(err)
	}
	j.depsAt = at("2024-01-01T00:00:00Z")
	b, err := EncodeJob(j)
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeJob(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(j, got, cmp.AllowUnexported(Job{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
