package local_test

import (
	"bytes"
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos/local"
)

// lockedBuffer is a bytes.Buffer safe for the cluster's goroutines.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestNilLoggerDiscards checks that a cluster without a Logger logs nowhere,
// in particular not to slog.Default: loggers are injected.
func TestNilLoggerDiscards(t *testing.T) {
	var logs lockedBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	c, err := local.Start(context.Background(), local.Config{WorkDir: t.TempDir()})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	c.Stop()
	if s := logs.String(); s != "" {
		t.Errorf("the cluster logged to slog.Default:\n%s", s)
	}
}
