// Command webserver is a tiny static HTTP server for DOCKER task tests: it
// answers every request with "ok <hostname>" on $LISTEN_PORT, else $PORT,
// else 8080. (Marathon's $PORT is the host port; a bridged container
// listens on its container port, given as LISTEN_PORT.)
package main

import (
	"fmt"
	"net/http"
	"os"
)

func main() {
	port := os.Getenv("LISTEN_PORT")
	if port == "" {
		port = os.Getenv("PORT")
	}
	if port == "" {
		port = "8080"
	}
	host, _ := os.Hostname()
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "ok %s\n", host)
	})
	if err := http.ListenAndServe(":"+port, nil); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
