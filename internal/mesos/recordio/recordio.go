package recordio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// DefaultMaxRecord bounds one record's size unless Reader.Max says otherwise;
// a SUBSCRIBED record of a large master state is well below it.
const DefaultMaxRecord = 64 << 20

// ErrRecordTooLarge is returned for a record whose header exceeds the limit.
var ErrRecordTooLarge = errors.New("recordio: record too large")

// Reader reads records from a byte stream. Record boundaries are unrelated to
// the transport's chunking.
type Reader struct {
	br  *bufio.Reader
	max uint64
}

// NewReader returns a Reader over r that refuses records larger than max
// bytes (DefaultMaxRecord when max is 0).
func NewReader(r io.Reader, max uint64) *Reader {
	if max == 0 {
		max = DefaultMaxRecord
	}
	return &Reader{br: bufio.NewReaderSize(r, 64<<10), max: max}
}

// ReadRecord returns the next record. At a clean end of stream between
// records it returns io.EOF; a stream cut inside a record gives
// io.ErrUnexpectedEOF.
func (r *Reader) ReadRecord() ([]byte, error) {
	header, err := r.br.ReadSlice('\n')
	if err != nil {
		if err == io.EOF && len(header) > 0 {
			return nil, io.ErrUnexpectedEOF
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("recordio: header longer than %d bytes", len(header))
		}
		return nil, err
	}
	digits := header[:len(header)-1]
	n, err := strconv.ParseUint(string(digits), 10, 64)
	if err != nil || n == 0 {
		return nil, fmt.Errorf("recordio: bad record header %q", digits)
	}
	if n > r.max {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrRecordTooLarge, n, r.max)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r.br, buf); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// Writer writes records. Callers that stream over HTTP flush after each
// record themselves.
type Writer struct {
	w io.Writer
}

// NewWriter returns a Writer to w.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w} }

// WriteRecord writes one record. An empty record cannot be framed (a length of
// 0 is invalid) and is refused.
func (w *Writer) WriteRecord(data []byte) error {
	if len(data) == 0 {
		return errors.New("recordio: empty record")
	}
	buf := make([]byte, 0, 21+len(data))
	buf = strconv.AppendUint(buf, uint64(len(data)), 10)
	buf = append(buf, '\n')
	buf = append(buf, data...)
	_, err := w.w.Write(buf)
	return err
}
