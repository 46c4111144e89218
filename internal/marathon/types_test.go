package marathon

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestErrorBodies(t *testing.T) {
	tests := []struct {
		name       string
		err        *Error
		wantStatus int
		wantBody   string
	}{
		{name: "not found", err: AppNotFound("/x"), wantStatus: 404, wantBody: `{"message":"App '/x' does not exist"}`},
		{name: "exists", err: AppExists("/existing_app"), wantStatus: 409, wantBody: `{"message":"An app with id [/existing_app] already exists."}`},
		{
			name: "locked", err: AppLocked("97c136bf-5a28-4821-9d94-480d9fbb01c8"), wantStatus: 409,
			wantBody: `{"message":"App is locked by one or more deployments. Override with the option '?force=true'. View details at '/v2/deployments/97c136bf-5a28-4821-9d94-480d9fbb01c8'.","deployments":[{"id":"97c136bf-5a28-4821-9d94-480d9fbb01c8"}]}`,
		},
		{
			name: "not valid", err: NotValid(Detail{Path: "/upgradeStrategy/minimumHealthCapacity", Errors: []string{"is greater than 1"}}), wantStatus: 422,
			wantBody: `{"message":"Object is not valid","details":[{"path":"/upgradeStrategy/minimumHealthCapacity","errors":["is greater than 1"]}]}`,
		},
		{name: "no leader", err: NoLeader(), wantStatus: 404, wantBody: `{"message":"There is no leader"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := errBody(t, tc.err)
			if status != tc.wantStatus || body != tc.wantBody {
				t.Errorf("got %d %s, want %d %s", status, body, tc.wantStatus, tc.wantBody)
			}
			var back Error
			if err := json.Unmarshal([]byte(body), &back); err != nil {
				t.Fatal(err)
			}
			back.Status = tc.err.Status
			if diff := cmp.Diff(*tc.err, back); diff != "" {
				t.Errorf("client decode (-want +got):\n%s", diff)
			}
		})
	}
}

func TestTaskJSON(t *testing.T) {
	staged := NewTimestamp(mustTime("2015-09-17T09:32:36.822Z"))
	tests := []struct {
		name string
		task Task
		want string
	}{
		{
			name: "active",
			task: Task{ID: "a.instance-1._app.1", AppID: "/a", Host: "h", SlaveID: "S0", State: TaskStaging, StagedAt: staged, Version: staged},
			want: `{"id":"a.instance-1._app.1","appId":"/a","host":"h","ipAddresses":[],"ports":[],"servicePorts":[],"slaveId":"S0","state":"TASK_STAGING","stagedAt":"2015-09-17T09:32:36.822Z","version":"2015-09-17T09:32:36.822Z","healthCheckResults":[],"localVolumes":[]}`,
		},
		{
			name: "inactive omits launch fields",
			task: Task{ID: "a.instance-1._app.1", AppID: "/a", Host: "h", State: TaskUnknown, Ports: []uint32{1}, Version: staged},
			want: `{"id":"a.instance-1._app.1","appId":"/a","host":"h","ipAddresses":[],"servicePorts":[],"state":"TASK_UNKNOWN","healthCheckResults":[],"localVolumes":[]}`,
		},
		{
			name: "health results leave unset times out",
			task: Task{ID: "t", AppID: "/a", State: TaskRunning, StagedAt: staged, HealthCheckResults: []HealthCheckResult{{Alive: true, InstanceID: "a.instance-1"}}},
			want: `{"id":"t","appId":"/a","host":"","ipAddresses":[],"ports":[],"servicePorts":[],"state":"TASK_RUNNING","stagedAt":"2015-09-17T09:32:36.822Z","healthCheckResults":[{"alive":true,"consecutiveFailures":0,"instanceId":"a.instance-1"}],"localVolumes":[]}`,
		},
		{
			name: "health results with times",
			task: Task{ID: "t", AppID: "/a", State: TaskRunning, StagedAt: staged, HealthCheckResults: []HealthCheckResult{{Alive: false, ConsecutiveFailures: 2, LastSuccess: &staged, LastFailure: &staged, LastFailureCause: strp("503"), InstanceID: "a.instance-1"}}},
			want: `{"id":"t","appId":"/a","host":"","ipAddresses":[],"ports":[],"servicePorts":[],"state":"TASK_RUNNING","stagedAt":"2015-09-17T09:32:36.822Z","healthCheckResults":[{"alive":false,"consecutiveFailures":2,"lastSuccess":"2015-09-17T09:32:36.822Z","lastFailure":"2015-09-17T09:32:36.822Z","lastFailureCause":"503","instanceId":"a.instance-1"}],"localVolumes":[]}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := json.Marshal(tc.task)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
		})
	}
}

