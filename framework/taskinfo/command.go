package taskinfo

import (
	"slices"

	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos"
)

// envTaskID names the task id variable Marathon adds.
const envTaskID = "MESOS_TASK_ID"

// command builds the CommandInfo: value/shell/arguments from cmd or args,
// the environment, fetch URIs and user (the app's, else defaultUser unless
// the task is a DOCKER container).
func command(app *marathon.App, taskID, hostname, prefix string, hostPorts []uint32, defaultUser string) *mesos.CommandInfo {
	c := &mesos.CommandInfo{
		Environment: environment(app, taskID, hostname, prefix, hostPorts),
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
	return c
}

// environment is marathon.TaskEnv plus MESOS_TASK_ID, sorted by name.
func environment(app *marathon.App, taskID, hostname, prefix string, hostPorts []uint32) *mesos.Environment {
	env := marathon.TaskEnv(*app, hostPorts, hostname, prefix)
	if v, ok := app.Env[envTaskID]; !ok || v.IsSecret() {
		env[envTaskID] = taskID
	}
	names := make([]string, 0, len(env))
	for k := range env {
		names = append(names, k)
	}
	slices.Sort(names)
	vars := make([]mesos.Variable, len(names))
	for i, k := range names {
		vars[i] = mesos.Variable{Name: k, Value: ptr(env[k])}
	}
	return &mesos.Environment{Variables: vars}
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
