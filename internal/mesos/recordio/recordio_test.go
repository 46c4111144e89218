package recordio

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

func TestReadRecord(t *testing.T) {
	tests := []struct {
		name    string
		stream  string
		max     uint64
		want    []string
		wantErr error
		anyErr  bool
	}{
		{name: "empty stream", stream: "", wantErr: io.EOF},
		{name: "two records without separator", stream: "20\n{\"type\":\"HEARTBEAT\"}3\nabc", want: []string{`{"type":"HEARTBEAT"}`, "abc"}, wantErr: io.EOF},
		{name: "record containing newlines", stream: "5\na\nb\nc", want: []string{"a\nb\nc"}, wantErr: io.EOF},
		{name: "cut inside data", stream: "10\nabc", wantErr: io.ErrUnexpectedEOF},
		{name: "cut inside header", stream: "12", wantErr: io.ErrUnexpectedEOF},
		{name: "zero length", stream: "0\n", anyErr: true},
		{name: "not a number", stream: "x1\nabc", anyErr: true},
		{name: "negative", stream: "-1\nabc", anyErr: true},
		{name: "over limit", stream: "11\nhello world", max: 10, wantErr: ErrRecordTooLarge},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// OneByteReader proves records are read independently of how
			// the transport chunks the stream.
			r := NewReader(iotest.OneByteReader(strings.NewReader(tc.stream)), tc.max)
			var got []string
			var err error
			for {
				var rec []byte
				rec, err = r.ReadRecord()
				if err != nil {
					break
				}
				got = append(got, string(rec))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			switch {
			case tc.anyErr:
				if err == nil || err == io.EOF {
					t.Errorf("err = %v, want a framing error", err)
				}
			case !errors.Is(err, tc.wantErr):
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestWriteThenRead(t *testing.T) {
	records := []string{`{"type":"SUBSCRIBED"}`, "x", strings.Repeat("y", 70000)}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	for _, rec := range records {
		if err := w.WriteRecord([]byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.HasPrefix(buf.String(), "21\n{\"type\":\"SUBSCRIBED\"}1\nx70000\n") {
		t.Fatalf("framing = %q", buf.String()[:40])
	}
	r := NewReader(&buf, 0)
	for _, want := range records {
		got, err := r.ReadRecord()
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Fatalf("record of %d bytes, want %d", len(got), len(want))
		}
	}
	if _, err := r.ReadRecord(); err != io.EOF {
		t.Fatalf("after last record: %v, want EOF", err)
	}
	if err := w.WriteRecord(nil); err == nil {
		t.Fatal("empty record written")
	}
}
