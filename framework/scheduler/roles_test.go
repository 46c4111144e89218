package scheduler_test

import (
	"fmt"
	"log/slog"
	"testing"

	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/mesos"
)

// TestStoredStarRoleMigrates: an app that an earlier Stadion stored with
// role "*" while --mesos_role was another role ran under that role in
// Mesos. A scheduler with --mesos_role reads it as that role, and its
// running tasks stay (no restart) and show it.
func TestStoredStarRoleMigrates(t *testing.T) {
	h := start(t)
	app := sleeper("/legacy", 1)
	if app.Role != "*" {
		t.Fatalf("stored role %q, want *", app.Role)
	}
	h.deploy(app)
	h.wait("1 running", running("/legacy", 1))
	before := h.sched.View().App("/legacy").Instances

	h.stop()
	det, err := mesos.StaticDetector(h.cluster.URL())
	if err != nil {
		t.Fatal(err)
	}
	h.runWith(slog.New(slog.NewTextHandler(testWriter{t}, nil)), det, func(c *scheduler.Config) { c.Role = "stadion" })
	h.wait("the app read with --mesos_role, its task kept", func(v *scheduler.View) error {
		if err := running("/legacy", 1)(v); err != nil {
			return err
		}
		a := v.App("/legacy")
		if a.App.Role != "stadion" {
			return fmt.Errorf("app role %q", a.App.Role)
		}
		if !containsTask(before, a.Instances[0].TaskID) {
			return fmt.Errorf("new task %s", a.Instances[0].TaskID)
		}
		if got := scheduler.TaskOf(a.App, a.Instances[0]).Role; got != "stadion" {
			return fmt.Errorf("task role %q", got)
		}
		return nil
	})
}
