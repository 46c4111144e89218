package deployer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// lineCol returns the 1-based line and column (in characters) of byte
// offset off of text.
func lineCol(text []byte, off int) (line, col int) {
	off = min(max(off, 0), len(text))
	before := text[:off]
	line = bytes.Count(before, []byte{'\n'}) + 1
	start := bytes.LastIndexByte(before, '\n') + 1
	return line, utf8.RuneCount(before[start:]) + 1
}

// valuePositions maps the JSON path of every value of a well-formed
// document, in Marathon's form ("/" for the root, "/container/docker/image",
// "/constraints(0)"), to the byte offset where the value starts.
func valuePositions(data []byte) map[string]int {
	idx := map[string]int{}
	dec := json.NewDecoder(bytes.NewReader(data))
	indexValue(dec, data, "", idx) // a malformed tail only leaves paths out
	return idx
}

func indexValue(dec *json.Decoder, data []byte, path string, idx map[string]int) error {
	start := skipSeparators(data, int(dec.InputOffset()))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	key := path
	if key == "" {
		key = "/"
	}
	idx[key] = start
	switch tok {
	case json.Delim('{'):
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return err
			}
			name, _ := k.(string)
			if err := indexValue(dec, data, path+"/"+name, idx); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	case json.Delim('['):
		for i := 0; dec.More(); i++ {
			if err := indexValue(dec, data, fmt.Sprintf("%s(%d)", path, i), idx); err != nil {
				return err
			}
		}
		_, err = dec.Token()
	}
	return err
}

// skipSeparators moves off past the whitespace, colons and commas that
// json.Decoder leaves before the next token.
func skipSeparators(data []byte, off int) int {
	for off < len(data) {
		switch data[off] {
		case ' ', '\t', '\r', '\n', ',', ':':
			off++
		default:
			return off
		}
	}
	return off
}

// positionOf returns the offset of the value at path, or of its nearest
// enclosing value that exists ("/id" missing: the root object), and false
// when not even the root is known.
func positionOf(idx map[string]int, path string) (int, bool) {
	for {
		if off, ok := idx[path]; ok {
			return off, true
		}
		if path == "/" || path == "" {
			return 0, false
		}
		cut := strings.LastIndexAny(path, "/(")
		if cut <= 0 {
			path = "/"
		} else {
			path = path[:cut]
		}
	}
}
