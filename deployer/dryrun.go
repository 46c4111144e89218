package deployer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Change is what a deploy of a definition would do to the running app.
type Change string

// Changes, as Marathon decides them (marathon.IsUpgrade).
const (
	ChangeCreate  Change = "create"  // the app does not exist
	ChangeRestart Change = "restart" // config change: tasks are replaced
	ChangeScale   Change = "scale"   // instances only: no task restarts
	ChangeNone    Change = "none"    // nothing to deploy
)

// Plan is the result of a dry run.
type Plan struct {
	Change Change
	// Running is the version running now; zero for a create.
	Running marathon.Timestamp
	// Diff is a unified diff of the running definition and the rendered
	// one, both in canonical form with defaults filled; "" when equal.
	Diff string
}

// DryRun prints the definition and its diff against the running version
// and says what a deploy would do; it changes nothing.
func (d *Deployer) DryRun(ctx context.Context, def Definition) (Plan, error) {
	d.printDefinition(def)
	id := def.App.ID
	var plan Plan
	var running *marathon.App
	info, err := d.c.App(ctx, id)
	switch {
	case err == nil:
		running = &info.App
		plan.Running = info.Version
	case !IsStatus(err, http.StatusNotFound):
		return plan, fmt.Errorf("read %s: %w", id, err)
	}
	plan, err = plan.compare(def, running)
	if err != nil {
		return plan, err
	}
	switch plan.Change {
	case ChangeCreate:
		fmt.Fprintf(d.out, "stadion deploy: dry run: %s does not exist; deploy would create it\n", id)
	case ChangeNone:
		fmt.Fprintf(d.out, "stadion deploy: dry run: %s (version %s) already runs this definition; nothing to deploy\n", id, plan.Running)
	case ChangeScale:
		fmt.Fprintf(d.out, "stadion deploy: dry run: deploy would scale %s (version %s) without restarting tasks\n", id, plan.Running)
	default:
		fmt.Fprintf(d.out, "stadion deploy: dry run: deploy would replace the tasks of %s (version %s)\n", id, plan.Running)
	}
	if plan.Diff != "" {
		fmt.Fprint(d.out, plan.Diff)
	}
	return plan, nil
}

// compare fills the change and diff of def against running (nil: absent).
func (p Plan) compare(def Definition, running *marathon.App) (Plan, error) {
	next := def.App
	var cur marathon.App
	switch {
	case running == nil:
		p.Change = ChangeCreate
	default:
		// The API's answer carries legacy mirrors (ports,
		// container.docker.network): normalise them away.
		cur, _ = marathon.Normalize(*running, marathon.NormalizeOptions{})
		next = withServerChoices(next, cur, def.JSON)
		switch {
		case marathon.IsUpgrade(cur, next):
			p.Change = ChangeRestart
		case cur.Instances != next.Instances:
			p.Change = ChangeScale
		default:
			p.Change = ChangeNone
		}
	}
	before := ""
	if running != nil {
		b, err := comparableJSON(cur)
		if err != nil {
			return p, err
		}
		before = b
	}
	after, err := comparableJSON(next)
	if err != nil {
		return p, err
	}
	name := "(none)"
	if running != nil {
		name = fmt.Sprintf("%s version %s (running)", cur.ID, p.Running)
	}
	p.Diff = lineDiff(name, def.Source+" (rendered)", before, after)
	return p, nil
}

// withServerChoices gives next what the scheduler would keep of cur when
// the template leaves it open: service ports given as 0 keep their
// assigned numbers, and an absent role keeps the running app's (the
// scheduler's --mesos_role default). The diff then shows only what the
// deploy changes.
func withServerChoices(next, cur marathon.App, raw []byte) marathon.App {
	var top map[string]json.RawMessage
	if json.Unmarshal(raw, &top) == nil {
		if _, ok := top["role"]; !ok && cur.Role != "" {
			next.Role = cur.Role
		}
	}
	if len(next.PortDefinitions) > 0 {
		defs := append([]marathon.PortDefinition(nil), next.PortDefinitions...)
		for i := range defs {
			if defs[i].Port == 0 && i < len(cur.PortDefinitions) {
				defs[i].Port = cur.PortDefinitions[i].Port
			}
		}
		next.PortDefinitions = defs
	}
	if next.Container != nil && cur.Container != nil && len(next.Container.PortMappings) > 0 {
		c := *next.Container
		c.PortMappings = append([]marathon.PortMapping(nil), c.PortMappings...)
		for i := range c.PortMappings {
			if c.PortMappings[i].ServicePort == 0 && i < len(cur.Container.PortMappings) {
				c.PortMappings[i].ServicePort = cur.Container.PortMappings[i].ServicePort
			}
		}
		next.Container = &c
	}
	return next
}

// comparableJSON is the canonical JSON of a without its version, indented.
func comparableJSON(a marathon.App) (string, error) {
	a.Version, a.VersionInfo = marathon.Timestamp{}, nil
	b, err := marathon.CanonicalJSON(a)
	if err != nil {
		return "", fmt.Errorf("encode %s: %w", a.ID, err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "  "); err != nil {
		return "", err
	}
	return buf.String() + "\n", nil
}
