package marathon

import (
	"fmt"
	"math"
	"strconv"
)

// Limits on what a client may define (issue 14): Marathon has none of
// these, and each guards against input that Stadion accepted and could not
// live with: an instance count that exhausts memory on every start, an id
// whose task ids Mesos refuses (so the deployment never ends), a group path
// so deep that rendering /v2/groups never finishes.
//
// The limits hold when a definition is written (POST, PUT, PATCH, group
// scaleBy, a revert to a stored version); they are never applied when state
// is loaded. A record stored before a limit existed therefore loads and is
// scheduled as stored: an app above the instance limit keeps its count, an
// app with more labels or env than the limits runs with them, and an app
// whose id is too long keeps failing its launches, because Mesos refuses
// its task ids (TASK_ERROR, "ID must not be greater than 255 characters"),
// until it is deleted. Deleting, restarting and scaling such an app down
// (group scaleBy) work; a PUT or PATCH of it must bring the whole
// definition within the limits, and the 422 names the fields that are not.
const (
	// DefaultMaxInstances is the default of --max_instances_per_app: the
	// most instances of one app. It is the scale target of the whole
	// cluster (100,000 instances), so one app may use all of it.
	DefaultMaxInstances = 100_000

	// mesosMaxID is the longest id Mesos accepts (NAME_MAX; validateID in
	// src/common/validation.cpp). A command task's executor has the task's
	// id, and the agent names the executor's sandbox directory after it.
	mesosMaxID = 255
	// uuidLength is the length of the UUID of an instance id.
	uuidLength = 36
	// maxIncarnationDigits is the room kept at the end of a task id for
	// the launch counter: ten digits, ten billion launches.
	maxIncarnationDigits = 10

	// MaxIDLength is the longest canonical app or group id, leading slash
	// included. The task id of an app is its id without the leading slash
	// (slashes become underscores), ".instance-", a UUID, "._app." and the
	// incarnation (TaskIDForInstance), so every task id of an app whose
	// id has this length fits in mesosMaxID: 194 characters.
	MaxIDLength = mesosMaxID - len(instanceMarker) - uuidLength - len("."+appContainer+".") - maxIncarnationDigits + 1
	// MaxIDDepth is the most path elements of an app or group id, and so
	// the deepest group nesting: the group tree is built and rendered per
	// element.
	MaxIDDepth = 32
	// MaxGroupsPerRequest bounds the groups of one POST or PUT
	// /v2/groups body, at every level together: each becomes a stored
	// group record.
	MaxGroupsPerRequest = 1000

	// MaxLabels and MaxLabelBytes bound an app's labels (bytes of keys
	// and values together). Labels travel in every TaskInfo and become
	// MARATHON_APP_LABEL_* variables of every task.
	MaxLabels     = 256
	MaxLabelBytes = 64 << 10
	// MaxEnv and MaxEnvBytes bound an app's env (bytes of names and values
	// together; a secret reference counts its name). Every variable is
	// passed to execve of every task, where Linux limits one variable to
	// 128 KiB and arguments and environment together to ARG_MAX (2 MiB
	// with the default stack limit); 64 KiB of app env plus the label
	// variables (at most about 256 KiB) stay well inside both.
	MaxEnv      = 512
	MaxEnvBytes = 64 << 10

	// MaxPodContainers bounds the containers of one pod: each is a task
	// of every instance's task group.
	MaxPodContainers = 64
)

// maxInstances is the instance limit of opts.
func (o NormalizeOptions) maxInstances() int {
	switch {
	case o.MaxInstances < 0:
		return math.MaxInt
	case o.MaxInstances == 0:
		return DefaultMaxInstances
	}
	return o.MaxInstances
}

// Messages of the limits, shared with tests.
func msgMaxInstances(limit int) string {
	return "is greater than " + strconv.Itoa(limit) + ", the most instances of one app (--max_instances_per_app)"
}

var (
	msgIDLength = fmt.Sprintf("must not be longer than %d characters: longer ids give task ids over Mesos's limit of %d", MaxIDLength, mesosMaxID)
	msgIDDepth  = fmt.Sprintf("must not have more than %d path elements", MaxIDDepth)
	msgLabels   = fmt.Sprintf("must not have more than %d entries", MaxLabels)
	msgLabelB   = fmt.Sprintf("must not hold more than %d bytes of keys and values", MaxLabelBytes)
	msgEnv      = fmt.Sprintf("must not have more than %d entries", MaxEnv)
	msgEnvB     = fmt.Sprintf("must not hold more than %d bytes of names and values", MaxEnvBytes)
	msgGroups   = fmt.Sprintf("must not hold more than %d groups in one request", MaxGroupsPerRequest)
	// msgPodContainers and msgPodTaskID are the pod limits.
	msgPodContainers = fmt.Sprintf("must not have more than %d entries", MaxPodContainers)
	msgPodTaskID     = fmt.Sprintf("together with the pod id gives task ids over Mesos's limit of %d characters", mesosMaxID)
)

