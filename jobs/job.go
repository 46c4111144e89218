package jobs

import (
	"regexp"
	"time"
)

// Job is a Chronos job, scheduled (Schedule set) or dependent (Parents
// set). Its JSON is Chronos 3's (U/JobSerializer.scala): every field is
// written, defaults included; Schedule and ScheduleTimeZone only for a
// scheduled job, Parents only for a dependent one; Container only when
// set. The 2.x fields Epsilon and Async are written only when set.
type Job struct {
	Name                   string        `json:"name"`
	Command                string        `json:"command"`
	Shell                  bool          `json:"shell"`
	Executor               string        `json:"executor"`
	ExecutorFlags          string        `json:"executorFlags"`
	TaskInfoData           string        `json:"taskInfoData"`
	Retries                int           `json:"retries"`
	Owner                  string        `json:"owner"`
	OwnerName              string        `json:"ownerName"`
	Description            string        `json:"description"`
	SuccessCount           int64         `json:"successCount"`
	ErrorCount             int64         `json:"errorCount"`
	LastSuccess            string        `json:"lastSuccess"`
	LastError              string        `json:"lastError"`
	CPUs                   float64       `json:"cpus"`
	Disk                   float64       `json:"disk"`
	Mem                    float64       `json:"mem"`
	Disabled               bool          `json:"disabled"`
	SoftError              bool          `json:"softError"`
	DataProcessingJobType  bool          `json:"dataProcessingJobType"`
	ErrorsSinceLastSuccess int64         `json:"errorsSinceLastSuccess"`
	Fetch                  []Fetch       `json:"fetch"`
	URIs                   []string      `json:"uris"`
	EnvironmentVariables   []EnvVar      `json:"environmentVariables"`
	Arguments              []string      `json:"arguments"`
	HighPriority           bool          `json:"highPriority"`
	RunAsUser              string        `json:"runAsUser"`
	Concurrent             bool          `json:"concurrent"`
	MaxCompletionTime      int64         `json:"maxCompletionTime"`
	Container              *Container    `json:"container,omitempty"`
	Constraints            [][]string    `json:"constraints"`
	Schedule               string        `json:"schedule,omitempty"`
	ScheduleTimeZone       *string       `json:"scheduleTimeZone,omitempty"`
	Parents                []string      `json:"parents,omitempty"`
	Epsilon                string        `json:"epsilon,omitempty"`
	Async                  bool          `json:"async,omitempty"`
	SkipCount              int64         `json:"skipCount,omitempty"`
	epsilon                time.Duration // parsed Epsilon
	depsAt                 time.Time     // see record.DepsAt
}

// Fetch is one URI the fetcher downloads into the sandbox.
type Fetch struct {
	URI        string `json:"uri"`
	Executable bool   `json:"executable"`
	Cache      bool   `json:"cache"`
	Extract    bool   `json:"extract"`
	OutputFile string `json:"output_file,omitempty"`
}

// EnvVar is an entry of environmentVariables.
type EnvVar struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// KeyValue is a docker parameter or a label.
type KeyValue struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// Container is a job's container (J/Containers.scala).
type Container struct {
	Type           string        `json:"type"`
	Image          string        `json:"image"`
	Network        string        `json:"network"`
	NetworkName    string        `json:"networkName,omitempty"`
	NetworkInfos   []NetworkInfo `json:"networkInfos"`
	Volumes        []Volume      `json:"volumes"`
	Parameters     []KeyValue    `json:"parameters"`
	ForcePullImage bool          `json:"forcePullImage"`
}

// NetworkInfo is an entry of container.networkInfos; only Name and Labels
// reach Mesos, as in Chronos.
type NetworkInfo struct {
	Name   string     `json:"name"`
	Labels []KeyValue `json:"labels,omitempty"`
}

// Volume is an entry of container.volumes.
type Volume struct {
	ContainerPath string          `json:"containerPath"`
	HostPath      string          `json:"hostPath,omitempty"`
	Mode          string          `json:"mode"`
	External      *ExternalVolume `json:"external,omitempty"`
}

// ExternalVolume is a docker volume of a driver.
type ExternalVolume struct {
	Name     string     `json:"name"`
	Provider string     `json:"provider"`
	Options  []KeyValue `json:"options,omitempty"`
}

// Container types and networks.
const (
	ContainerDocker = "DOCKER"
	ContainerMesos  = "MESOS"
)

// Constraint operators Chronos knows; others are dropped at parse time.
const (
	OpEquals = "EQUALS"
	OpLike   = "LIKE"
	OpUnlike = "UNLIKE"
)

// nameRE is Chronos's job name rule (J/JobUtils.scala jobNamePattern),
// matched in full.
var nameRE = regexp.MustCompile(`^[\w.-]+$`)

// ValidName reports whether name is an acceptable job name.
func ValidName(name string) bool { return nameRE.MatchString(name) && len(name) <= maxNameLen }

// maxNameLen bounds a name: it is a ZooKeeper node and part of task ids.
const maxNameLen = 200

// Dependent reports whether j runs after its parents rather than on a
// schedule.
func (j *Job) Dependent() bool { return len(j.Parents) > 0 }

// Zone is scheduleTimeZone, "" when unset.
func (j *Job) Zone() string {
	if j.ScheduleTimeZone == nil {
		return ""
	}
	return *j.ScheduleTimeZone
}

// EpsilonDuration is the 2.x epsilon: how late a scheduled run may start
// before it is skipped; 0 when unset (catch up once, as Chronos 3).
func (j *Job) EpsilonDuration() time.Duration { return j.epsilon }

// timeFormat is Chronos's lastSuccess/lastError: a UTC Joda string.
const timeFormat = "2006-01-02T15:04:05.000Z"

// formatTime formats t as lastSuccess and lastError are written.
func formatTime(t time.Time) string { return t.UTC().Format(timeFormat) }

// parseTime reads lastSuccess or lastError; the zero time for "".
func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	for _, layout := range startLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// LastSuccessTime and LastErrorTime are the counters' times, zero when
// never.
func (j *Job) LastSuccessTime() time.Time { return parseTime(j.LastSuccess) }

// LastErrorTime is lastError as a time.
func (j *Job) LastErrorTime() time.Time { return parseTime(j.LastError) }

// Status is the job's last outcome as Chronos's graph and summary show
// it: success, failure or fresh.
func (j *Job) Status() string {
	s, e := j.LastSuccessTime(), j.LastErrorTime()
	switch {
	case s.IsZero() && e.IsZero():
		return "fresh"
	case e.After(s):
		return "failure"
	}
	return "success"
}

// clone returns a deep enough copy of j for the loop to change.
func (j *Job) clone() *Job {
	c := *j
	c.Parents = append([]string(nil), j.Parents...)
	return &c
}
