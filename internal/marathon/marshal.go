package marathon

import (
	"bytes"
	"encoding/json"
)

// marshalPlain encodes v (a method-less copy of a wire type) without HTML
// escaping, as Marathon writes "<", ">" and "&" literally.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}
