package marathon

import (
	"encoding/json"
	"testing"
	"time"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestTimestamp(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "millis", in: `"2015-09-17T09:32:36.583Z"`, want: `"2015-09-17T09:32:36.583Z"`},
		{name: "no fraction gets .000", in: `"2015-09-17T09:32:36Z"`, want: `"2015-09-17T09:32:36.000Z"`},
		{name: "micros truncated", in: `"2015-09-17T09:32:36.583999Z"`, want: `"2015-09-17T09:32:36.583Z"`},
		{name: "offset converted to UTC", in: `"2015-09-17T11:32:36.583+02:00"`, want: `"2015-09-17T09:32:36.583Z"`},
		{name: "offset without colon", in: `"2015-09-17T11:32:36.583+0200"`, want: `"2015-09-17T09:32:36.583Z"`},
		{name: "null is zero", in: `null`, want: `null`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ts Timestamp
			if err := json.Unmarshal([]byte(tc.in), &ts); err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(ts)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}
