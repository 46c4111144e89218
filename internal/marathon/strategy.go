package marathon

import (
	"encoding/json"
	"strings"
)

// UpgradeStrategy bounds capacity during a rolling upgrade; both values are
// fractions of instances in [0, 1].
//
// ProgressDeadlineSeconds and RollbackOnFailure are Stadion's, not
// Marathon's, and are written only when set: a deployment of the app that
// makes no progress (no new instance turning healthy and ready, no step
// finishing) for ProgressDeadlineSeconds fails (0: the server's
// --deployment_progress_deadline), and then rolls back to the versions it
// replaced when RollbackOnFailure is true (nil: the server's
// --deployment_rollback_on_failure).
type UpgradeStrategy struct {
	MinimumHealthCapacity   float64 `json:"minimumHealthCapacity"`
	MaximumOverCapacity     float64 `json:"maximumOverCapacity"`
	ProgressDeadlineSeconds int     `json:"progressDeadlineSeconds,omitempty"`
	RollbackOnFailure       *bool   `json:"rollbackOnFailure,omitempty"`
}

// DefaultUpgradeStrategy is {1, 1} (state/UpgradeStrategy.scala).
func DefaultUpgradeStrategy() UpgradeStrategy {
	return UpgradeStrategy{MinimumHealthCapacity: 1, MaximumOverCapacity: 1}
}

// UnmarshalJSON applies the defaults to absent members.
func (u *UpgradeStrategy) UnmarshalJSON(b []byte) error {
	type plain UpgradeStrategy
	p := plain(DefaultUpgradeStrategy())
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*u = UpgradeStrategy(p)
	return nil
}

// UnreachableStrategy is "disabled" or {inactiveAfterSeconds,
// expungeAfterSeconds}: after InactiveAfterSeconds an unreachable task is
// replaced, after ExpungeAfterSeconds it is killed if it comes back.
type UnreachableStrategy struct {
	Disabled             bool
	InactiveAfterSeconds int
	ExpungeAfterSeconds  int
}

// unreachableDisabled is the wire literal of a disabled strategy.
const unreachableDisabled = "disabled"

// DefaultUnreachableStrategy is {0, 0} (state/UnreachableStrategy.scala).
func DefaultUnreachableStrategy() UnreachableStrategy { return UnreachableStrategy{} }

type unreachableObject struct {
	InactiveAfterSeconds int `json:"inactiveAfterSeconds"`
	ExpungeAfterSeconds  int `json:"expungeAfterSeconds"`
}

// MarshalJSON writes "disabled" or the object.
func (u UnreachableStrategy) MarshalJSON() ([]byte, error) {
	if u.Disabled {
		return json.Marshal(unreachableDisabled)
	}
	return json.Marshal(unreachableObject{u.InactiveAfterSeconds, u.ExpungeAfterSeconds})
}

// UnmarshalJSON reads "disabled" or the object (absent members 0).
func (u *UnreachableStrategy) UnmarshalJSON(b []byte) error {
	*u = UnreachableStrategy{}
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		u.Disabled = strings.EqualFold(s, unreachableDisabled)
		return nil
	}
	var o unreachableObject
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	u.InactiveAfterSeconds, u.ExpungeAfterSeconds = o.InactiveAfterSeconds, o.ExpungeAfterSeconds
	return nil
}

func (UnreachableStrategy) checkJSON(v any, path string, r *reporter) {
	switch t := v.(type) {
	case string:
		if !strings.EqualFold(t, unreachableDisabled) {
			r.add(path, codeEnum)
		}
	case map[string]any:
		checkValueOf[unreachableObject](t, path, r)
	default:
		r.add(path, codeObject)
	}
}
