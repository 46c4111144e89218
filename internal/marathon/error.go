package marathon

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// Messages of Marathon's error bodies.
const (
	MsgInvalidJSON = "Invalid JSON"
	MsgNotValid    = "Object is not valid"
	MsgNoJSON      = "Please specify data in JSON format"
	MsgNoLeader    = "There is no leader"
)

// Play-JSON error codes reported in the details of an "Invalid JSON" body.
const (
	codeMissing  = "error.path.missing"
	codeString   = "error.expected.jsstring"
	codeNumber   = "error.expected.jsnumber"
	codeInt      = "error.expected.int"
	codeBool     = "error.expected.jsboolean"
	codeObject   = "error.expected.jsobject"
	codeArray    = "error.expected.jsarray"
	codeEnum     = "error.unknown.enum.literal"
	codeDate     = "error.expected.date.isoformat"
	codeNotValid = "error.invalid"
)

// Detail is one entry of an error body's "details": the JSON path of the
// offending value ("/container/docker/image", "/constraints(0)") and the
// messages or Play error codes for it.
type Detail struct {
	Path   string   `json:"path"`
	Errors []string `json:"errors"`
}

// DeploymentRef names a deployment in a 409 "locked" body.
type DeploymentRef struct {
	ID string `json:"id"`
}

// Error is an API error with Marathon's HTTP status and body:
//
//	{"message":"Object is not valid","details":[{"path":"/id","errors":["..."]}]}
//
// Details is omitted when empty. DetailText replaces Details for the bodies
// Marathon gives with a plain string (malformed JSON). Deployments is set
// only for 409 "App is locked by one or more deployments".
type Error struct {
	Status      int
	Message     string
	Details     []Detail
	DetailText  string
	Deployments []DeploymentRef
}

// Error implements error.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "marathon: %d %s", e.Status, e.Message)
	for _, d := range e.Details {
		fmt.Fprintf(&b, "; %s: %s", d.Path, strings.Join(d.Errors, ", "))
	}
	if e.DetailText != "" {
		fmt.Fprintf(&b, "; %s", e.DetailText)
	}
	return b.String()
}

// MarshalJSON renders Marathon's body for the error (not its status).
func (e *Error) MarshalJSON() ([]byte, error) {
	body := struct {
		Message     string          `json:"message"`
		Details     any             `json:"details,omitempty"`
		Deployments []DeploymentRef `json:"deployments,omitempty"`
	}{Message: e.Message, Deployments: e.Deployments}
	switch {
	case len(e.Details) > 0:
		body.Details = e.Details
	case e.DetailText != "":
		body.Details = e.DetailText
	}
	return json.Marshal(body)
}

// UnmarshalJSON reads a Marathon error body (client side); Status stays as
// set by the caller.
func (e *Error) UnmarshalJSON(b []byte) error {
	var body struct {
		Message     string          `json:"message"`
		Details     json.RawMessage `json:"details"`
		Deployments []DeploymentRef `json:"deployments"`
	}
	if err := json.Unmarshal(b, &body); err != nil {
		return err
	}
	e.Message, e.Deployments = body.Message, body.Deployments
	e.Details, e.DetailText = nil, ""
	if len(body.Details) > 0 && string(body.Details) != "null" {
		if err := json.Unmarshal(body.Details, &e.Details); err != nil {
			var s string
			if json.Unmarshal(body.Details, &s) == nil {
				e.DetailText = s
			}
		}
	}
	return nil
}

// Marathon's status for type errors in a well-formed body. Marathon 1.10
// (api/MarathonExceptionMapper.scala) answers 422 when every failing path
// has a Play validation error, which is always the case for type errors;
// malformed JSON is 400.
const statusInvalidJSON = http.StatusUnprocessableEntity

// InvalidJSON is the "Invalid JSON" error for a well-formed body whose
// values have the wrong types (Play error codes in details).
func InvalidJSON(details ...Detail) *Error {
	return &Error{Status: statusInvalidJSON, Message: MsgInvalidJSON, Details: details}
}

// MalformedJSON is the 400 "Invalid JSON" error for a body that is not JSON;
// text is the parser's message.
func MalformedJSON(text string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: MsgInvalidJSON, DetailText: text}
}

// NoJSON is the 400 error for an empty body.
func NoJSON() *Error {
	return &Error{Status: http.StatusBadRequest, Message: MsgNoJSON, DetailText: "No content to map due to end-of-input"}
}

