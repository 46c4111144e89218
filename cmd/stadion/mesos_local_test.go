package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

func TestMesosLocalFlags(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		contains string
	}{
		{name: "no agents", args: []string{"--agents", "0"}, contains: "--agents 0"},
		{name: "unknown containerizer", args: []string{"--containerizers", "lxc"}, contains: `unknown containerizer "lxc"`},
		{name: "mesos with simulated", args: []string{"--containerizers", "mesos,simulated"}, contains: "exclude each other"},
		{name: "bad resources", args: []string{"--resources", "cpus:x"}, contains: "cpus:x"},
		{name: "arguments", args: []string{"extra"}, contains: "unexpected arguments"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			code := run(context.Background(), append([]string{"mesos", "local"}, tc.args...), &out, &out)
			if code != exitUsage || !strings.Contains(out.String(), tc.contains) {
				t.Errorf("exit code %d, output %q; want %d and %q", code, out.String(), exitUsage, tc.contains)
			}
		})
	}
}

// TestMesosLocal starts a master and three simulated agents, checks that
// the master knows them, and stops the cluster through the context.
func TestMesosLocal(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testenv.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"mesos", "local", "--port", "0", "--agents", "3", "--containerizers", "simulated",
			"--resources", "cpus:2;mem:1024;disk:1024;ports:[31000-31010]", "--work_dir", t.TempDir()}, &stdout, &stderr)
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(stdout.String(), "\n") {
		select {
		case code := <-done:
			t.Fatalf("exited with %d: %s", code, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("no URL printed; stderr: %s", stderr.String())
		}
	}
	url := strings.TrimSpace(stdout.String())
	resp, err := http.Get(url + "/master/state")
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		ActivatedSlaves int `json:"activated_slaves"`
	}
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.ActivatedSlaves != 3 {
		t.Errorf("activated_slaves %d, want 3", st.ActivatedSlaves)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("exit code %d after the context ended, want %d", code, exitOK)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("did not stop after the context ended")
	}
}
