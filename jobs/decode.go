package jobs

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Defaults are the values Chronos fills in at parse time for what a job
// leaves out (--mesos_task_cpu, _mem, _disk, --user).
type Defaults struct {
	CPUs, Mem, Disk float64
	User            string
}

// DefaultDefaults are Chronos's flag defaults.
var DefaultDefaults = Defaults{CPUs: 0.1, Mem: 128, Disk: 256, User: "root"}

// ErrBadJob is wrapped by every error of Decode: the body is not a job.
var ErrBadJob = errors.New("bad job")

// Limits on what a job may hold.
const (
	maxListLen  = 1000
	maxParents  = 100
	maxTextLen  = 64 << 10
	maxRetries  = 1000
	maxResource = 1 << 30
)

// fields is a job body, parsed as Chronos's JobDeserializer reads it:
// every field on its own, numbers and booleans also as strings, unknown
// fields ignored.
type fields map[string]json.RawMessage

// Decode parses a job body leniently as Chronos 3 does: numbers and
// booleans may be strings, unknown fields are ignored, a parents key makes
// a dependent job, otherwise a schedule key a scheduled one, and a body
// with neither runs once, now (R1//PT24H, the start filled in at create).
// cpus, mem and disk that are missing or 0 take the defaults.
func Decode(body []byte, d Defaults) (*Job, error) {
	var f fields
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&f); err != nil || f == nil {
		return nil, fmt.Errorf("%w: the body is not a JSON object", ErrBadJob)
	}
	var errs []error
	str := func(k string) string {
		s, err := f.str(k)
		if err != nil {
			errs = append(errs, err)
		}
		return s
	}
	boolean := func(k string, def bool) bool {
		b, err := f.boolean(k, def)
		if err != nil {
			errs = append(errs, err)
		}
		return b
	}
	num := func(k string) float64 {
		v, err := f.number(k)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	}
	j := &Job{
		Name:                  str("name"),
		Command:               str("command"),
		Shell:                 boolean("shell", true),
		Executor:              str("executor"),
		ExecutorFlags:         str("executorFlags"),
		TaskInfoData:          str("taskInfoData"),
		Owner:                 str("owner"),
		OwnerName:             str("ownerName"),
		Description:           str("description"),
		LastSuccess:           str("lastSuccess"),
		LastError:             str("lastError"),
		Disabled:              boolean("disabled", false),
		SoftError:             boolean("softError", false),
		DataProcessingJobType: boolean("dataProcessingJobType", false),
		HighPriority:          boolean("highPriority", false),
		RunAsUser:             str("runAsUser"),
		Concurrent:            boolean("concurrent", false),
		Async:                 boolean("async", false),
		Epsilon:               str("epsilon"),
		CPUs:                  num("cpus"),
		Mem:                   num("mem"),
		Disk:                  num("disk"),
	}
	if _, ok := f["name"]; !ok || j.Name == "" {
		errs = append(errs, errors.New("name is required"))
	}
	retries := 2.0
	if _, ok := f["retries"]; ok {
		retries = num("retries")
	}
	j.Retries = int(retries)
	j.MaxCompletionTime = int64(num("maxCompletionTime"))
	j.SuccessCount = int64(num("successCount"))
	j.ErrorCount = int64(num("errorCount"))
	j.ErrorsSinceLastSuccess = int64(num("errorsSinceLastSuccess"))
	if j.CPUs == 0 {
		j.CPUs = d.CPUs
	}
	if j.Mem == 0 {
		j.Mem = d.Mem
	}
	if j.Disk == 0 {
		j.Disk = d.Disk
	}
	if j.RunAsUser == "" {
		j.RunAsUser = d.User
	}
	for _, k := range []string{"arguments", "uris"} {
		list, err := f.strings(k)
		if err != nil {
			errs = append(errs, err)
		}
		if k == "arguments" {
			j.Arguments = list
		} else {
			j.URIs = list
		}
	}
	if _, ok := f["parents"]; ok {
		parents, err := f.strings("parents")
		if err != nil {
			errs = append(errs, err)
		}
		j.Parents = dedupe(parents)
	} else if _, ok := f["schedule"]; ok {
		j.Schedule = str("schedule")
		zone := str("scheduleTimeZone")
		j.ScheduleTimeZone = &zone
	} else {
		j.Schedule = "R1//PT24H"
		zone := ""
		j.ScheduleTimeZone = &zone
	}
	errs = append(errs, f.into("fetch", &j.Fetch), f.into("environmentVariables", &j.EnvironmentVariables),
		f.constraints(j), f.container(j))
	for i := range j.Fetch {
		if !f.hasFetchExtract(i) {
			j.Fetch[i].Extract = true
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	if err := j.bounds(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadJob, err)
	}
	if j.Epsilon != "" {
		p, err := ParsePeriod(j.Epsilon)
		if err != nil || p.calendar() {
			return nil, fmt.Errorf("%w: epsilon %q: want an ISO 8601 duration such as PT30S", ErrBadJob, j.Epsilon)
		}
		j.epsilon = p.Clock
	}
	j.normalize()
	return j, nil
}

