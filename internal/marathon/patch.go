package marathon

import (
	"bytes"
	"encoding/json"
	"reflect"
)

// MergePatch applies a partial update (PATCH /v2/apps/{id}, and PUT with
// partialUpdate=true) to current: every top-level field present in patch
// replaces the current one entirely; absent and null fields keep their
// current value. The id, version and versionInfo of the patch are ignored. A legacy
// field in the patch replaces its canonical counterpart ("ports" clears
// "portDefinitions", "uris" clears "fetch", "ipAddress" or a container
// with docker.network clears "networks"). The result is decoded with
// DecodeAppUpdate's strictness; normalise and validate it before storing.
// current should be normalised.
func MergePatch(current App, patch []byte) (App, error) {
	// Type-check the patch alone first, so error paths are the patch's.
	if _, err := DecodeAppUpdate(patch); err != nil {
		return App{}, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimSpace(patch), &fields); err != nil {
		return App{}, InvalidJSON(Detail{Path: "/", Errors: []string{codeObject}})
	}
	baseJSON, err := CanonicalJSON(current)
	if err != nil {
		return App{}, err
	}
	var base map[string]json.RawMessage
	if err := json.Unmarshal(baseJSON, &base); err != nil {
		return App{}, err
	}
	for _, k := range []string{"id", "version", "versionInfo"} {
		delete(fields, k)
	}
	// A null field is absent, as in Marathon's AppUpdate readers
	// (readNullable): it keeps the current value. go-marathon's scale
	// sends {"instances": n, "ports": null, "dependencies": null}.
	for k, v := range fields {
		if string(bytes.TrimSpace(v)) == "null" {
			delete(fields, k)
		}
	}
	if _, ok := fields["ports"]; ok {
		if _, canon := fields["portDefinitions"]; !canon {
			delete(base, "portDefinitions")
		}
	}
	if _, ok := fields["uris"]; ok {
		if _, canon := fields["fetch"]; !canon {
			delete(base, "fetch")
		}
	}
	if _, canon := fields["networks"]; !canon {
		if _, ok := fields["ipAddress"]; ok || containerHasDockerNetwork(fields["container"]) {
			delete(base, "networks")
		}
	}
	for k, v := range fields {
		base[k] = v
	}
	merged, err := json.Marshal(base)
	if err != nil {
		return App{}, err
	}
	app, err := DecodeAppUpdate(merged)
	if err != nil {
		return App{}, err
	}
	app.ID = current.ID
	app.Version = current.Version
	app.VersionInfo = current.VersionInfo
	return app, nil
}

func containerHasDockerNetwork(raw json.RawMessage) bool {
	var c struct {
		Docker *struct {
			Network string `json:"network"`
		} `json:"docker"`
	}
	if len(raw) == 0 || json.Unmarshal(raw, &c) != nil {
		return false
	}
	return c.Docker != nil && c.Docker.Network != ""
}

// IsUpgrade reports whether changing old into new needs a restart of the
// tasks (RestartApplication) rather than only a scale (ScaleApplication):
// true when anything but instances, version and versionInfo differs, as
// Marathon's AppDefinition.isUpgrade. Both apps should be normalised.
func IsUpgrade(old, new App) bool {
	return !reflect.DeepEqual(upgradeKey(old), upgradeKey(new))
}

// IsScaleOnly reports whether old and new differ in instances only.
func IsScaleOnly(old, new App) bool {
	return !IsUpgrade(old, new) && old.Instances != new.Instances
}

// upgradeKey is the canonical JSON of the fields that make an upgrade,
// decoded into a generic value so that nil and empty collections compare
// equal.
func upgradeKey(a App) any {
	a.Instances = 0
	a.Version = Timestamp{}
	a.VersionInfo = nil
	b, err := CanonicalJSON(a)
	if err != nil {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return nil
	}
	return v
}
