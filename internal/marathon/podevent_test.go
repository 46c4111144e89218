package marathon

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPodEvents(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	for _, typ := range []EventType{EventPodCreated, EventPodUpdated, EventPodDeleted} {
		t.Run(string(typ), func(t *testing.T) {
			e := &PodEvent{ClientIP: "10.0.0.1", URI: "/v2/pods/web", EventMeta: Meta(typ, now)}
			b, err := json.Marshal(e)
			if err != nil {
				t.Fatal(err)
			}
			want := `{"clientIp":"10.0.0.1","uri":"/v2/pods/web","eventType":"` + string(typ) + `","timestamp":"2026-12-07T12:00:00.000Z"}`
			if string(b) != want {
				t.Errorf("encoded %s, want %s", b, want)
			}
			back, err := DecodeEvent(b)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(Event(e), back); diff != "" {
				t.Errorf("decode (-want +got):\n%s", diff)
			}
		})
	}
}
