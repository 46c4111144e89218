package state

import (
	"errors"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/marathon"
)

func TestChangeValidate(t *testing.T) {
	v := marathon.NewTimestamp(time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC))
	app := func(id marathon.PathID, version marathon.Timestamp) marathon.App {
		a := marathon.NewApp(id)
		a.Version = version
		return a
	}
	tests := []struct {
		name    string
		change  Change
		invalid bool
	}{
		{name: "empty", change: Change{}},
		{name: "valid", change: Change{
			PutApps:        []marathon.App{app("/web", v)},
			PutGroups:      []Group{{ID: "/", Version: v}},
			PutInstances:   []Instance{{ID: "web.instance-1"}},
			PutDeployments: []Deployment{{ID: "d1"}},
			DeleteApps:     []marathon.PathID{"/old"},
		}},
		{name: "app without version", change: Change{PutApps: []marathon.App{app("/web", marathon.Timestamp{})}}, invalid: true},
		{name: "relative app id", change: Change{PutApps: []marathon.App{app("web", v)}}, invalid: true},
		{name: "root app id", change: Change{PutApps: []marathon.App{app("/", v)}}, invalid: true},
		{name: "group without version", change: Change{PutGroups: []Group{{ID: "/g"}}}, invalid: true},
		{name: "instance without id", change: Change{PutInstances: []Instance{{AppID: "/web"}}}, invalid: true},
		{name: "deployment without id", change: Change{PutDeployments: []Deployment{{}}}, invalid: true},
		{name: "empty delete", change: Change{DeleteInstances: []string{""}}, invalid: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.change.Validate()
			if got := errors.Is(err, ErrInvalidChange); got != tc.invalid {
				t.Errorf("Validate() = %v, want invalid %v", err, tc.invalid)
			}
		})
	}
}
