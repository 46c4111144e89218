package marathon

// RedactedValue replaces the env values that a reader may not see.
const RedactedValue = "*****"

// HasEnvValues reports whether the app's env holds a plain value (secret
// references name a secret, not its value).
func HasEnvValues(app *App) bool {
	for _, v := range app.Env {
		if !v.IsSecret() {
			return true
		}
	}
	return false
}

// RedactEnv returns app with every plain env value replaced by
// RedactedValue; the names stay, and so do secret references. The app's
// own map is left alone.
func RedactEnv(app App) App {
	if !HasEnvValues(&app) {
		return app
	}
	env := make(map[string]EnvVar, len(app.Env))
	for k, v := range app.Env {
		if !v.IsSecret() {
			v.Value = RedactedValue
		}
		env[k] = v
	}
	app.Env = env
	return app
}

// RedactGroup returns g with the env of every app in it redacted
// (RedactEnv), sharing nothing that it changes with g.
func RedactGroup(g Group) Group {
	if g.Apps != nil {
		apps := make([]App, len(g.Apps))
		for i, a := range g.Apps {
			apps[i] = RedactEnv(a)
		}
		g.Apps = apps
	}
	if g.Groups != nil {
		groups := make([]Group, len(g.Groups))
		for i, sub := range g.Groups {
			groups[i] = RedactGroup(sub)
		}
		g.Groups = groups
	}
	return g
}
