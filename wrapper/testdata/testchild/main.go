// Command testchild is the command the wrapper tests run under `stadion
// wrap`.
//
//	testchild serve [-addr host:port] [-term-exit N] [-ignore-term]
//
// serves GET /env (its environment as a JSON object), GET /signals (the
// signals it received, in order) and GET /health on -addr (default
// $HOST:$PORT0, else $PORT; 127.0.0.1 without $HOST). SIGTERM makes it exit with -term-exit,
// unless -ignore-term.
//
//	testchild orphan -release FILE [serve flags]
//
// first leaves an orphan behind: it starts an intermediate process that
// starts `testchild linger FILE` and exits at once, so the linger process is
// reparented to the nearest subreaper or to PID 1. Then it serves as above.
// The orphan exits once FILE exists.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: testchild serve|orphan|spawn|linger ...")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:], "")
	case "orphan":
		err = serve(os.Args[2:], "orphan")
	case "spawn":
		// The intermediate: start the linger process, then exit at once.
		err = exec.Command(self(), append([]string{"linger"}, os.Args[2:]...)...).Start()
	case "linger":
		err = linger(os.Args[2])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "testchild:", err)
		os.Exit(1)
	}
}

func serve(args []string, mode string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	port := os.Getenv("PORT0")
	if port == "" {
		port = os.Getenv("PORT")
	}
	// As a task it listens where its scheduler says it runs ($HOST: the
	// built-in cluster's agents each have a loopback address of their own).
	host := os.Getenv("HOST")
	if host == "" {
		host = "127.0.0.1"
	}
	addr := fs.String("addr", net.JoinHostPort(host, port), "listen address")
	termExit := fs.Int("term-exit", 0, "exit code on SIGTERM")
	ignoreTerm := fs.Bool("ignore-term", false, "ignore SIGTERM")
	release := fs.String("release", "", "orphan: the file whose creation ends the orphan")
	fs.Parse(args)

	if mode == "orphan" {
		if *release == "" {
			return errors.New("orphan needs -release")
		}
		spawn := exec.Command(self(), "spawn", *release)
		spawn.Stdout, spawn.Stderr = os.Stdout, os.Stderr
		if err := spawn.Run(); err != nil {
			return fmt.Errorf("spawn the orphan: %w", err)
		}
	}

	var mu sync.Mutex
	var got []string
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /env", func(w http.ResponseWriter, r *http.Request) {
		env := map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		json.NewEncoder(w).Encode(env)
	})
	mux.HandleFunc("GET /signals", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewEncoder(w).Encode(append([]string{}, got...))
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok", os.Getpid())
	})
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	go http.Serve(l, mux)

	for sig := range sigs {
		mu.Lock()
		got = append(got, sig.(syscall.Signal).String())
		mu.Unlock()
		if sig == syscall.SIGTERM && !*ignoreTerm {
			os.Exit(*termExit)
		}
	}
	return nil
}

// self is the path of this executable.
func self() string {
	p, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return p
}

// linger waits until the file exists, then exits.
func linger(file string) error {
	for {
		if _, err := os.Stat(file); err == nil {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
}
