package marathon

import (
	"encoding/json"
	"strings"
	"time"
)

// timestampLayout is Marathon's version and timestamp format: ISO-8601 in
// UTC with millisecond precision and a Z suffix.
const timestampLayout = "2006-01-02T15:04:05.000Z"

// Timestamp is a point in time on the wire, as in "2015-09-17T09:32:36.583Z".
// App versions are Timestamps: two versions are equal when their strings are.
// The zero Timestamp is "unset" and is omitted with omitzero.
type Timestamp struct {
	time.Time
}

// NewTimestamp truncates t to Marathon's millisecond precision, in UTC.
func NewTimestamp(t time.Time) Timestamp {
	return Timestamp{t.UTC().Truncate(time.Millisecond)}
}

// ParseTimestamp reads an ISO-8601 date-time with any fractional precision
// and zone, as Marathon accepts for versions in URLs and bodies.
func ParseTimestamp(s string) (Timestamp, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		// Marathon also accepts a zone without a colon (+0000).
		t2, err2 := time.Parse("2006-01-02T15:04:05.999999999Z0700", s)
		if err2 != nil {
			return Timestamp{}, err
		}
		t = t2
	}
	return NewTimestamp(t), nil
}

// String renders the wire form; the zero Timestamp renders as "".
func (t Timestamp) String() string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timestampLayout)
}

// MarshalJSON renders the wire form, or null for the zero Timestamp.
func (t Timestamp) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.String())
}

// UnmarshalJSON accepts a date-time string or null (zero).
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*t = Timestamp{}
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseTimestamp(strings.TrimSpace(s))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// checkJSON reports Play's error codes for a value that is not a date-time.
func (Timestamp) checkJSON(v any, path string, r *reporter) {
	s, ok := v.(string)
	if !ok {
		r.add(path, codeString)
		return
	}
	if _, err := ParseTimestamp(s); err != nil {
		r.add(path, codeDate)
	}
}
