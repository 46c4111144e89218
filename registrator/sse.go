package registrator

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// maxEventSize bounds one event's data; a bigger one ends the stream (and
// the client reconnects), rather than growing without limit.
const maxEventSize = 16 << 20

// errEventTooBig is returned by sseReader.next for an event over maxEventSize.
var errEventTooBig = errors.New("event larger than 16 MiB")

// sseReader reads server-sent events (the text/event-stream format of the
// HTML living standard): "event:" and "data:" fields, comments starting
// with ":", events ended by a blank line; lines end with "\n" or "\r\n".
type sseReader struct {
	r *bufio.Reader
}

func newSSEReader(r io.Reader) *sseReader {
	return &sseReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next event with data. Keep-alives (blank lines, "\r\n")
// and comments are skipped. At the end of the stream it returns io.EOF (an
// event cut off by the end is dropped).
func (s *sseReader) next() (name string, data []byte, err error) {
	var buf bytes.Buffer
	hasData := false
	for {
		line, err := s.readLine()
		if err != nil {
			return "", nil, err
		}
		if len(line) == 0 {
			if hasData {
				return name, buf.Bytes(), nil
			}
			name = ""
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(line, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "event":
			name = string(value)
		case "data":
			if hasData {
				buf.WriteByte('\n')
			}
			if buf.Len()+len(value) > maxEventSize {
				return "", nil, errEventTooBig
			}
			buf.Write(value)
			hasData = true
		}
		// id and retry are of no use here: after a reconnection the
		// registrator reads a full snapshot anyway.
	}
}

// readLine returns one line without its end of line.
func (s *sseReader) readLine() ([]byte, error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxEventSize {
			return nil, errEventTooBig
		}
		switch {
		case err == nil:
			line = bytes.TrimSuffix(line[:len(line)-1], []byte("\r"))
			return line, nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return nil, io.EOF
		default:
			return nil, fmt.Errorf("read event stream: %w", err)
		}
	}
}