func TestAppInfoJSON(t *testing.T) {
	info := AppInfo{App: mustApp(t, `{"id":"/a","cmd":"x"}`), TasksRunning: 2, Tasks: []Task{}}
	b, err := json.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"id":"/a"`, `"tasksRunning":2`, `"deployments":[]`, `"tasks":[]`, `"ports":[0]`} {
		if !strings.Contains(s, want) {
			t.Errorf("%s lacks %s", s, want)
		}
	}
	for _, absent := range []string{`"lastTaskFailure"`, `"tasksStats"`, `"readinessCheckResults"`} {
		if strings.Contains(s, absent) {
			t.Errorf("%s has %s", s, absent)
		}
	}
	back, err := Decode[AppInfo](b)
	if err != nil {
		t.Fatal(err)
	}
	if back.TasksRunning != 2 || back.ID != "/a" || back.Tasks == nil {
		t.Errorf("decoded %+v", back)
	}
}

func TestDeploymentEventsLight(t *testing.T) {
	target := Group{ID: "/", Apps: []App{mustApp(t, `{"id":"/a","cmd":"x"}`)}}
	plan := DeploymentPlan{ID: "d1", Target: &target, Original: &Group{ID: "/"}, Steps: []Step{{Actions: []Action{{Action: StartApplication, App: "/a"}}}}}
	now := time.Date(2015, 9, 30, 12, 44, 30, 61e6, time.UTC)
	full := DeploymentStatusEvent{ID: "d1", Plan: plan, EventMeta: Meta(EventDeploymentSuccess, now)}
	light := DeploymentStatusEvent{ID: "d1", Plan: plan.Light(), EventMeta: Meta(EventDeploymentSuccess, now)}
	fb, _ := EncodeSSE(full)
	lb, _ := EncodeSSE(light)
	if !strings.Contains(string(fb), `"target"`) || strings.Contains(string(lb), `"target"`) || strings.Contains(string(lb), `"original"`) {
		t.Errorf("full:\n%s\nlight:\n%s", fb, lb)
	}
	want := "event: deployment_success\ndata: {\"id\":\"d1\",\"plan\":{\"id\":\"d1\",\"steps\":[{\"actions\":[{\"action\":\"StartApplication\",\"app\":\"/a\"}]}],\"version\":null},\"eventType\":\"deployment_success\",\"timestamp\":\"2015-09-30T12:44:30.061Z\"}\n\n"
	if string(lb) != want {
		t.Errorf("got\n%q\nwant\n%q", lb, want)
	}
}

func TestHealthStatusChangedEvent(t *testing.T) {
	e := HealthStatusChangedEvent{AppID: "/a", InstanceID: "a.instance-1", TaskID: "a.instance-1._app.1", Alive: true,
		Version: NewTimestamp(mustTime("2015-09-30T09:09:17.614Z")), EventMeta: Meta(EventHealthStatusChanged, mustTime("2015-09-30T12:44:30.061Z"))}
	b, err := EncodeSSE(e)
	if err != nil {
		t.Fatal(err)
	}
	want := "event: health_status_changed_event\ndata: {\"appId\":\"/a\",\"instanceId\":\"a.instance-1\",\"taskId\":\"a.instance-1._app.1\",\"version\":\"2015-09-30T09:09:17.614Z\",\"alive\":true,\"eventType\":\"health_status_changed_event\",\"timestamp\":\"2015-09-30T12:44:30.061Z\"}\n\n"
	if string(b) != want {
		t.Errorf("got\n%q\nwant\n%q", b, want)
	}
}
