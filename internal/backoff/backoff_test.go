package backoff

import (
	"context"
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	b := New(100*time.Millisecond, time.Second)
	caps := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i, c := range caps {
		c *= time.Millisecond
		d := b.Next()
		if d < c/2 || d >= c {
			t.Errorf("delay %d = %v, want in [%v, %v)", i, d, c/2, c)
		}
	}
	b.Reset()
	if d := b.Next(); d >= 100*time.Millisecond {
		t.Errorf("after Reset delay %v, want below the minimum %v", d, 100*time.Millisecond)
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Sleep(ctx, time.Hour); err != context.Canceled {
		t.Fatalf("Sleep = %v, want context.Canceled", err)
	}
	if err := Sleep(context.Background(), time.Millisecond); err != nil {
		t.Fatalf("Sleep = %v, want nil", err)
	}
}
