package marathon

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf8"
)

// The hot part of GET /v2/apps?embed=apps.tasks is written by hand here:
// tasks (one per instance) and the runtime fields of AppInfo. The bytes
// are exactly what encoding/json wrote for these types before (with HTML
// escaping off, as marshalPlain), which TestAppendJSONMatchesEncoder and
// framework/api's golden tests hold. Nested MarshalJSON methods cost
// encoding/json a validation and compaction of their output at every
// level; appending avoids both.
//
// The app definition itself (App.MarshalJSON) stays with encoding/json:
// there is one per app, not per task, and callers can cache its bytes.

// AppendJSON appends the task as MarshalJSON writes it.
func (t *Task) AppendJSON(dst []byte) []byte {
	active := !t.StagedAt.IsZero()
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, t.ID)
	dst = append(dst, `,"appId":`...)
	dst = appendString(dst, string(t.AppID))
	dst = append(dst, `,"host":`...)
	dst = appendString(dst, t.Host)
	dst = append(dst, `,"ipAddresses":[`...)
	for i, ip := range t.IPAddresses {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"ipAddress":`...)
		dst = appendString(dst, ip.IPAddress)
		dst = append(dst, `,"protocol":`...)
		dst = appendString(dst, string(ip.Protocol))
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	// Inactive tasks omit ports, startedAt and version.
	if active {
		dst = append(dst, `,"ports":`...)
		dst = appendUint32s(dst, t.Ports)
	}
	dst = append(dst, `,"servicePorts":`...)
	dst = appendUint32s(dst, t.ServicePorts)
	if t.SlaveID != "" {
		dst = append(dst, `,"slaveId":`...)
		dst = appendString(dst, t.SlaveID)
	}
	dst = append(dst, `,"state":`...)
	dst = appendString(dst, string(t.State))
	if active {
		dst = append(dst, `,"stagedAt":`...)
		dst = appendTimestamp(dst, t.StagedAt)
		if !t.StartedAt.IsZero() {
			dst = append(dst, `,"startedAt":`...)
			dst = appendTimestamp(dst, t.StartedAt)
		}
		if !t.Version.IsZero() {
			dst = append(dst, `,"version":`...)
			dst = appendTimestamp(dst, t.Version)
		}
	}
	dst = append(dst, `,"healthCheckResults":[`...)
	for i := range t.HealthCheckResults {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = t.HealthCheckResults[i].appendJSON(dst)
	}
	dst = append(dst, ']')
	if c := t.CheckResult; c != nil {
		dst = append(dst, `,"checkResult":{`...)
		sep := false
		if c.HTTP != nil {
			dst = append(dst, `"http":{"statusCode":`...)
			dst = strconv.AppendInt(dst, int64(c.HTTP.StatusCode), 10)
			dst = append(dst, '}')
			sep = true
		}
		if c.TCP != nil {
			if sep {
				dst = append(dst, ',')
			}
			dst = append(dst, `"tcp":{"succeeded":`...)
			dst = strconv.AppendBool(dst, c.TCP.Succeeded)
			dst = append(dst, '}')
			sep = true
		}
		if c.Exec != nil {
			if sep {
				dst = append(dst, ',')
			}
			dst = append(dst, `"exec":{"exitCode":`...)
			dst = strconv.AppendInt(dst, int64(c.Exec.ExitCode), 10)
			dst = append(dst, '}')
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"localVolumes":[`...)
	for i, v := range t.LocalVolumes {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"runSpecId":`...)
		dst = appendString(dst, string(v.RunSpecID))
		dst = append(dst, `,"containerPath":`...)
		dst = appendString(dst, v.ContainerPath)
		dst = append(dst, `,"uuid":`...)
		dst = appendString(dst, v.UUID)
		dst = append(dst, `,"persistenceId":`...)
		dst = appendString(dst, v.PersistenceID)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if t.Region != "" {
		dst = append(dst, `,"region":`...)
		dst = appendString(dst, t.Region)
	}
	if t.Zone != "" {
		dst = append(dst, `,"zone":`...)
		dst = appendString(dst, t.Zone)
	}
	if t.Role != "" {
		dst = append(dst, `,"role":`...)
		dst = appendString(dst, t.Role)
	}
	if !t.UnknownSince.IsZero() {
		dst = append(dst, `,"unknownSince":`...)
		dst = appendTimestamp(dst, t.UnknownSince)
	}
	return append(dst, '}')
}

func (r *HealthCheckResult) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"alive":`...)
	dst = strconv.AppendBool(dst, r.Alive)
	dst = append(dst, `,"consecutiveFailures":`...)
	dst = strconv.AppendInt(dst, int64(r.ConsecutiveFailures), 10)
	if r.FirstSuccess != nil {
		dst = append(dst, `,"firstSuccess":`...)
		dst = appendTimestampPtr(dst, r.FirstSuccess)
	}
	if r.LastSuccess != nil {
		dst = append(dst, `,"lastSuccess":`...)
		dst = appendTimestampPtr(dst, r.LastSuccess)
	}
	if r.LastFailure != nil {
		dst = append(dst, `,"lastFailure":`...)
		dst = appendTimestampPtr(dst, r.LastFailure)
	}
	if r.LastFailureCause != nil {
		dst = append(dst, `,"lastFailureCause":`...)
		dst = appendString(dst, *r.LastFailureCause)
	}
	dst = append(dst, `,"instanceId":`...)
	dst = appendString(dst, r.InstanceID)
	if r.TaskID != "" {
		dst = append(dst, `,"taskId":`...)
		dst = appendString(dst, r.TaskID)
	}
	return append(dst, '}')
}

// AppendJSON appends the app info as MarshalJSON writes it. def is the
// app's definition as App.MarshalJSON writes it, or nil to encode it here:
// callers that render the same definition often keep its bytes.
func (i *AppInfo) AppendJSON(dst, def []byte) ([]byte, error) {
	if def == nil {
		var err error
		if def, err = i.App.MarshalJSON(); err != nil {
			return nil, err
		}
	}
	if len(def) < 2 || def[0] != '{' || def[len(def)-1] != '}' {
		return nil, errors.New("marathon: app definition is not a JSON object")
	}
	dst = append(dst, def[:len(def)-1]...)
	if len(def) > 2 {
		dst = append(dst, ',')
	}
	dst = append(dst, `"tasksStaged":`...)
	dst = strconv.AppendInt(dst, int64(i.TasksStaged), 10)
	dst = append(dst, `,"tasksRunning":`...)
	dst = strconv.AppendInt(dst, int64(i.TasksRunning), 10)
	dst = append(dst, `,"tasksHealthy":`...)
	dst = strconv.AppendInt(dst, int64(i.TasksHealthy), 10)
	dst = append(dst, `,"tasksUnhealthy":`...)
	dst = strconv.AppendInt(dst, int64(i.TasksUnhealthy), 10)
	dst = append(dst, `,"deployments":[`...)
	for k, d := range i.Deployments {
		if k > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"id":`...)
		dst = appendString(dst, d.ID)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	var err error
	if i.ReadinessCheckResults != nil {
		dst = append(dst, `,"readinessCheckResults":`...)
		if dst, err = appendPlain(dst, i.ReadinessCheckResults); err != nil {
			return nil, err
		}
	}
	if i.Tasks != nil {
		dst = append(dst, `,"tasks":[`...)
		for k := range i.Tasks {
			if k > 0 {
				dst = append(dst, ',')
			}
			dst = i.Tasks[k].AppendJSON(dst)
		}
		dst = append(dst, ']')
	}
	if i.LastTaskFailure != nil {
		dst = append(dst, `,"lastTaskFailure":`...)
		if dst, err = appendPlain(dst, i.LastTaskFailure); err != nil {
			return nil, err
		}
	}
	if i.TasksStats != nil {
		dst = append(dst, `,"tasksStats":`...)
		if dst, err = appendPlain(dst, i.TasksStats); err != nil {
			return nil, err
		}
	}
	return append(dst, '}'), nil
}

// appendPlain appends marshalPlain's encoding of v (the rare, small parts).
func appendPlain(dst []byte, v any) ([]byte, error) {
	b, err := marshalPlain(v)
	if err != nil {
		return nil, err
	}
	return append(dst, b...), nil
}

func appendUint32s(dst []byte, ps []uint32) []byte {
	dst = append(dst, '[')
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = strconv.AppendUint(dst, uint64(p), 10)
	}
	return append(dst, ']')
}

// appendTimestamp appends Timestamp.MarshalJSON's output: the quoted wire
// form, or null when zero. The wire form is ASCII without characters to
// escape.
func appendTimestamp(dst []byte, t Timestamp) []byte {
	if t.IsZero() {
		return append(dst, "null"...)
	}
	dst = append(dst, '"')
	dst = appendWireTime(dst, t.Time)
	return append(dst, '"')
}

// appendWireTime appends t.UTC().Format(timestampLayout) without the
// layout interpretation of time.Format, which costs more than the rest of
// a task.
func appendWireTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, timestampLayout)
	}
	hour, minute, sec := t.Clock()
	ms := t.Nanosecond() / int(time.Millisecond)
	return append(dst,
		byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-',
		byte('0'+int(month)/10), byte('0'+int(month)%10), '-',
		byte('0'+day/10), byte('0'+day%10), 'T',
		byte('0'+hour/10), byte('0'+hour%10), ':',
		byte('0'+minute/10), byte('0'+minute%10), ':',
		byte('0'+sec/10), byte('0'+sec%10), '.',
		byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10), 'Z')
}

func appendTimestampPtr(dst []byte, t *Timestamp) []byte {
	if t == nil {
		return append(dst, "null"...)
	}
	return appendTimestamp(dst, *t)
}

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as encoding/json does with HTML escaping
// off: '"', '\\' and control characters escaped (\b \f \n \r \t by name),
// invalid UTF-8 as \ufffd, U+2028 and U+2029 as \u2028 and \u2029; '<',
// '>' and '&' literal.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if b >= 0x20 && b != '"' && b != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