// normalize turns nil lists into empty ones, as Chronos writes them.
func (j *Job) normalize() {
	if j.Fetch == nil {
		j.Fetch = []Fetch{}
	}
	if j.URIs == nil {
		j.URIs = []string{}
	}
	if j.EnvironmentVariables == nil {
		j.EnvironmentVariables = []EnvVar{}
	}
	if j.Arguments == nil {
		j.Arguments = []string{}
	}
	if j.Constraints == nil {
		j.Constraints = [][]string{}
	}
	if j.Epsilon != "" && j.epsilon == 0 {
		if p, err := ParsePeriod(j.Epsilon); err == nil {
			j.epsilon = p.Clock
		}
	}
}

// bounds checks the limits on every input.
func (j *Job) bounds() error {
	var errs []error
	for k, s := range map[string]string{"name": j.Name, "command": j.Command, "executor": j.Executor, "executorFlags": j.ExecutorFlags,
		"taskInfoData": j.TaskInfoData, "owner": j.Owner, "ownerName": j.OwnerName, "description": j.Description, "schedule": j.Schedule} {
		if len(s) > maxTextLen {
			errs = append(errs, fmt.Errorf("%s is longer than %d bytes", k, maxTextLen))
		}
	}
	if len(j.Arguments) > maxListLen || len(j.URIs) > maxListLen || len(j.Fetch) > maxListLen ||
		len(j.EnvironmentVariables) > maxListLen || len(j.Constraints) > maxListLen {
		errs = append(errs, fmt.Errorf("a list holds more than %d entries", maxListLen))
	}
	if len(j.Parents) > maxParents {
		errs = append(errs, fmt.Errorf("more than %d parents", maxParents))
	}
	if j.Retries < 0 || j.Retries > maxRetries {
		errs = append(errs, fmt.Errorf("retries %d: want 0 to %d", j.Retries, maxRetries))
	}
	for k, v := range map[string]float64{"cpus": j.CPUs, "mem": j.Mem, "disk": j.Disk} {
		if v < 0 || v > maxResource || v != v {
			errs = append(errs, fmt.Errorf("%s %v out of range", k, v))
		}
	}
	if j.MaxCompletionTime < 0 {
		errs = append(errs, errors.New("maxCompletionTime must not be negative"))
	}
	return errors.Join(errs...)
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// str reads a text field; numbers and booleans are taken as their text.
func (f fields) str(k string) (string, error) {
	raw, ok := f[k]
	if !ok || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err == nil {
		switch v.(type) {
		case float64, bool:
			return string(raw), nil
		}
	}
	return "", fmt.Errorf("%s: want a string", k)
}

// boolean reads a boolean, also "true"/"false" as text (Jackson's
// asBoolean).
func (f fields) boolean(k string, def bool) (bool, error) {
	raw, ok := f[k]
	if !ok || string(raw) == "null" {
		return def, nil
	}
	var b bool
	if err := json.Unmarshal(raw, &b); err == nil {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if v, err := strconv.ParseBool(strings.TrimSpace(s)); err == nil {
			return v, nil
		}
	}
	return false, fmt.Errorf("%s: want a boolean", k)
}

// number reads a number, also as text (Jackson's asDouble); 0 when absent.
func (f fields) number(k string) (float64, error) {
	raw, ok := f[k]
	if !ok || string(raw) == "null" {
		return 0, nil
	}
	var v float64
	if err := json.Unmarshal(raw, &v); err == nil {
		return v, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s = strings.TrimSpace(s); s == "" {
			return 0, nil
		}
		if v, err := strconv.ParseFloat(s, 64); err == nil {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%s: want a number", k)
}

// strings reads a list of strings.
func (f fields) strings(k string) ([]string, error) {
	raw, ok := f[k]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("%s: want a list of strings", k)
	}
	return list, nil
}

// into decodes a structured field.
func (f fields) into(k string, v any) error {
	raw, ok := f[k]
	if !ok || string(raw) == "null" {
		return nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", k, err)
	}
	return nil
}

// hasFetchExtract reports whether fetch entry i says extract itself
// (Chronos's default is true).
func (f fields) hasFetchExtract(i int) bool {
	var list []map[string]json.RawMessage
	if json.Unmarshal(f["fetch"], &list) != nil || i >= len(list) {
		return false
	}
	_, ok := list[i]["extract"]
	return ok
}

// constraints reads [[attr, op, value]], dropping operators other than
// EQUALS, LIKE and UNLIKE as Chronos does.
func (f fields) constraints(j *Job) error {
	var raw [][]string
	if err := f.into("constraints", &raw); err != nil {
		return err
	}
	for _, c := range raw {
		if len(c) != 3 {
			continue
		}
		switch strings.ToUpper(c[1]) {
		case OpEquals, OpLike, OpUnlike:
			j.Constraints = append(j.Constraints, []string{c[0], strings.ToUpper(c[1]), c[2]})
		}
	}
	return nil
}

// container reads the container, which counts only with an image key.
func (f fields) container(j *Job) error {
	raw, ok := f["container"]
	if !ok || string(raw) == "null" {
		return nil
	}
	var c fields
	if err := json.Unmarshal(raw, &c); err != nil {
		return errors.New("container: want an object")
	}
	if _, ok := c["image"]; !ok {
		return nil
	}
	image, err := c.str("image")
	if err != nil {
		return fmt.Errorf("container.%w", err)
	}
	typ, _ := c.str("type")
	network, _ := c.str("network")
	networkName, _ := c.str("networkName")
	force, err := c.boolean("forcePullImage", false)
	if err != nil {
		return fmt.Errorf("container.%w", err)
	}
	ct := &Container{Type: strings.ToUpper(typ), Image: image, Network: network, NetworkName: networkName, ForcePullImage: force}
	switch ct.Type {
	case "":
		ct.Type = ContainerDocker
	case ContainerDocker, ContainerMesos:
	default:
		return fmt.Errorf("container.type %q: want DOCKER or MESOS", typ)
	}
	switch ct.Network {
	case "":
		ct.Network = "HOST"
	case "HOST", "BRIDGE", "USER":
	default:
		return fmt.Errorf("container.network %q: want HOST, BRIDGE or USER", network)
	}
	if err := errors.Join(c.into("volumes", &ct.Volumes), c.into("parameters", &ct.Parameters), c.into("networkInfos", &ct.NetworkInfos)); err != nil {
		return fmt.Errorf("container.%w", err)
	}
	for i := range ct.Volumes {
		switch m := strings.ToUpper(ct.Volumes[i].Mode); m {
		case "", "RW":
			ct.Volumes[i].Mode = "RW"
		case "RO":
			ct.Volumes[i].Mode = m
		default:
			return fmt.Errorf("container.volumes[%d].mode %q: want RW or RO", i, ct.Volumes[i].Mode)
		}
	}
	if ct.NetworkInfos == nil {
		ct.NetworkInfos = []NetworkInfo{}
	}
	if ct.Volumes == nil {
		ct.Volumes = []Volume{}
	}
	if ct.Parameters == nil {
		ct.Parameters = []KeyValue{}
	}
	j.Container = ct
	return nil
}
