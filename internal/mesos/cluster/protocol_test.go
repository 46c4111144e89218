package cluster

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPost(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		var p Ping
		if !Decode(w, r, &p) {
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "content type", http.StatusUnsupportedMediaType)
			return
		}
		w.Write([]byte(`{"agent_id":"` + p.AgentID + `","master_id":"m"}`))
	})
	mux.HandleFunc("POST /gone", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "unknown agent", http.StatusNotFound)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	tests := []struct {
		name     string
		path     string
		in       any
		wantID   string
		wantCode int
	}{
		{name: "decodes the answer", path: "/echo", in: Ping{AgentID: "a1"}, wantID: "a1"},
		{name: "non-2xx is a StatusError", path: "/gone", in: Ping{}, wantCode: http.StatusNotFound},
		{name: "bad request body is 400", path: "/echo", in: "not an object", wantCode: http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out Registered
			err := Post(context.Background(), srv.Client(), srv.URL, tc.path, "", tc.in, &out)
			var se *StatusError
			switch {
			case tc.wantCode != 0:
				if !errors.As(err, &se) || se.Code != tc.wantCode {
					t.Fatalf("err = %v, want status %d", err, tc.wantCode)
				}
				if !strings.Contains(se.Error(), "status") {
					t.Errorf("error text %q", se.Error())
				}
			case err != nil:
				t.Fatal(err)
			case out.AgentID != tc.wantID:
				t.Fatalf("agent id %q, want %q", out.AgentID, tc.wantID)
			}
		})
	}
}