// podTaskIDFits reports whether every task id of container name in pod id
// fits in Mesos's limit: "<prefix>.instance-<uuid>.<name>.<incarnation>".
func podTaskIDFits(id PathID, name string) bool {
	return len(id.TaskPrefix())+len(instanceMarker)+uuidLength+1+len(name)+1+maxIncarnationDigits <= mesosMaxID
}

// idLimitErrors returns the limit messages of a canonical id.
func idLimitErrors(p PathID) []string {
	var errs []string
	if len(p) > MaxIDLength {
		errs = append(errs, msgIDLength)
	}
	if depthOver(p, MaxIDDepth) {
		errs = append(errs, msgIDDepth)
	}
	return errs
}

// depthOver reports whether p has more than max path elements, without
// splitting it.
func depthOver(p PathID, max int) bool {
	n, prev := 0, byte('/')
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '/' && prev == '/' {
			if n++; n > max {
				return true
			}
		}
		prev = c
	}
	return false
}

// validateLimits reports the app's instances, labels and env beyond the
// limits (the id is checked with the id rules).
func validateLimits(a App, p string, maxInstances int, r *reporter) {
	if a.Instances > maxInstances {
		r.add(p+"/instances", msgMaxInstances(maxInstances))
	}
	if len(a.Labels) > MaxLabels {
		r.add(p+"/labels", msgLabels)
	}
	n := 0
	for k, v := range a.Labels {
		n += len(k) + len(v)
	}
	if n > MaxLabelBytes {
		r.add(p+"/labels", msgLabelB)
	}
	if len(a.Env) > MaxEnv {
		r.add(p+"/env", msgEnv)
	}
	n = 0
	for k, v := range a.Env {
		n += len(k) + len(v.Value) + len(v.Secret)
	}
	if n > MaxEnvBytes {
		r.add(p+"/env", msgEnvB)
	}
}

// CheckLimits returns a 422 *Error when app, stored earlier, is beyond the
// limits of opts: for writes that put back a stored definition (a revert
// to an older version), which the limits may postdate.
func CheckLimits(app App, opts NormalizeOptions) error {
	var r reporter
	if errs := idLimitErrors(app.ID.Canonical()); len(errs) > 0 {
		r.add("/id", errs...)
	}
	validateLimits(app, "", opts.maxInstances(), &r)
	if r.empty() {
		return nil
	}
	return NotValid(r.details()...)
}

// ScaledInstances returns the instance count of app scaled by factor
// (rounded up, as Marathon's group scaleBy), or a 422 *Error at path
// "/scaleBy" when that grows the app beyond the instance limit of opts.
// Scaling never fails for a count that does not grow, so a stored app
// above a lowered limit can be scaled down step by step.
func ScaledInstances(app App, factor float64, opts NormalizeOptions) (int, error) {
	limit := opts.maxInstances()
	scaled := float64(app.Instances) * factor
	// Compare as floats: a huge factor must not wrap around in int.
	if scaled > float64(limit) && scaled > float64(app.Instances) {
		return 0, NotValid(Detail{Path: "/scaleBy", Errors: []string{fmt.Sprintf(
			"would scale %s to more than %d instances, the most instances of one app (--max_instances_per_app)", app.ID, limit)}})
	}
	return int(math.Ceil(scaled)), nil
}

// checkGroupShape bounds the nesting and the number of groups of a decoded
// group body (the generic JSON value) before it is type-checked, whose
// cost grows with the square of the depth: a body may nest groups at most
// MaxIDDepth deep (each level adds an element to the group id) and hold at
// most MaxGroupsPerRequest groups.
func checkGroupShape(v any) error {
	count := 0
	var walk func(v any, path string, depth int) error
	walk = func(v any, path string, depth int) error {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		gs, ok := m["groups"].([]any)
		if !ok || len(gs) == 0 {
			return nil
		}
		if depth >= MaxIDDepth {
			return NotValid(Detail{Path: path + "/groups", Errors: []string{fmt.Sprintf("must not nest more than %d levels deep", MaxIDDepth)}})
		}
		if count += len(gs); count > MaxGroupsPerRequest {
			return NotValid(Detail{Path: "/groups", Errors: []string{msgGroups}})
		}
		for i, g := range gs {
			if err := walk(g, fmt.Sprintf("%s/groups(%d)", path, i), depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	return walk(v, "", 0)
}

// countGroups reports whether the tree below g holds more than max groups.
func countGroups(g Group, max int) bool {
	n := 0
	var walk func(g Group) bool
	walk = func(g Group) bool {
		n += len(g.Groups)
		if n > max {
			return true
		}
		for _, c := range g.Groups {
			if walk(c) {
				return true
			}
		}
		return false
	}
	return walk(g)
}
