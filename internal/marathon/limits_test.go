package marathon

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deepID returns an absolute id of n elements "a".
func deepID(n int) PathID { return PathID(strings.Repeat("/a", n)) }

// longID returns an absolute id of exactly n characters in elements of at
// most 60.
func longID(n int) PathID {
	var b strings.Builder
	for b.Len() < n {
		seg := min(60, n-b.Len()-1)
		if seg < 1 {
			// One character left: lengthen the previous element.
			b.WriteString("b")
			break
		}
		b.WriteString("/" + strings.Repeat("b", seg))
	}
	return PathID(b.String())
}

// labelsOf returns n labels whose keys and values total bytes (at least
// n*2 bytes).
func labelsOf(n, bytes int) map[string]string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("k%d", i)] = ""
	}
	used := 0
	for k := range m {
		used += len(k)
	}
	m["k0"] = strings.Repeat("v", bytes-used)
	return m
}

// envOf is labelsOf for env.
func envOf(n, bytes int) map[string]EnvVar {
	env := map[string]EnvVar{}
	for k, v := range labelsOf(n, bytes) {
		env[k] = EnvVar{Value: v}
	}
	return env
}

// notValid checks that err is the 422 "Object is not valid" error and
// returns its details as path -> errors (nil for a nil err).
func notValid(t *testing.T, err error) map[string][]string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	if e.Status != http.StatusUnprocessableEntity || e.Message != MsgNotValid {
		t.Fatalf("error %d %q, want 422 %q", e.Status, e.Message, MsgNotValid)
	}
	return details(t, err)
}

