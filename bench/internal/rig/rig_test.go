package rig

import (
	"testing"
	"time"
)

func TestProcess(t *testing.T) {
	dir := t.TempDir()
	first := make(chan string, 1)
	p, err := Start("/bin/sh", dir, "echo", []string{"-c", "echo url; echo a; echo b"}, first)
	if err != nil {
		t.Fatal(err)
	}
	if got := <-first; got != "url" {
		t.Errorf("first line %q, want url", got)
	}
	select {
	case <-p.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the process did not end")
	}
	if p.Err() != nil || !p.Exited() {
		t.Fatalf("Err %v, Exited %v", p.Err(), p.Exited())
	}
	if got := p.Tail(2); got != "a\nb" {
		t.Errorf("Tail(2) = %q, want a, b: every line copied before Done", got)
	}

	sleeper, err := Start("/bin/sh", dir, "sleeper", []string{"-c", "exec sleep 60"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sleeper.Stop(5 * time.Second)
	if !sleeper.Exited() || sleeper.Err() == nil {
		t.Fatalf("after Stop: Exited %v, Err %v; want ended by SIGTERM", sleeper.Exited(), sleeper.Err())
	}
}

func TestReadMachine(t *testing.T) {
	m := ReadMachine()
	if m.Cores < 1 || m.Go == "" {
		t.Fatalf("ReadMachine() = %+v", m)
	}
}
