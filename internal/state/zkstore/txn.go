package zkstore

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
)

// txnMagic starts a write-ahead record, before compression.
const txnMagic = "stadion-txn 1\n"

// errTxn reports a write-ahead record that cannot be read.
var errTxn = errors.New("bad write-ahead record")

// encodeTxn encodes a plan as a write-ahead record: after txnMagic, per
// node in path order, uvarint length and path, then 0 (delete) or 1 with
// uvarint length and data; gzip-compressed, since records are JSON.
func encodeTxn(nodes map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	w := bufio.NewWriter(zw)
	w.WriteString(txnMagic)
	var n [binary.MaxVarintLen64]byte
	for _, p := range slices.Sorted(maps.Keys(nodes)) {
		w.Write(binary.AppendUvarint(n[:0], uint64(len(p))))
		w.WriteString(p)
		data := nodes[p]
		if data == nil {
			w.WriteByte(0)
			continue
		}
		w.WriteByte(1)
		w.Write(binary.AppendUvarint(n[:0], uint64(len(data))))
		w.Write(data)
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("encode write-ahead record: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("encode write-ahead record: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeTxn decodes a write-ahead record.
func decodeTxn(payload []byte) (map[string][]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(payload))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errTxn, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errTxn, err)
	}
	rest, ok := bytes.CutPrefix(raw, []byte(txnMagic))
	if !ok {
		return nil, fmt.Errorf("%w: unknown format", errTxn)
	}
	nodes := map[string][]byte{}
	for len(rest) > 0 {
		var p, data []byte
		if p, rest, err = cutBytes(rest); err != nil {
			return nil, err
		}
		if len(rest) == 0 {
			return nil, fmt.Errorf("%w: truncated", errTxn)
		}
		present := rest[0] == 1
		rest = rest[1:]
		if present {
			if data, rest, err = cutBytes(rest); err != nil {
				return nil, err
			}
			data = bytes.Clone(data)
			if data == nil {
				data = []byte{}
			}
		}
		nodes[string(p)] = data
	}
	return nodes, nil
}

// cutBytes reads a uvarint length and that many bytes.
func cutBytes(b []byte) (field, rest []byte, err error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return nil, nil, fmt.Errorf("%w: truncated", errTxn)
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// txnPath is the node of the write-ahead record of a token; its children
// 0, 1, ... are the pieces. Its data version is 0 until garbage collection
// claims it, and the commit checks it, so that a record being collected
// cannot be committed with pieces missing.
func txnPath(token string) string {
	return dirTxn + "/" + token
}

// piecePath names piece k of the write-ahead record of a token.
func piecePath(token string, k int) string {
	return txnPath(token) + "/" + strconv.Itoa(k)
}
