package marathon

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stadionhq/stadion/internal/marathon/marathontest"
)

func intp(i int) *int { return &i }

// errBody returns the status and body of err, which must be an *Error.
func errBody(t *testing.T, err error) (int, string) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	b, jerr := json.Marshal(e)
	if jerr != nil {
		t.Fatal(jerr)
	}
	return e.Status, string(b)
}

// details returns the details of err as path -> errors, or nil for nil.
func details(t *testing.T, err error) map[string][]string {
	t.Helper()
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not *Error", err, err)
	}
	m := map[string][]string{}
	for _, d := range e.Details {
		m[d.Path] = d.Errors
	}
	return m
}

func readExample(t testing.TB, name string) []byte {
	t.Helper()
	return marathontest.Example(t, name)
}

// mustApp decodes and normalises body, failing on any error.
func mustApp(t *testing.T, body string) App {
	t.Helper()
	app, err := ParseApp([]byte(body), NormalizeOptions{})
	if err != nil {
		t.Fatalf("ParseApp(%s): %v", body, err)
	}
	return app
}