// NotValid is the 422 "Object is not valid" error with its details.
func NotValid(details ...Detail) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Message: MsgNotValid, Details: details}
}

// Unprocessable is a 422 error with a plain message: Marathon's answer to
// an IllegalArgumentException (api/MarathonExceptionMapper.scala).
func Unprocessable(message string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Message: message}
}

// BadRequest is a 400 error with a plain message.
func BadRequest(message string) *Error {
	return &Error{Status: http.StatusBadRequest, Message: message}
}

// AccessDenied is the 403 of an authorization that fails: Marathon's
// authorizer plugins answer {"message": "Not Authorized to perform this
// action!"}.
func AccessDenied() *Error {
	return &Error{Status: http.StatusForbidden, Message: "Not Authorized to perform this action!"}
}

// AppNotFound is the 404 for an unknown app: "App '/x' does not exist".
func AppNotFound(id PathID) *Error {
	return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("App '%s' does not exist", id)}
}

// GroupNotFound is the 404 for an unknown group: "Group '/x' does not exist".
func GroupNotFound(id PathID) *Error {
	return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("Group '%s' does not exist", id)}
}

// TaskNotFound is the 404 for an unknown task id.
func TaskNotFound(taskID string) *Error {
	return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("Task '%s' does not exist", taskID)}
}

// DeploymentNotFound is the 404 for an unknown deployment id.
func DeploymentNotFound(id string) *Error {
	return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("DeploymentPlan %s does not exist", id)}
}

// AppExists is the 409 for creating an app whose id is taken.
func AppExists(id PathID) *Error {
	return &Error{Status: http.StatusConflict, Message: fmt.Sprintf("An app with id [%s] already exists.", id)}
}

// GroupExists is the 409 for creating a group whose id is taken.
func GroupExists(id PathID) *Error {
	return &Error{Status: http.StatusConflict, Message: fmt.Sprintf("A group with id [%s] already exists.", id)}
}

// AppLocked is the 409 for a change that conflicts with running deployments
// and was sent without force=true.
func AppLocked(deploymentIDs ...string) *Error {
	refs := make([]DeploymentRef, len(deploymentIDs))
	var links []string
	for i, id := range deploymentIDs {
		refs[i] = DeploymentRef{ID: id}
		links = append(links, "'/v2/deployments/"+id+"'")
	}
	msg := "App is locked by one or more deployments. Override with the option '?force=true'. View details at " + strings.Join(links, ", ") + "."
	return &Error{Status: http.StatusConflict, Message: msg, Deployments: refs}
}

// Unauthorized is the 401 for a request without valid credentials (the
// server adds WWW-Authenticate). Marathon leaves the body to its
// authentication plugin; Stadion answers in Marathon's error shape.
func Unauthorized() *Error {
	return &Error{Status: http.StatusUnauthorized, Message: "Not Authenticated"}
}

// UnsupportedMediaType is the 415 of a write whose body is not JSON: the
// reason phrase, as Marathon's exception mapper answers Jersey's
// rejection of a request that does not match @Consumes(application/json).
func UnsupportedMediaType() *Error {
	return &Error{Status: http.StatusUnsupportedMediaType, Message: "Unsupported Media Type"}
}

// NoLeader is the 404 of GET /v2/leader when no leader is known.
func NoLeader() *Error {
	return &Error{Status: http.StatusNotFound, Message: MsgNoLeader}
}

// reporter collects details keyed by path, in first-seen order of paths,
// without duplicate messages.
type reporter struct {
	order []string
	byKey map[string][]string
}

func (r *reporter) add(path string, msgs ...string) {
	if r.byKey == nil {
		r.byKey = map[string][]string{}
	}
	if path == "" {
		path = "/"
	}
	cur, seen := r.byKey[path]
	if !seen {
		r.order = append(r.order, path)
	}
next:
	for _, m := range msgs {
		for _, c := range cur {
			if c == m {
				continue next
			}
		}
		cur = append(cur, m)
	}
	r.byKey[path] = cur
}

func (r *reporter) empty() bool { return len(r.order) == 0 }

// details returns the collected details sorted by path.
func (r *reporter) details() []Detail {
	paths := append([]string(nil), r.order...)
	sort.Strings(paths)
	out := make([]Detail, 0, len(paths))
	for _, p := range paths {
		out = append(out, Detail{Path: p, Errors: r.byKey[p]})
	}
	return out
}
