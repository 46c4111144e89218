package marathon

import "fmt"

// codeMinLength is Play's code for a string shorter than its RAML
// minLength.
const codeMinLength = "error.minLength"

// checkAppCmd reports an app's "cmd" given as "" at path/cmd: Marathon's
// RAML gives cmd minLength 1, so its reader refuses the empty string
// before validation (422 "Invalid JSON", error.minLength). After decoding
// "" is indistinguishable from an absent cmd, hence the check on the raw
// value.
func checkAppCmd(v any, path string, r *reporter) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	if s, ok := m["cmd"].(string); ok && s == "" {
		r.add(path+"/cmd", codeMinLength)
	}
}

// checkAppsCmd runs checkAppCmd on every element of an array of apps.
func checkAppsCmd(v any, path string, r *reporter) {
	apps, ok := v.([]any)
	if !ok {
		return
	}
	for i, a := range apps {
		checkAppCmd(a, fmt.Sprintf("%s(%d)", path, i), r)
	}
}

// checkGroupCmd runs checkAppCmd on every app of a group tree, with the
// paths NormalizeGroup reports ("/groups(0)/apps(1)/cmd").
func checkGroupCmd(v any, path string, r *reporter) {
	m, ok := v.(map[string]any)
	if !ok {
		return
	}
	checkAppsCmd(m["apps"], path+"/apps", r)
	if groups, ok := m["groups"].([]any); ok {
		for i, g := range groups {
			checkGroupCmd(g, fmt.Sprintf("%s/groups(%d)", path, i), r)
		}
	}
}
