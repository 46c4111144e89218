package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/acl"
)

const aliceACL = "principals:\n  - principal: alice\n    permissions: [{allowed: view, on: /team-a}]\n"

func writeACL(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestReloadACL calls what the SIGHUP handler calls: a good file replaces
// the ACL, a bad one is logged with its line and leaves the ACL in force.
func TestReloadACL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acl.yaml")
	writeACL(t, path, aliceACL)
	first, err := acl.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	h := acl.NewHolder(first)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	writeACL(t, path, "principals:\n  - principal: bob\n    permissions: [{allowed: view, on: /team-b}]\n  - principal: carol\n    permissions: []\n")
	reloadACL(h, path, log)
	if !h.Load().Allows("bob", acl.View, "/team-b/x") || h.Load().Allows("alice", acl.View, "/team-a") {
		t.Fatalf("after a good reload the new file should be in force")
	}
	if !strings.Contains(logs.String(), `msg="acl reloaded"`) || !strings.Contains(logs.String(), "principals=2") {
		t.Errorf("log of a good reload:\n%s", logs.String())
	}

	logs.Reset()
	writeACL(t, path, "principals:\n  - principal: bob\n    permissions: [{allowed: view, on: team-b}]\n")
	reloadACL(h, path, log)
	if !h.Load().Allows("bob", acl.View, "/team-b/x") {
		t.Errorf("a bad file replaced the ACL in force")
	}
	for _, want := range []string{"level=ERROR", `msg="acl reload failed, keeping the acl in force"`, "line 3 column 39", "principals[0].permissions[0].on"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log of a failed reload lacks %q:\n%s", want, logs.String())
		}
	}
}

func TestServeRefusesBadACLFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acl.json")
	writeACL(t, path, `{"principals": [{"principal": "a", "permissions": [{"allowed": "frob", "on": "/"}]}]}`)
	var out bytes.Buffer
	code := run(context.Background(), []string{"serve", "--master", "local", "--acl_file", path}, &out, &out)
	if code != exitUsage {
		t.Errorf("exit code %d, want %d", code, exitUsage)
	}
	if want := `principals[0].permissions[0].allowed: unknown action "frob"`; !strings.Contains(out.String(), want) {
		t.Errorf("output %q lacks %q", out.String(), want)
	}
	t.Setenv("MARATHON_ACL_FILE", path+".missing")
	out.Reset()
	if code := run(context.Background(), []string{"serve", "--master", "local"}, &out, &out); code != exitUsage || !strings.Contains(out.String(), "no such file") {
		t.Errorf("MARATHON_ACL_FILE of a missing file: exit %d, output %q", code, out.String())
	}
}

// TestServeReloadsACLOnSIGHUP sends SIGHUP to a `stadion serve` process:
// it reloads the file, survives a bad one, and its API stays under the
// ACL (without authentication there is no principal: everything is 403).
func TestServeReloadsACLOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "acl.yaml")
	writeACL(t, path, aliceACL)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "serve", "--master", "local", "--local_containerizers", "simulated", "--hostname", "127.0.0.1",
		"--http_address", "127.0.0.1", "--http_port", "0", "--data_dir", filepath.Join(dir, "data"), "--acl_file", path)
	cmd.Env = append(os.Environ(), "STADION_TEST_MAIN=1")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	lines := make(chan string, 1000)
	go scanLines(stderr, lines, t)
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), "Marathon API on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
	}()
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	var url string
	select {
	case url = <-urls:
	case <-exited:
		t.Fatal("serve exited before listening")
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not print its URL")
	}
	waitLine(t, lines, `msg="acl loaded"`, "principals=1")
	if code := statusOf(t, url+"/v2/apps"); code != http.StatusForbidden {
		t.Errorf("GET /v2/apps without a principal under an ACL: %d, want 403", code)
	}

	writeACL(t, path, aliceACL+"  - principal: bob\n    permissions: [{allowed: view, on: /team-b}]\n")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, `msg="acl reloaded"`, "principals=2")

	writeACL(t, path, "principals: [")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitLine(t, lines, `msg="acl reload failed, keeping the acl in force"`)
	select {
	case <-exited:
		t.Fatal("serve exited after a bad reload")
	default:
	}
	if code := statusOf(t, url+"/v2/apps"); code != http.StatusForbidden {
		t.Errorf("GET /v2/apps after a failed reload: %d, want 403", code)
	}
}

func scanLines(r io.Reader, lines chan<- string, t *testing.T) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		select {
		case lines <- sc.Text():
		default:
		}
	}
}

// waitLine waits for a log line holding every one of parts.
func waitLine(t *testing.T, lines <-chan string, parts ...string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-lines:
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l, p)
			}
			if ok {
				return
			}
		case <-deadline:
			t.Fatalf("no log line with %q", parts)
		}
	}
}

func statusOf(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
