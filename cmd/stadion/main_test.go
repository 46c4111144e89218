package main

import (
	"bytes"
	"context"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets tests run this test binary as the stadion command itself
// (STADION_TEST_MAIN=1), so that process tests need no separate build.
func TestMain(m *testing.M) {
	if os.Getenv("STADION_TEST_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

func TestHelp(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      map[string]string
		code     int
		contains []string
	}{
		{name: "top level", args: []string{"--help"}, code: exitOK, contains: []string{"mesos master", "mesos agent", "state check", "state export", "version"}},
		{name: "no command", args: nil, code: exitUsage, contains: []string{"Usage: stadion <command>"}},
		{name: "master", args: []string{"mesos", "master", "--help"}, code: exitOK, contains: []string{"-ip", "-port", "-hostname", "-work_dir", "-zk"}},
		{name: "agent", args: []string{"mesos", "agent", "--help"}, code: exitOK, contains: []string{"-master", "-ip", "-port", "-hostname", "-work_dir", "-resources", "-attributes", "-containerizers", "-switch_user", "MESOS_SWITCH_USER"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: exitUsage, contains: []string{`unknown command "frobnicate"`}},
		{name: "mesos alone", args: []string{"mesos"}, code: exitUsage, contains: []string{`expected "master", "agent" or "local"`}},
		{name: "serve", args: []string{"serve", "--help"}, code: exitOK, contains: []string{"-mesos_user", "MARATHON_MESOS_USER"}},
		{name: "state check", args: []string{"state", "check", "--help"}, code: exitOK, contains: []string{"-data_dir", "MARATHON_DATA_DIR", "-zk", "MARATHON_ZK", "-zk_timeout", "exits 0"}},
		{name: "state export", args: []string{"state", "export", "--help"}, code: exitOK, contains: []string{"-data_dir", "MARATHON_DATA_DIR", "-zk", "raw bytes"}},
		{name: "state alone", args: []string{"state"}, code: exitUsage, contains: []string{`expected "check" or "export"`}},
		{name: "serve init", args: []string{"serve", "--help"}, code: exitOK, contains: []string{"-init", "MARATHON_INIT"}},
		{name: "bad flag", args: []string{"mesos", "master", "--no-such-flag"}, code: exitUsage, contains: []string{"no-such-flag"}},
		{name: "serve instance limit", args: []string{"serve", "--help"}, code: exitOK,
			contains: []string{"-max_instances_per_app", "(env MARATHON_MAX_INSTANCES_PER_APP) (default 100000)"}},
		{name: "serve instance limit zero", args: []string{"serve", "--master", "local", "--max_instances_per_app", "0"}, code: exitUsage,
			contains: []string{"--max_instances_per_app must be at least 1"}},
		{name: "serve instance limit from env", args: []string{"serve", "--master", "local"}, env: map[string]string{"MARATHON_MAX_INSTANCES_PER_APP": "-5"},
			code: exitUsage, contains: []string{"--max_instances_per_app must be at least 1"}},
		{name: "serve local resources", args: []string{"serve", "--help"}, code: exitOK,
			contains: []string{"-local_resources", "MARATHON_LOCAL_RESOURCES", "127.0.0.2, 127.0.0.3"}},
		{name: "serve bad local resources", args: []string{"serve", "--master", "local", "--local_resources", "cpus:many"}, code: exitUsage,
			contains: []string{"--local_resources:"}},
		{name: "serve instance limit bad env", args: []string{"serve", "--master", "local"}, env: map[string]string{"MARATHON_MAX_INSTANCES_PER_APP": "many"},
			code: exitUsage, contains: []string{`MARATHON_MAX_INSTANCES_PER_APP="many": not an integer`}},
		{name: "files tokens", args: []string{"serve", "--help"}, code: exitOK,
			contains: []string{"-mesos_agent_files_token_file", "MARATHON_MESOS_AGENT_FILES_TOKEN_FILE"}},
		{name: "agent files token", args: []string{"mesos", "agent", "--help"}, code: exitOK, contains: []string{"-files_token_file", "MESOS_FILES_TOKEN_FILE"}},
		{name: "agent files token missing", args: []string{"mesos", "agent", "--master", "127.0.0.1:1", "--work_dir", "/tmp", "--files_token_file", "/nonexistent/token"},
			code: exitUsage, contains: []string{"--files_token_file:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var out bytes.Buffer
			code := run(context.Background(), tc.args, &out, &out)
			if code != tc.code {
				t.Errorf("exit code %d, want %d; output:\n%s", code, tc.code, out.String())
			}
			for _, s := range tc.contains {
				if !strings.Contains(out.String(), s) {
					t.Errorf("output lacks %q:\n%s", s, out.String())
				}
			}
		})
	}
}

// TestHelpValueNames checks every command's flag list: the flag package
// takes a back-quoted word of a usage string as the flag's value name, so
// a usage that quotes a command line prints it where the value's type
// belongs ("-files_token_file stadion serve --...").
func TestHelpValueNames(t *testing.T) {
	types := map[string]bool{"string": true, "int": true, "uint": true, "float": true, "duration": true, "value": true, "int64": true, "uint64": true}
	flagLine := regexp.MustCompile(`^  -(\S+)(?: (.*))?$`)
	for _, cmd := range [][]string{
		{"serve"}, {"deploy"}, {"deploy", "gen"}, {"wrap"}, {"registrator"}, {"jobs"},
		{"mesos", "master"}, {"mesos", "agent"}, {"mesos", "local"}, {"state", "check"}, {"state", "export"},
	} {
		t.Run(strings.Join(cmd, " "), func(t *testing.T) {
			var out bytes.Buffer
			if code := run(context.Background(), append(cmd, "--help"), &out, &out); code != exitOK {
				t.Fatalf("exit code %d:\n%s", code, out.String())
			}
			flags := 0
			for _, line := range strings.Split(out.String(), "\n") {
				m := flagLine.FindStringSubmatch(line)
				if m == nil {
					continue
				}
				flags++
				if m[2] != "" && !types[m[2]] {
					t.Errorf("flag -%s shows value name %q", m[1], m[2])
				}
			}
			if flags == 0 {
				t.Errorf("no flags listed:\n%s", out.String())
			}
		})
	}
}
