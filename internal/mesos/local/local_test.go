package local_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestNilLoggerDiscards checks that a cluster without a Logger logs nowhere,
// in particular not to slog.Default: loggers are injected.
func TestNilLoggerDiscards(t *testing.T) {
	var logs testenv.Buffer
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
