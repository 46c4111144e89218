package taskinfo

import (
	"fmt"
	"slices"
	"strings"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// envTaskID names the task id variable Marathon adds.
const envTaskID = "MESOS_TASK_ID"

// command builds the CommandInfo: value/shell/arguments from cmd or args,
// the environment, fetch URIs and user (the app's, else defaultUser unless
// the task is a DOCKER container).
func command(app *marathon.App, taskID, hostname, prefix string, hostPorts []uint32, defaultUser string, secrets map[string]string) (*mesos.CommandInfo, error) {
	environment, err := environment(app, taskID, hostname, prefix, hostPorts, secrets)
	if err != nil {
		return nil, err
	}
	c := &mesos.CommandInfo{
		Environment: environment,
		URIs:        uris(app.Fetch),
		User:        app.User,
	}
	if c.User == "" && !isDocker(app) {
		c.User = defaultUser
	}
	switch {
	case len(app.Args) > 0:
		c.Shell = ptr(false)
		c.Arguments = slices.Clone(app.Args)
		if app.Container == nil {
			c.Value = ptr(app.Args[0])
		}
	case app.Cmd != "":
		c.Shell = ptr(true)
		c.Value = ptr(app.Cmd)
	default:
		c.Shell = ptr(false)
	}
	return c, nil
}

// environment is marathon.TaskEnv plus MESOS_TASK_ID and the app's secret
// variables, sorted by name. A secret variable is Mesos's SECRET variable
// with a VALUE secret (mesos.proto Environment.Variable, Secret.Value):
// its value from secrets, keyed by secret name, which must hold every
// secret the env refers to.
func environment(app *marathon.App, taskID, hostname, prefix string, hostPorts []uint32, secrets map[string]string) (*mesos.Environment, error) {
	env := marathon.TaskEnv(*app, hostPorts, hostname, prefix)
	if _, ok := app.Env[envTaskID]; !ok {
		env[envTaskID] = taskID
	}
	vars := make([]mesos.Variable, 0, len(env))
	for k, v := range env {
		vars = append(vars, mesos.Variable{Name: k, Value: ptr(v)})
	}
	for k, v := range app.Env {
		if !v.IsSecret() {
			continue
		}
		value, ok := secrets[v.Secret]
		if !ok {
			return nil, fmt.Errorf("%w: secret %q of %s is not resolved", ErrInvalid, v.Secret, app.ID)
		}
		vars = append(vars, mesos.Variable{Name: k, Type: mesos.VariableSecret, Secret: mesos.ValueSecret([]byte(value))})
	}
	slices.SortFunc(vars, func(a, b mesos.Variable) int { return strings.Compare(a.Name, b.Name) })
	return &mesos.Environment{Variables: vars}, nil
}

// uris converts fetch entries; every flag is set explicitly, as Marathon's
// FetchUri.toProto does.
func uris(fetch []marathon.Artifact) []mesos.CommandURI {
	if len(fetch) == 0 {
		return nil
	}
	out := make([]mesos.CommandURI, len(fetch))
	for i, f := range fetch {
		out[i] = mesos.CommandURI{
			Value:      f.URI,
			Extract:    ptr(f.Extract),
			Executable: ptr(f.Executable),
			Cache:      ptr(f.Cache),
			OutputFile: f.DestPath,
		}
	}
	return out
}

// isDocker reports whether app runs in a DOCKER container.
func isDocker(app *marathon.App) bool {
	return app.Container != nil && (app.Container.Type == marathon.ContainerDocker || app.Container.Type == "")
}
