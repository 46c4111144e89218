package registrator

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/stadionhq/stadion/internal/marathon"
)

// ErrBadApp marks an app of a snapshot that could not be read; it is
// skipped and its registrations are kept.
var ErrBadApp = errors.New("registrator: unreadable app")

// Snapshot is the scheduler's apps with their tasks, and its pods with
// their instances, at one moment, as GET /v2/apps?embed=apps.tasks and
// GET /v2/pods/::status return them.
type Snapshot struct {
	// Apps are normalised (legacy fields of older Marathons moved to the
	// canonical ones).
	Apps []marathon.AppInfo
	// Pods are the pods with their instances, as GET /v2/pods/::status
	// returns them (none from a scheduler without pods).
	Pods []marathon.PodStatus
	// Bad are the apps and pods that could not be read, with ErrBadApp.
	Bad []Skip
}

// DecodeSnapshot reads a /v2/apps body. Each app is read on its own: one
// that does not decode is listed in Bad, not fatal to the others. Only a
// body that is not {"apps": [...]} is an error.
func DecodeSnapshot(body []byte) (Snapshot, error) {
	var list struct {
		Apps []json.RawMessage `json:"apps"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return Snapshot{}, fmt.Errorf("decode apps: %w", err)
	}
	if list.Apps == nil {
		return Snapshot{}, errors.New(`decode apps: no "apps" list`)
	}
	snap := Snapshot{Apps: make([]marathon.AppInfo, 0, len(list.Apps))}
	for _, raw := range list.Apps {
		var app marathon.AppInfo
		if err := json.Unmarshal(raw, &app); err != nil {
			var id struct {
				ID marathon.PathID `json:"id"`
			}
			_ = json.Unmarshal(raw, &id) // best effort, for the log
			snap.Bad = append(snap.Bad, Skip{AppID: id.ID, Err: fmt.Errorf("%w: %v", ErrBadApp, err)})
			continue
		}
		// Normalize always returns the canonical app; its error only says
		// that legacy and canonical fields disagreed, and the canonical
		// ones won, which is what a reader wants.
		app.App, _ = marathon.Normalize(app.App, marathon.NormalizeOptions{})
		snap.Apps = append(snap.Apps, app)
	}
	return snap, nil
}
