package deployer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/stadionhq/stadion/internal/marathon"
)

// Problem is one finding about a template, at a position of the rendered
// text when known.
type Problem struct {
	// Line and Column are 1-based; 0 when the position is unknown.
	Line, Column int
	// Path is the JSON path in Marathon's form ("/container/docker/image");
	// "" when the problem is not about one value.
	Path string
	// Message says what is wrong: a parser message, a Play error code
	// ("error.expected.jsnumber") or a validation message.
	Message string
}

// String renders "line:col: path: message", leaving out what is unknown.
func (p Problem) String() string {
	var b strings.Builder
	if p.Line > 0 {
		fmt.Fprintf(&b, "%d:%d: ", p.Line, p.Column)
	}
	if p.Path != "" {
		b.WriteString(p.Path + ": ")
	}
	b.WriteString(p.Message)
	return b.String()
}

// MsgUnrendered is TemplateError.Message for placeholders left in a
// rendered template.
const MsgUnrendered = "Unrendered placeholders"

// TemplateError reports why a template does not give a valid app: the
// message is Marathon's ("Invalid JSON", "Object is not valid") or
// MsgUnrendered, and every problem carries the line and column of the
// rendered text it is about.
type TemplateError struct {
	// Source names the template, as given on the command line.
	Source   string
	Message  string
	Problems []Problem
	// API is the error the scheduler would answer for this body, when the
	// problem is one it checks; nil for unrendered placeholders.
	API *marathon.Error
}

// Error renders the message and one "source:line:col: path: message" line
// per problem, as compilers do, so CI logs point at the template.
func (e *TemplateError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s", e.Source, e.Message)
	for _, p := range e.Problems {
		b.WriteString("\n  " + e.Source + ":" + p.String())
	}
	return b.String()
}

// Unwrap gives the scheduler's error to errors.As.
func (e *TemplateError) Unwrap() error {
	if e.API == nil {
		return nil
	}
	return e.API
}

// Definition is a rendered template that passed the scheduler's checks.
type Definition struct {
	// Source names the template.
	Source string
	// JSON is the rendered text, sent to the scheduler as it is.
	JSON []byte
	// App is the app decoded, normalised and validated as the scheduler
	// does on POST /v2/apps.
	App marathon.App
	// Warnings are top-level fields Marathon does not know and ignores
	// (a typo such as "instance" deploys the default silently).
	Warnings []Problem
}

// Check reads a rendered template as the scheduler reads a POST /v2/apps
// body (marathon.DecodeApp, then marathon.Admit with opts) and reports
// malformed JSON, type errors and validation errors as a *TemplateError
// whose problems carry line and column.
func Check(source string, rendered []byte, opts marathon.NormalizeOptions) (Definition, error) {
	if err := syntaxCheck(source, rendered); err != nil {
		return Definition{}, err
	}
	app, err := marathon.DecodeApp(rendered)
	if err == nil {
		app, err = marathon.Admit(app, opts)
	}
	if err != nil {
		return Definition{}, positioned(source, rendered, err)
	}
	return Definition{Source: source, JSON: rendered, App: app, Warnings: unknownFields(rendered)}, nil
}

// syntaxCheck parses text as one JSON value and reports where it is
// malformed, pointing at unrendered placeholders.
func syntaxCheck(source string, text []byte) error {
	dec := json.NewDecoder(bytes.NewReader(text))
	var v any
	err := dec.Decode(&v)
	if err == nil {
		end := int(dec.InputOffset())
		if _, terr := dec.Token(); !errors.Is(terr, io.EOF) {
			off := end + len(text[end:]) - len(bytes.TrimLeft(text[end:], " \t\r\n"))
			return malformed(source, text, off, "unexpected data after the top-level value")
		}
		return nil
	}
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		// Offset counts the bytes read, the offending one included.
		return malformed(source, text, int(syn.Offset)-1, syn.Error())
	case errors.Is(err, io.EOF):
		return &TemplateError{Source: source, Message: marathon.MsgNoJSON, API: marathon.NoJSON()}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed(source, text, len(text), "unexpected end of JSON input")
	}
	return malformed(source, text, int(dec.InputOffset()), err.Error())
}

func malformed(source string, text []byte, off int, msg string) error {
	off = min(max(off, 0), len(text))
	if name, n := placeholderAt(text[off:]); n > 0 {
		msg += fmt.Sprintf(" (placeholder $%s is not rendered)", name)
	}
	line, col := lineCol(text, off)
	return &TemplateError{
		Source:   source,
		Message:  marathon.MsgInvalidJSON,
		Problems: []Problem{{Line: line, Column: col, Message: msg}},
		API:      marathon.MalformedJSON(fmt.Sprintf("%s at line %d, column %d", msg, line, col)),
	}
}

// positioned turns the scheduler's error for a well-formed body into a
// *TemplateError with the position of every detail's path.
func positioned(source string, text []byte, err error) error {
	var me *marathon.Error
	if !errors.As(err, &me) {
		return fmt.Errorf("%s: %w", source, err)
	}
	idx := valuePositions(text)
	te := &TemplateError{Source: source, Message: me.Message, API: me}
	for _, d := range me.Details {
		p := Problem{Path: d.Path, Message: strings.Join(d.Errors, "; ")}
		if off, ok := positionOf(idx, d.Path); ok {
			p.Line, p.Column = lineCol(text, off)
		}
		te.Problems = append(te.Problems, p)
	}
	if len(te.Problems) == 0 && me.DetailText != "" {
		te.Problems = append(te.Problems, Problem{Message: me.DetailText})
	}
	return te
}

// unknownFields reports the top-level keys of an app body that are no
// field of marathon.App.
func unknownFields(text []byte) []Problem {
	var top map[string]json.RawMessage
	if json.Unmarshal(text, &top) != nil {
		return nil
	}
	known := appFields()
	idx := valuePositions(text)
	var out []Problem
	for k := range top {
		if known[k] {
			continue
		}
		p := Problem{Path: "/" + k, Message: "unknown field, ignored by the scheduler"}
		if off, ok := idx["/"+k]; ok {
			p.Line, p.Column = lineCol(text, off)
		}
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Problem) int { return a.Line - b.Line })
	return out
}

var appFields = sync.OnceValue(func() map[string]bool {
	known := map[string]bool{}
	t := reflect.TypeFor[marathon.App]()
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name != "" && name != "-" {
			known[name] = true
		}
	}
	return known
})
