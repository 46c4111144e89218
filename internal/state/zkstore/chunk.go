package zkstore

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
)

// maxChunkSize bounds the chunk size, which is half of MaxRequestBytes:
// the largest record stored in one node. Larger records (the root group's
// app map with thousands of apps) are split: the record's node holds a
// manifest and the chunk nodes "<name>~1", "<name>~2", ... hold the bytes,
// in order.
const maxChunkSize = 256 << 10

// manifestPrefix starts a chunk manifest: "chunks <n> <bytes> <crc32>".
// Records are JSON objects or plain version strings, so neither starts with
// it, and a manifest is not JSON: a reader that forgets to join chunks
// fails to decode instead of reading an empty record.
var manifestPrefix = []byte("chunks ")

// errChunks reports a record whose chunks do not add up.
var errChunks = errors.New("chunked record does not match its manifest")

// split returns what a record's node holds (the record itself, or its
// manifest) and the chunks for its chunk nodes (none when it fits).
func split(data []byte, size int) (head []byte, chunks [][]byte) {
	if len(data) <= size {
		return data, nil
	}
	for rest := data; len(rest) > 0; {
		n := min(size, len(rest))
		chunks = append(chunks, rest[:n])
		rest = rest[n:]
	}
	head = fmt.Appendf(nil, "chunks %d %d %08x", len(chunks), len(data), crc32.ChecksumIEEE(data))
	return head, chunks
}

// chunkCount is the number of chunk nodes split makes for data.
func chunkCount(data []byte, size int) int {
	if len(data) <= size {
		return 0
	}
	return (len(data) + size - 1) / size
}

// manifest is a parsed chunk manifest.
type manifest struct {
	chunks int
	size   int
	crc    uint32
}

// parseManifest reports whether head is a manifest and parses it.
func parseManifest(head []byte) (manifest, bool, error) {
	if !bytes.HasPrefix(head, manifestPrefix) {
		return manifest{}, false, nil
	}
	var m manifest
	if _, err := fmt.Sscanf(string(head), "chunks %d %d %x", &m.chunks, &m.size, &m.crc); err != nil || m.chunks < 1 || m.size < 0 {
		return manifest{}, true, fmt.Errorf("%w: bad manifest %q", errChunks, head)
	}
	return m, true, nil
}

// join puts the chunks of a record back together and checks them against
// its manifest.
func (m manifest) join(chunks [][]byte) ([]byte, error) {
	if len(chunks) != m.chunks {
		return nil, fmt.Errorf("%w: %d chunks, manifest says %d", errChunks, len(chunks), m.chunks)
	}
	data := bytes.Join(chunks, nil)
	if len(data) != m.size || crc32.ChecksumIEEE(data) != m.crc {
		return nil, fmt.Errorf("%w: %d bytes, checksum %08x; manifest says %d bytes, %08x", errChunks, len(data), crc32.ChecksumIEEE(data), m.size, m.crc)
	}
	return data, nil
}
