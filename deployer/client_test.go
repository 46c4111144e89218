package deployer

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestClientConfigValidate(t *testing.T) {
	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{name: "http", url: "http://marathon:8080", ok: true},
		{name: "https with auth and prefix", url: "https://ci:secret@lb/marathon/", ok: true},
		{name: "empty", url: ""},
		{name: "no scheme", url: "marathon:8080"},
		{name: "zk", url: "zk://zk:2181/mesos"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ClientConfig{URL: tc.url}.Validate()
			if (err == nil) != tc.ok {
				t.Errorf("Validate(%q) = %v", tc.url, err)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("error shows the password: %v", err)
			}
		})
	}
}

// TestClientAnswers checks how answers the deploy depends on are read:
// Marathon's error bodies, other bodies, and the deployment id of a
// create, which only the header carries.
func TestClientAnswers(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Method+" "+r.URL.RequestURI())
		switch {
		case r.Method == http.MethodPost:
			w.Header().Set(marathon.DeploymentHeader, "d1")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(`{"id": "/web", "version": "2026-05-01T12:00:00.000Z", "deployments": [{"id": "d1"}]}`))
		case r.Method == http.MethodPut:
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"message": "App is locked by one or more deployments.", "deployments": [{"id": "d0"}]}`))
		default:
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>upstream down</html>"))
		}
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(ClientConfig{URL: srv.URL + "/"})
	if err != nil {
		t.Fatal(err)
	}

	res, err := c.CreateApp(t.Context(), []byte(`{}`), DeployOptions{Force: true, Queue: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := res.Result()
	if err != nil || r.DeploymentID != "d1" || r.Version.String() != "2026-05-01T12:00:00.000Z" {
		t.Errorf("create result %+v, %v", r, err)
	}

	_, err = c.UpdateApp(t.Context(), "web", []byte(`{}`), DeployOptions{}, false)
	var me *marathon.Error
	if !errors.As(err, &me) || me.Status != http.StatusConflict || len(me.Deployments) != 1 || me.Deployments[0].ID != "d0" || !IsStatus(err, 409) {
		t.Errorf("update error %#v", err)
	}

	_, err = c.Deployments(t.Context())
	if !errors.As(err, &me) || me.Status != http.StatusBadGateway || me.Message != "<html>upstream down</html>" {
		t.Errorf("deployments error %#v", err)
	}

	want := []string{
		"POST /v2/apps?force=true&queue=true",
		"PUT /v2/apps/web?partialUpdate=false",
		"GET /v2/deployments",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