func TestAppLimits(t *testing.T) {
	sleeper := func(edit func(a *App)) App {
		a := NewApp("/web")
		a.Cmd = "sleep 60"
		if edit != nil {
			edit(&a)
		}
		return a
	}
	tests := []struct {
		name string
		app  App
		opts NormalizeOptions
		want map[string][]string
	}{
		{name: "within every limit", app: sleeper(nil)},
		{name: "instances at the default limit", app: sleeper(func(a *App) { a.Instances = DefaultMaxInstances })},
		{name: "instances over the default limit", app: sleeper(func(a *App) { a.Instances = DefaultMaxInstances + 1 }),
			want: map[string][]string{"/instances": {msgMaxInstances(DefaultMaxInstances)}}},
		{name: "a billion instances", app: sleeper(func(a *App) { a.Instances = 1_000_000_000 }),
			want: map[string][]string{"/instances": {msgMaxInstances(DefaultMaxInstances)}}},
		{name: "instances at a flag's limit", app: sleeper(func(a *App) { a.Instances = 5 }), opts: NormalizeOptions{MaxInstances: 5}},
		{name: "instances over a flag's limit", app: sleeper(func(a *App) { a.Instances = 6 }), opts: NormalizeOptions{MaxInstances: 5},
			want: map[string][]string{"/instances": {"is greater than 5, the most instances of one app (--max_instances_per_app)"}}},
		{name: "no instance limit", app: sleeper(func(a *App) { a.Instances = 1_000_000_000 }), opts: NormalizeOptions{MaxInstances: -1}},
		{name: "id of the longest length", app: sleeper(func(a *App) { a.ID = longID(MaxIDLength) })},
		{name: "id one character too long", app: sleeper(func(a *App) { a.ID = longID(MaxIDLength + 1) }),
			want: map[string][]string{"/id": {msgIDLength}}},
		{name: "id of 10,000 characters", app: sleeper(func(a *App) { a.ID = PathID("/" + strings.Repeat("c", 9999)) }),
			want: map[string][]string{"/id": {msgIDLength}}},
		{name: "id of the greatest depth", app: sleeper(func(a *App) { a.ID = deepID(MaxIDDepth) })},
		{name: "id one element too deep", app: sleeper(func(a *App) { a.ID = deepID(MaxIDDepth + 1) }),
			want: map[string][]string{"/id": {msgIDDepth}}},
		{name: "id 5,000 elements deep", app: sleeper(func(a *App) { a.ID = deepID(5000) }),
			want: map[string][]string{"/id": {msgIDLength, msgIDDepth}}},
		{name: "dependency too long", app: sleeper(func(a *App) { a.Dependencies = []PathID{longID(MaxIDLength + 1)} }),
			want: map[string][]string{"/dependencies(0)": {msgIDLength}}},
		{name: "labels at the limits", app: sleeper(func(a *App) { a.Labels = labelsOf(MaxLabels, MaxLabelBytes) })},
		{name: "one label too many", app: sleeper(func(a *App) { a.Labels = labelsOf(MaxLabels+1, MaxLabels*8) }),
			want: map[string][]string{"/labels": {msgLabels}}},
		{name: "labels one byte too large", app: sleeper(func(a *App) { a.Labels = labelsOf(1, MaxLabelBytes+1) }),
			want: map[string][]string{"/labels": {msgLabelB}}},
		{name: "env at the limits", app: sleeper(func(a *App) { a.Env = envOf(MaxEnv, MaxEnvBytes) })},
		{name: "one variable too many", app: sleeper(func(a *App) { a.Env = envOf(MaxEnv+1, MaxEnv*8) }),
			want: map[string][]string{"/env": {msgEnv}}},
		{name: "env one byte too large", app: sleeper(func(a *App) { a.Env = envOf(3, MaxEnvBytes+1) }),
			want: map[string][]string{"/env": {msgEnvB}}},
		{name: "secret references count", app: sleeper(func(a *App) {
			a.Env = map[string]EnvVar{"S": {Secret: strings.Repeat("s", MaxEnvBytes)}}
			a.Secrets = map[string]Secret{strings.Repeat("s", MaxEnvBytes): {Source: "consul:x"}}
		}), want: map[string][]string{"/env": {msgEnvB}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Admit(tc.app, tc.opts)
			if diff := cmp.Diff(tc.want, notValid(t, err)); diff != "" {
				t.Errorf("Admit details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestValidateAppIDLimits covers the ids in URLs (PUT /v2/apps/{id}).
func TestValidateAppIDLimits(t *testing.T) {
	tests := []struct {
		name string
		id   PathID
		want map[string][]string
	}{
		{name: "longest", id: longID(MaxIDLength)},
		{name: "too long", id: longID(MaxIDLength + 1), want: map[string][]string{"/id": {msgIDLength}}},
		{name: "too deep", id: deepID(MaxIDDepth + 1), want: map[string][]string{"/id": {msgIDDepth}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, notValid(t, ValidateAppID(tc.id))); diff != "" {
				t.Errorf("ValidateAppID details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLongestIDGivesMesosTaskIDs checks the arithmetic of MaxIDLength: the
// task id of the longest id, at the largest incarnation kept room for,
// passes Mesos's id rules (validateID: at most 255 characters, no slash,
// no control character, not "." or "..").
func TestLongestIDGivesMesosTaskIDs(t *testing.T) {
	if MaxIDLength != 194 {
		t.Errorf("MaxIDLength = %d, want 194", MaxIDLength)
	}
	deepest := deepID(MaxIDDepth - 1)
	deepest += PathID("/" + strings.Repeat("x", MaxIDLength-len(deepest)-1))
	for _, id := range []PathID{longID(MaxIDLength), deepest} {
		if len(id) != MaxIDLength {
			t.Fatalf("test id %q has %d characters", id, len(id))
		}
		app := NewApp(id)
		app.Cmd = "x"
		if err := Validate(app); err != nil {
			t.Fatalf("Validate(%s): %v", id, err)
		}
		taskID := TaskIDForInstance(NewInstanceID(id), 9_999_999_999)
		if len(taskID) != mesosMaxID {
			t.Errorf("task id %q has %d characters, want %d", taskID, len(taskID), mesosMaxID)
		}
		if strings.ContainsAny(taskID, "/\\") || strings.ContainsFunc(taskID, func(r rune) bool { return r < ' ' || r == 0x7f }) {
			t.Errorf("task id %q has characters Mesos refuses", taskID)
		}
		if got, _, err := ParseTaskID(taskID); err != nil || got != id {
			t.Errorf("ParseTaskID(%q) = %q, %v; want %q", taskID, got, err, id)
		}
	}
}

// nestedGroups returns a group body nesting depth groups below a top group
// "top" ({"id":"top","groups":[{"id":"a","groups":[...]}]}).
func nestedGroups(depth int) string {
	return `{"id":"top"` + strings.Repeat(`,"groups":[{"id":"a"`, depth) + strings.Repeat("}]", depth) + "}"
}

// wideGroups returns a group body with n groups below "top".
func wideGroups(n int) string {
	gs := make([]string, n)
	for i := range gs {
		gs[i] = fmt.Sprintf(`{"id":"g%d"}`, i)
	}
	return `{"id":"top","groups":[` + strings.Join(gs, ",") + "]}"
}

func TestGroupLimits(t *testing.T) {
	nestedPath := func(levels int) string {
		return strings.Repeat("/groups(0)", levels) + "/groups"
	}
	tests := []struct {
		name string
		body string
		opts NormalizeOptions
		// decode holds the details of DecodeGroup, admit those of
		// AdmitGroup (run only when decoding succeeds).
		decode, admit map[string][]string
	}{
		{name: "deepest nesting", body: nestedGroups(MaxIDDepth - 1)},
		{name: "nesting one level too deep for the ids", body: nestedGroups(MaxIDDepth),
			admit: map[string][]string{nestedPath(MaxIDDepth-1) + "(0)/id": {msgIDDepth}}},
		{name: "nesting deeper than ids can go", body: nestedGroups(MaxIDDepth + 1),
			decode: map[string][]string{nestedPath(MaxIDDepth): {"must not nest more than 32 levels deep"}}},
		// 4,000 levels: encoding/json refuses more than 10,000 nested
		// values as malformed (400) before our check.
		{name: "4,000 levels", body: nestedGroups(4000),
			decode: map[string][]string{nestedPath(MaxIDDepth): {"must not nest more than 32 levels deep"}}},
		{name: "most groups", body: wideGroups(MaxGroupsPerRequest)},
		{name: "one group too many", body: wideGroups(MaxGroupsPerRequest + 1),
			decode: map[string][]string{"/groups": {msgGroups}}},
		{name: "group id too long", body: `{"id":"` + string(longID(MaxIDLength+1)) + `"}`,
			admit: map[string][]string{"/id": {msgIDLength}}},
		{name: "app of a group over the instance limit", body: `{"id":"top","groups":[{"id":"g","apps":[{"id":"web","cmd":"x","instances":6}]}]}`,
			opts:  NormalizeOptions{MaxInstances: 5},
			admit: map[string][]string{"/groups(0)/apps(0)/instances": {msgMaxInstances(5)}}},
		{name: "app of a group with too many labels", body: `{"id":"top","apps":[{"id":"web","cmd":"x","labels":` + mustJSON(t, labelsOf(MaxLabels+1, MaxLabels*8)) + `}]}`,
			admit: map[string][]string{"/apps(0)/labels": {msgLabels}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g, err := DecodeGroup([]byte(tc.body))
			if diff := cmp.Diff(tc.decode, notValid(t, err)); diff != "" {
				t.Fatalf("DecodeGroup details (-want +got):\n%s", diff)
			}
			if err != nil {
				return
			}
			_, err = AdmitGroup(g, tc.opts)
			if diff := cmp.Diff(tc.admit, notValid(t, err)); diff != "" {
				t.Errorf("AdmitGroup details (-want +got):\n%s", diff)
			}
		})
	}
}

// TestGroupUpdateLimits: PUT /v2/groups bodies are bounded as POST's.
func TestGroupUpdateLimits(t *testing.T) {
	_, err := DecodeGroupUpdate([]byte(wideGroups(MaxGroupsPerRequest + 1)))
	if diff := cmp.Diff(map[string][]string{"/groups": {msgGroups}}, notValid(t, err)); diff != "" {
		t.Errorf("DecodeGroupUpdate details (-want +got):\n%s", diff)
	}
	// A tree built in Go is counted by AdmitGroup.
	g := Group{ID: "/top"}
	for i := range MaxGroupsPerRequest + 1 {
		g.Groups = append(g.Groups, Group{ID: PathID(fmt.Sprintf("g%d", i))})
	}
	_, err = AdmitGroup(g, NormalizeOptions{})
	if diff := cmp.Diff(map[string][]string{"/groups": {msgGroups}}, notValid(t, err)); diff != "" {
		t.Errorf("AdmitGroup details (-want +got):\n%s", diff)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestScaledInstances(t *testing.T) {
	scaleErr := func(id string, limit int) map[string][]string {
		return map[string][]string{"/scaleBy": {fmt.Sprintf("would scale %s to more than %d instances, the most instances of one app (--max_instances_per_app)", id, limit)}}
	}
	tests := []struct {
		name      string
		instances int
		factor    float64
		opts      NormalizeOptions
		want      int
		errs      map[string][]string
	}{
		{name: "rounds up", instances: 3, factor: 1.5, want: 5},
		{name: "to zero", instances: 3, factor: 0, want: 0},
		{name: "up to the limit", instances: 50_000, factor: 2, want: DefaultMaxInstances},
		{name: "beyond the limit", instances: 60_000, factor: 2, errs: scaleErr("/web", DefaultMaxInstances)},
		{name: "a factor beyond int", instances: 1, factor: 1e300, errs: scaleErr("/web", DefaultMaxInstances)},
		{name: "beyond a flag's limit", instances: 3, factor: 2, opts: NormalizeOptions{MaxInstances: 5}, errs: scaleErr("/web", 5)},
		{name: "a stored app above the limit scales down", instances: 12, factor: 0.5, opts: NormalizeOptions{MaxInstances: 5}, want: 6},
		{name: "a stored app above the limit stays", instances: 12, factor: 1, opts: NormalizeOptions{MaxInstances: 5}, want: 12},
		{name: "a stored app above the limit cannot grow", instances: 12, factor: 1.1, opts: NormalizeOptions{MaxInstances: 5}, errs: scaleErr("/web", 5)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := NewApp("/web")
			app.Instances = tc.instances
			got, err := ScaledInstances(app, tc.factor, tc.opts)
			if diff := cmp.Diff(tc.errs, notValid(t, err)); diff != "" {
				t.Fatalf("ScaledInstances details (-want +got):\n%s", diff)
			}
			if err == nil && got != tc.want {
				t.Errorf("ScaledInstances = %d, want %d", got, tc.want)
			}
		})
	}
}

// TestCheckLimits: a stored definition beyond the limits (a revert to a
// version older than the limits) is named field by field; Load never
// calls this.
func TestCheckLimits(t *testing.T) {
	tests := []struct {
		name string
		edit func(a *App)
		opts NormalizeOptions
		want map[string][]string
	}{
		{name: "within", edit: func(a *App) {}},
		{name: "everything beyond", opts: NormalizeOptions{MaxInstances: 5}, edit: func(a *App) {
			a.ID = deepID(MaxIDDepth + 1)
			a.Instances = 6
			a.Labels = labelsOf(MaxLabels+1, MaxLabels*8)
			a.Env = envOf(MaxEnv+1, MaxEnv*8)
		}, want: map[string][]string{
			"/id": {msgIDDepth}, "/instances": {msgMaxInstances(5)}, "/labels": {msgLabels}, "/env": {msgEnv},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := NewApp("/web")
			tc.edit(&app)
			if diff := cmp.Diff(tc.want, notValid(t, CheckLimits(app, tc.opts))); diff != "" {
				t.Errorf("CheckLimits details (-want +got):\n%s", diff)
			}
		})
	}
}
