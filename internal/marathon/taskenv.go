package marathon

import (
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Limits of the MARATHON_APP_LABEL_* variables (EnvironmentHelper.scala):
// keys and values this long or longer are left out.
const (
	maxEnvLength   = 512
	labelEnvPrefix = "MARATHON_APP_LABEL_"
	maxLabelKey    = maxEnvLength - len(labelEnvPrefix)
)

var labelEscape = regexp.MustCompile(`[^a-zA-Z0-9_]+`)

// TaskEnv returns the environment Marathon gives a task of app: the
// MARATHON_APP_* variables (id, version, docker image, resources, labels),
// the port variables PORT0…PORTn, PORT, PORTS, PORT_<requested port> and
// PORT_<NAME>, and HOST; then the app's own (non-secret) env, which wins.
// prefix (--env_vars_prefix) is put before the port variables and HOST
// only, as Marathon's TaskBuilder does. hostPorts has one entry per port
// index (App.PortCount); 0 means no host port was allocated (a container
// port mapping without hostPort), and the container port is used. The
// caller adds MESOS_TASK_ID.
func TaskEnv(app App, hostPorts []uint32, host string, prefix string) map[string]string {
	env := map[string]string{
		"MARATHON_APP_ID":            string(app.ID),
		"MARATHON_APP_VERSION":       app.Version.String(),
		"MARATHON_APP_RESOURCE_CPUS": ScalaDouble(app.Cpus),
		"MARATHON_APP_RESOURCE_MEM":  ScalaDouble(app.Mem),
		"MARATHON_APP_RESOURCE_DISK": ScalaDouble(app.Disk),
		"MARATHON_APP_RESOURCE_GPUS": strconv.Itoa(app.Gpus),
	}
	if img := app.Image(); img != "" {
		env["MARATHON_APP_DOCKER_IMAGE"] = img
	}
	maps.Copy(env, LabelEnv(app.Labels))

	for k, v := range portsEnv(app, hostPorts) {
		env[prefix+k] = v
	}
	if host != "" {
		env[prefix+"HOST"] = host
	}
	for k, v := range app.Env {
		if !v.IsSecret() {
			env[k] = v.Value
		}
	}
	return env
}

// LabelEnv returns Marathon's label variables (EnvironmentHelper
// labelsToEnvVars): MARATHON_APP_LABELS, the upper-cased names joined by
// spaces, and one MARATHON_APP_LABEL_<NAME> per label whose key and value
// are short enough; runs of characters outside [a-zA-Z0-9_] in a key
// become "_".
func LabelEnv(labels map[string]string) map[string]string {
	env := map[string]string{}
	var labelNames []string
	for k, v := range labels {
		if len(k) >= maxLabelKey || len(v) >= maxEnvLength {
			continue
		}
		name := strings.ToUpper(labelEscape.ReplaceAllString(k, "_"))
		labelNames = append(labelNames, name)
		env[labelEnvPrefix+name] = v
	}
	slices.Sort(labelNames)
	env["MARATHON_APP_LABELS"] = strings.Join(labelNames, " ")
	return env
}

// portsEnv computes the unprefixed port variables.
func portsEnv(app App, hostPorts []uint32) map[string]string {
	if len(hostPorts) == 0 {
		return nil
	}
	type request struct {
		name string
		port int
	}
	var reqs []request
	if m := app.PortMappingsInUse(); len(m) > 0 {
		for _, pm := range m {
			reqs = append(reqs, request{pm.Name, pm.ContainerPort})
		}
	} else {
		for _, d := range app.PortDefinitions {
			reqs = append(reqs, request{d.Name, d.Port})
		}
	}
	env := map[string]string{}
	var all []string
	for i, hp := range hostPorts {
		var req request
		if i < len(reqs) {
			req = reqs[i]
		}
		effective := int(hp)
		if hp == 0 {
			effective = req.port // container-only mapping: the container port
		}
		if effective == 0 {
			continue
		}
		v := strconv.Itoa(effective)
		env["PORT"+strconv.Itoa(i)] = v
		if req.port != 0 {
			env["PORT_"+strconv.Itoa(req.port)] = v
		} else {
			env["PORT_"+v] = v
		}
		if req.name != "" {
			env["PORT_"+strings.ToUpper(req.name)] = v
		}
		all = append(all, v)
	}
	if len(all) > 0 {
		env["PORT"] = all[0]
	}
	env["PORTS"] = strings.Join(all, ",")
	return env
}

// ScalaDouble formats f as Scala's Double.toString for the usual range:
// integral values keep one decimal ("128.0"), as Marathon writes doubles
// into task variables and messages.
func ScalaDouble(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e7 {
		return strconv.FormatFloat(f, 'f', 1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}
