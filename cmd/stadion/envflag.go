package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// envFlags registers flags whose defaults come from environment variables
// named prefix + the flag's name in upper case (Marathon's MARATHON_HTTP_PORT
// for --http_port): the precedence is default < environment < flag. A bad
// environment value is collected as an error, reported by Err after parsing.
type envFlags struct {
	fs     *flag.FlagSet
	prefix string
	errs   []string
}

func newEnvFlags(fs *flag.FlagSet, prefix string) *envFlags {
	return &envFlags{fs: fs, prefix: prefix}
}

func (e *envFlags) env(name string) (string, string, bool) {
	key := e.prefix + strings.ToUpper(name)
	v, ok := os.LookupEnv(key)
	return key, v, ok
}

func (e *envFlags) usage(name, text string) string {
	return text + " (env " + e.prefix + strings.ToUpper(name) + ")"
}

// String registers a string flag.
func (e *envFlags) String(p *string, name, def, text string) {
	if _, v, ok := e.env(name); ok {
		def = v
	}
	e.fs.StringVar(p, name, def, e.usage(name, text))
}

// Secret registers a string flag that holds a secret: --help never shows
// its value, whether it came from the environment or not.
func (e *envFlags) Secret(p *string, name, def, text string) {
	if _, v, ok := e.env(name); ok {
		def = v
	}
	*p = def
	e.fs.Var(secretFlag{p}, name, e.usage(name, text))
}

// Unknown lists the environment variables of the prefix that name no
// flag, sorted, leaving out those that ignore accepts. Only names are
// returned: a value may be a secret.
func (e *envFlags) Unknown(ignore func(key string) bool) []string {
	var unknown []string
	for _, kv := range os.Environ() {
		key, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(key, e.prefix) || ignore(key) {
			continue
		}
		if e.fs.Lookup(strings.ToLower(strings.TrimPrefix(key, e.prefix))) == nil {
			unknown = append(unknown, key)
		}
	}
	sort.Strings(unknown)
	return unknown
}

// Int registers an integer flag.
func (e *envFlags) Int(p *int, name string, def int, text string) {
	if key, v, ok := e.env(name); ok {
		n, err := strconv.Atoi(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s=%q: not an integer", key, v))
		} else {
			def = n
		}
	}
	e.fs.IntVar(p, name, def, e.usage(name, text))
}

// Float registers a floating-point flag.
func (e *envFlags) Float(p *float64, name string, def float64, text string) {
	if key, v, ok := e.env(name); ok {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s=%q: not a number", key, v))
		} else {
			def = f
		}
	}
	e.fs.Float64Var(p, name, def, e.usage(name, text))
}

// Bool registers a boolean flag.
func (e *envFlags) Bool(p *bool, name string, def bool, text string) {
	if key, v, ok := e.env(name); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s=%q: not a boolean", key, v))
		} else {
			def = b
		}
	}
	e.fs.BoolVar(p, name, def, e.usage(name, text))
}

// Millis registers a duration flag given in milliseconds, as Marathon's
// timeouts and intervals are.
func (e *envFlags) Millis(p *time.Duration, name string, def time.Duration, text string) {
	ms := def.Milliseconds()
	if key, v, ok := e.env(name); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			e.errs = append(e.errs, fmt.Sprintf("%s=%q: not a number of milliseconds", key, v))
		} else {
			ms = n
		}
	}
	*p = time.Duration(ms) * time.Millisecond
	e.fs.Var(millisFlag{p}, name, e.usage(name, text+" in milliseconds"))
}

// Duration registers a duration flag whose value, from the environment or
// the command line, is read by parse: Mesos's "15secs" with
// master.ParseDuration, for instance.
func (e *envFlags) Duration(p *time.Duration, name string, def time.Duration, text string, parse func(string) (time.Duration, error)) {
	*p = def
	if key, v, ok := e.env(name); ok {
		d, err := parse(v)
		if err != nil {
			e.errs = append(e.errs, fmt.Sprintf("%s=%q: %v", key, v, err))
		} else {
			*p = d
		}
	}
	e.fs.Var(durationFlag{p, parse}, name, e.usage(name, text))
}

// Err reports the bad environment values, if any.
func (e *envFlags) Err() error {
	if len(e.errs) == 0 {
		return nil
	}
	return fmt.Errorf("bad environment: %s", strings.Join(e.errs, "; "))
}

// secretFlag is a string flag.Value whose String is always empty, so that
// flag.PrintDefaults shows no default.
type secretFlag struct{ p *string }

func (f secretFlag) String() string { return "" }

func (f secretFlag) Set(s string) error {
	*f.p = s
	return nil
}

type millisFlag struct{ p *time.Duration }

func (f millisFlag) String() string {
	if f.p == nil {
		return ""
	}
	return strconv.FormatInt(f.p.Milliseconds(), 10)
}

func (f millisFlag) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return fmt.Errorf("want a number of milliseconds, got %q", s)
	}
	*f.p = time.Duration(n) * time.Millisecond
	return nil
}

// durationFlag is a flag.Value for durations read by parse.
type durationFlag struct {
	p     *time.Duration
	parse func(string) (time.Duration, error)
}

var _ flag.Value = durationFlag{}

func (f durationFlag) String() string {
	if f.p == nil {
		return ""
	}
	return f.p.String()
}

func (f durationFlag) Set(s string) error {
	d, err := f.parse(s)
	if err != nil {
		return err
	}
	*f.p = d
	return nil
}
