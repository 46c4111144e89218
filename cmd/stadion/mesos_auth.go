package main

import (
	"fmt"
	"log/slog"

	"github.com/stadionhq/stadion/internal/mesos/master"
)

// masterAuthFlags are the authentication flags of the built-in master, with
// Mesos's names. The built-in master has HTTP frameworks only, so
// --authenticate_frameworks (alias --authenticate) and
// --authenticate_http_frameworks mean the same.
type masterAuthFlags struct {
	frameworks, alias, httpFrameworks bool
	agents                            bool
	authenticators                    string
	credentials                       string
}

func addMasterAuthFlags(f *envFlags) *masterAuthFlags {
	a := &masterAuthFlags{}
	f.Bool(&a.frameworks, "authenticate_frameworks", false, "only frameworks that authenticate with HTTP Basic credentials from --credentials may use /api/v1/scheduler; same as --authenticate_http_frameworks")
	f.Bool(&a.alias, "authenticate", false, "alias of --authenticate_frameworks")
	f.Bool(&a.httpFrameworks, "authenticate_http_frameworks", false, "only HTTP frameworks that authenticate with credentials from --credentials may subscribe (Mesos's flag for the v1 scheduler API)")
	f.String(&a.authenticators, "http_framework_authenticators", "basic", "HTTP authenticator of frameworks: basic, the only one")
	f.Bool(&a.agents, "authenticate_agents", false, "only agents that authenticate with credentials from --credentials may register")
	f.String(&a.credentials, "credentials", "", `path (or file:///path) of the JSON credentials file, {"credentials": [{"principal": "...", "secret": "..."}]}`)
	return a
}

// apply sets the authentication of cfg; a warning about the file goes to
// log.
func (a *masterAuthFlags) apply(cfg *master.Config, log *slog.Logger) error {
	if a.authenticators != "basic" {
		return fmt.Errorf("--http_framework_authenticators %q: only basic is supported", a.authenticators)
	}
	cfg.AuthenticateFrameworks = a.frameworks || a.alias || a.httpFrameworks
	cfg.AuthenticateAgents = a.agents
	if a.credentials == "" {
		if cfg.AuthenticateFrameworks || cfg.AuthenticateAgents {
			return fmt.Errorf("authentication needs --credentials")
		}
		return nil
	}
	creds, warning, err := master.ReadCredentials(a.credentials)
	if err != nil {
		return err
	}
	if warning != "" {
		log.Warn("credentials file accessible by others", "path", a.credentials)
	}
	cfg.Credentials = creds
	return nil
}
