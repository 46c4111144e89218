package scheduler

import (
	"github.com/stadionhq/stadion/internal/marathon"
)

// SecretResolver gives the values of app secrets (secrets.Resolver). The
// loop calls it, so it must not wait on I/O: a value it does not know yet
// is fetched in the background, and Changed is signalled when a fetch ends.
type SecretResolver interface {
	// Value returns the value of a Secret.Source, or ok false while it
	// is not known (err: the last fetch's failure).
	Value(source string) (value string, ok bool, err error)
	// Changed is signalled when a fetch ends.
	Changed() <-chan struct{}
}

// appSecrets returns the values of the secrets app's env refers to, by
// secret name; ok is false while one of them is not known yet (or cannot
// be fetched: the resolver logs why and tries again). An app without
// secret references needs no resolver.
func (s *Scheduler) appSecrets(app *marathon.App) (map[string]string, bool) {
	return s.secretValues(app.Secrets, app.Env)
}

// secretValues resolves the secrets that envs refer to, as appSecrets.
func (s *Scheduler) secretValues(secrets map[string]marathon.Secret, envs ...map[string]marathon.EnvVar) (map[string]string, bool) {
	var out map[string]string
	for _, env := range envs {
		for _, v := range env {
			if !v.IsSecret() {
				continue
			}
			if _, done := out[v.Secret]; done {
				continue
			}
			if s.cfg.Secrets == nil {
				return nil, false
			}
			value, ok, _ := s.cfg.Secrets.Value(secrets[v.Secret].Source)
			if !ok {
				return nil, false
			}
			if out == nil {
				out = map[string]string{}
			}
			out[v.Secret] = value
		}
	}
	return out, true
}

// secretsChanged is the resolver's Changed channel; nil (never ready)
// without a resolver.
func (s *Scheduler) secretsChanged() <-chan struct{} {
	if s.cfg.Secrets == nil {
		return nil
	}
	return s.cfg.Secrets.Changed()
}
