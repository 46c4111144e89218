package state

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
)

// Kind names a kind of stored record.
type Kind string

// Record kinds, as `stadion state check` and the logs name them.
const (
	KindApp        Kind = "app"
	KindPod        Kind = "pod"
	KindGroup      Kind = "group"
	KindInstance   Kind = "instance"
	KindDeployment Kind = "deployment"
)

// SetAside names a stored record that Load could not decode. The record
// stays where it is in the store, untouched, and Load goes on with the
// rest, so that one damaged record does not keep the scheduler from
// starting; `stadion state check` lists it and `stadion state export`
// dumps its bytes. It never carries the record's contents: they may hold
// secrets.
type SetAside struct {
	Kind Kind   `json:"kind"`
	ID   string `json:"id"`
	// Version is the app or group version, when the record is one.
	Version string `json:"version,omitempty"`
	// Where is the record's place in the store: "bucket/key/..." in
	// bbolt, the node path in ZooKeeper. The stores' Raw reads it.
	Where string `json:"where"`
	// Error says why it cannot be decoded, without its contents.
	Error string `json:"error"`
}

func (r SetAside) String() string {
	v := ""
	if r.Version != "" {
		v = " version " + r.Version
	}
	return fmt.Sprintf("%s %s%s (%s): %s", r.Kind, r.ID, v, r.Where, r.Error)
}

// DecodeError is returned when one stored record cannot be decoded, e.g.
// by AppVersion for an old version; errors.As finds the record.
type DecodeError struct {
	Record SetAside
}

func (e *DecodeError) Error() string { return "state: cannot decode " + e.Record.String() }

// quoted matches JSON strings and Go-quoted values in an error text.
var quoted = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// DescribeDecodeError says why a record did not decode without quoting
// the record: json's syntax and type errors are rewritten from their
// fields, and quoted values in any other error are elided.
func DescribeDecodeError(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("invalid JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			field = "(top level)"
		}
		return fmt.Sprintf("field %s: a JSON %s does not fit %s", field, typ.Value, typ.Type)
	}
	return quoted.ReplaceAllString(err.Error(), `"…"`)
}
