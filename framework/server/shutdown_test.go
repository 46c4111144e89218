package server_test

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stadionhq/stadion/framework/server"
)

// TestShutdownEndsEventStreamsCleanly stops the server with a client on
// /v2/events: the stream must end with the final chunk of its chunked
// body (a clean EOF), not be cut (io.ErrUnexpectedEOF), and before
// Shutdown gives up on it.
func TestShutdownEndsEventStreamsCleanly(t *testing.T) {
	t.Parallel()
	srv, err := server.Start(context.Background(), testConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	<-srv.Scheduler().Ready()

	ctx, cancel := context.WithTimeout(context.Background(), waitFor)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/v2/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK || len(res.TransferEncoding) == 0 || res.TransferEncoding[0] != "chunked" {
		t.Fatalf("GET /v2/events: %d, transfer encoding %v; want 200 chunked", res.StatusCode, res.TransferEncoding)
	}
	body := bufio.NewReader(res.Body)
	for {
		line, err := body.ReadString('\n')
		if err != nil {
			t.Fatalf("read the stream before the shutdown: %v", err)
		}
		if strings.HasPrefix(line, "event: event_stream_attached") {
			break
		}
	}

	stopped := time.Now()
	go srv.Stop()
	if _, err := io.Copy(io.Discard, body); err != nil {
		t.Fatalf("the stream ended with %v at shutdown, want a clean end of the body", err)
	}
	// Shutdown gives up after 5s and cuts what is left; a clean end
	// comes at once.
	if d := time.Since(stopped); d > 3*time.Second {
		t.Fatalf("the stream ended %v after the shutdown started", d)
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("Wait: %v", err)
	}
}
