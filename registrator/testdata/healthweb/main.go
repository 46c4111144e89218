// Command healthweb is the container of the Docker source's tests: an HTTP
// server on $LISTEN_PORT (default 8080), and on every port of $PORTS (a
// comma list) too, that answers "ok <hostname>" on / and whose
// /healthcheck fails after GET /fail. Run as "healthweb check" it is its
// own Docker HEALTHCHECK: exit 0 when its /healthcheck answers 200.
package main

import (
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

func main() {
	port := os.Getenv("LISTEN_PORT")
	if port == "" {
		port = "8080"
	}
	if len(os.Args) > 1 && os.Args[1] == "check" {
		os.Exit(check(port))
	}
	var failing atomic.Bool
	host, _ := os.Hostname()
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintf(w, "ok %s\n", host) })
	mux.HandleFunc("/fail", func(w http.ResponseWriter, r *http.Request) { failing.Store(true) })
	mux.HandleFunc("/healthcheck", func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "FAILING", http.StatusServiceUnavailable)
		}
	})
	for _, p := range strings.Split(os.Getenv("PORTS"), ",") {
		if p = strings.TrimSpace(p); p != "" && p != port {
			go serve(p, mux)
		}
	}
	serve(port, mux)
}

func serve(port string, mux *http.ServeMux) {
	if err := http.ListenAndServe(":"+port, mux); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func check(port string) int {
	c := http.Client{Timeout: 2 * time.Second}
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
