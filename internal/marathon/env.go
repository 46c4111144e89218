package marathon

import "encoding/json"

// EnvVar is an env value: a plain string, or a reference to an entry of
// App.Secrets written {"secret": "name"}.
type EnvVar struct {
	Value  string
	Secret string
}

// IsSecret reports whether v refers to a secret.
func (v EnvVar) IsSecret() bool { return v.Secret != "" }

// MarshalJSON writes a string, or {"secret": name}.
func (v EnvVar) MarshalJSON() ([]byte, error) {
	if v.Secret != "" {
		return json.Marshal(struct {
			Secret string `json:"secret"`
		}{v.Secret})
	}
	return json.Marshal(v.Value)
}

// UnmarshalJSON reads a string or {"secret": name}.
func (v *EnvVar) UnmarshalJSON(b []byte) error {
	*v = EnvVar{}
	if len(b) > 0 && b[0] == '{' {
		var s struct {
			Secret string `json:"secret"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		v.Secret = s.Secret
		return nil
	}
	if string(b) == "null" {
		return nil
	}
	return json.Unmarshal(b, &v.Value)
}

func (EnvVar) checkJSON(x any, path string, r *reporter) {
	switch t := x.(type) {
	case string:
	case map[string]any:
		s, ok := t["secret"]
		if !ok {
			r.add(path+"/secret", codeMissing)
			return
		}
		if _, ok := s.(string); !ok {
			r.add(path+"/secret", codeString)
		}
	default:
		r.add(path, codeString)
	}
}
