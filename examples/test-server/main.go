// Command test-server is the example service of the pipeline: a small HTTP
// server that shows what a task sees and whose health can be switched.
//
//	GET /            its environment, one KEY=value per line, sorted
//	GET /healthcheck 200 "OK" while healthy, 503 "FAILING" otherwise
//	GET /fail        turn unhealthy
//	GET /restore     turn healthy again
//
// It listens on $LISTEN_PORT, else $PORT0, else $PORT, else 3000. With
// LISTEN_ALL_PORTS=true it also serves the same handlers on every other port
// of $PORTS (the comma list of the task's ports), for apps with several
// ports. On SIGTERM it turns unhealthy but keeps serving until it is killed,
// so that balancers take it out before it goes (docs/pipeline.md).
//
// "test-server check" is its own Docker HEALTHCHECK (an image FROM scratch
// has no curl): it exits 0 when the server's /healthcheck on the same port
// answers 200, else 1.
package main

import (
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

func main() {
	port := firstSet("LISTEN_PORT", "PORT0", "PORT")
	if port == "" {
		port = "3000"
	}
	if len(os.Args) > 1 && os.Args[1] == "check" {
		os.Exit(check(port))
	}
	var failing atomic.Bool
	terms := make(chan os.Signal, 1)
	signal.Notify(terms, syscall.SIGTERM)
	go func() {
		for range terms {
			failing.Store(true)
		}
	}()

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		env := os.Environ()
		slices.Sort(env)
		for _, kv := range env {
			fmt.Fprintln(w, kv)
		}
	})
	mux.HandleFunc("GET /healthcheck", func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "FAILING", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "OK")
	})
	mux.HandleFunc("GET /fail", func(w http.ResponseWriter, r *http.Request) {
		failing.Store(true)
		fmt.Fprintln(w, "failing")
	})
	mux.HandleFunc("GET /restore", func(w http.ResponseWriter, r *http.Request) {
		failing.Store(false)
		fmt.Fprintln(w, "restored")
	})
	if os.Getenv("LISTEN_ALL_PORTS") == "true" {
		for _, p := range strings.Split(os.Getenv("PORTS"), ",") {
			if p = strings.TrimSpace(p); p != "" && p != port {
				go serve(p, mux)
			}
		}
	}
	serve(port, mux)
}

// check asks the server on port for /healthcheck: 0 when it answers 200.
func check(port string) int {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port + "/healthcheck")
	if err != nil {
		fmt.Println(err)
		return 1
	}
	resp.Body.Close()
	fmt.Println(resp.Status)
	if resp.StatusCode != http.StatusOK {
		return 1
	}
	return 0
}

// serve serves mux on port; the server exits when it cannot.
func serve(port string, mux *http.ServeMux) {
	if err := http.ListenAndServe(":"+port, mux); err != nil {
		fmt.Fprintln(os.Stderr, "test-server:", err)
		os.Exit(1)
	}
}

func firstSet(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}
