package wrapper

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/testenv"
)

func TestParseSchedulerAddrs(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
		err  bool
	}{
		{name: "host:port", in: "marathon:8080", want: []string{"http://marathon:8080"}},
		{name: "several", in: "a:8080, https://b:8443/", want: []string{"http://a:8080", "https://b:8443"}},
		{name: "credentials kept", in: "http://u:p@a:8080", want: []string{"http://u:p@a:8080"}},
		{name: "different credentials", in: "http://u:p@a:8080,http://u:q@b:8080", err: true},
		{name: "empty", in: " , ", err: true},
		{name: "bad scheme", in: "ftp://a:21", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			urls, err := parseSchedulerAddrs(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			var got []string
			for _, u := range urls {
				got = append(got, u.String())
			}
			if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestAppPath(t *testing.T) {
	if got, want := appPath("/team/my app"), "/v2/apps/team/my%20app"; got != want {
		t.Errorf("appPath = %q, want %q", got, want)
	}
}

func TestSchedulerRestart(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		want      RestartResult
		temporary bool // when an error is expected
		err       bool
	}{
		{name: "accepted", status: 200, body: `{"deploymentId":"d-1","version":"2024-01-02T03:04:05.678Z"}`, want: RestartResult{DeploymentID: "d-1", Version: "2024-01-02T03:04:05.678Z"}},
		{name: "locked by a deployment", status: 409, body: `{"message":"App is locked by one or more deployments.","deployments":[{"id":"d-0"}]}`, err: true, temporary: true},
		{name: "unknown app", status: 404, body: `{"message":"App '/app' does not exist"}`, err: true},
		{name: "server error", status: 500, body: `oops`, err: true, temporary: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var gotMethod, gotPath string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotMethod, gotPath = r.Method, r.URL.Path
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			c := &schedulerClient{bases: []string{srv.URL}, app: "/team/app", client: srv.Client()}
			res, err := c.Restart(context.Background())
			if gotMethod != http.MethodPost || gotPath != "/v2/apps/team/app/restart" {
				t.Errorf("request %s %s, want POST /v2/apps/team/app/restart", gotMethod, gotPath)
			}
			if (err != nil) != tc.err {
				t.Fatalf("error %v, want error %v", err, tc.err)
			}
			if err != nil {
				var se *StatusError
				if !errors.As(err, &se) || se.Status != tc.status {
					t.Fatalf("error %#v, want a *StatusError %d", err, tc.status)
				}
				if temporary(err) != tc.temporary {
					t.Errorf("temporary = %v, want %v", temporary(err), tc.temporary)
				}
				return
			}
			if res != tc.want {
				t.Errorf("result %+v, want %+v", res, tc.want)
			}
		})
	}
}

// TestSchedulerFailover checks that an unreachable address is skipped for
// the next one, and that basic credentials in the URL are sent.
func TestSchedulerFailover(t *testing.T) {
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		auth = u + ":" + p
		fmt.Fprint(w, `{"deploymentId":"d-2","version":"v"}`)
	}))
	defer srv.Close()
	dead := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	c, err := newSchedulerClient(Config{Scheduler: dead + "," + strings.Replace(srv.URL, "http://", "http://ops:pw@", 1), App: "/app", HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Restart(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if res.DeploymentID != "d-2" || auth != "ops:pw" {
		t.Errorf("result %+v with credentials %q", res, auth)
	}

	c = &schedulerClient{bases: []string{"http://" + dead}, app: "/app", client: srv.Client()}
	if err := c.CheckApp(context.Background()); err == nil || !temporary(err) {
		t.Errorf("unreachable scheduler: %v, want a temporary error", err)
	}
}
