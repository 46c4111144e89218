package registrator

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSSEReader(t *testing.T) {
	tests := []struct {
		name   string
		stream string
		// want are "name:data" of the events read before the end.
		want    []string
		wantErr error
	}{
		{
			name:   "marathon frames",
			stream: "event: status_update_event\ndata: {\"a\":1}\n\nevent: health_status_changed_event\ndata: {\"b\":2}\n\n",
			want:   []string{"status_update_event:{\"a\":1}", "health_status_changed_event:{\"b\":2}"},
		},
		{
			name:   "keep-alives, comments, CRLF and fields without space",
			stream: "\r\n\r\n: hello\r\nevent:x\r\ndata:1\r\n\r\n\r\n",
			want:   []string{"x:1"},
		},
		{
			name:   "several data lines join with newlines; id and retry ignored",
			stream: "id: 7\nretry: 100\nevent: x\ndata: a\ndata: b\n\n",
			want:   []string{"x:a\nb"},
		},
		{
			name:   "an event without data is no event, its name does not leak",
			stream: "event: x\n\ndata: 2\n\n",
			want:   []string{":2"},
		},
		{
			name:    "an event cut off by the end is dropped",
			stream:  "event: x\ndata: 1\n\nevent: y\ndata: 2\n",
			want:    []string{"x:1"},
			wantErr: io.EOF,
		},
		{
			name:    "a line longer than the buffer",
			stream:  "event: big\ndata: " + strings.Repeat("z", 200<<10) + "\n\n",
			want:    []string{"big:" + strings.Repeat("z", 200<<10)},
			wantErr: io.EOF,
		},
		{
			name:    "an event over the limit ends the stream",
			stream:  "data: " + strings.Repeat("z", maxEventSize/2) + "\ndata: " + strings.Repeat("z", maxEventSize/2+1) + "\n\n",
			wantErr: errEventTooBig,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newSSEReader(strings.NewReader(tc.stream))
			var got []string
			var err error
			for {
				var name string
				var data []byte
				name, data, err = r.next()
				if err != nil {
					break
				}
				got = append(got, name+":"+string(data))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("events (-want +got):\n%.2000s", diff)
			}
			want := tc.wantErr
			if want == nil {
				want = io.EOF
			}
			if !errors.Is(err, want) {
				t.Errorf("end with %v, want %v", err, want)
			}
		})
	}
}
