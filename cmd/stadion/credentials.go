package main

import (
	"flag"
	"net/url"
	"os"
	"strings"

	"github.com/stadionhq/stadion/internal/clientauth"
)

// urlFlag is a string flag holding URLs (a comma list) that may carry
// user:password@: its String, which --help prints as the default, hides
// the passwords.
type urlFlag struct{ p *string }

var _ flag.Value = urlFlag{}

func (f urlFlag) String() string {
	if f.p == nil {
		return ""
	}
	return clientauth.RedactList(*f.p)
}

func (f urlFlag) Set(s string) error {
	*f.p = s
	return nil
}

// urlVar registers an urlFlag with default def.
func urlVar(fs *flag.FlagSet, p *string, name, def, usage string) {
	*p = def
	fs.Var(urlFlag{p}, name, usage)
}

// schedulerCredentials resolves the credentials of the scheduler's API
// for the tools: the credentials file, else MARATHON_CREDENTIALS, else
// user:password@ in the URLs (see clientauth.Resolve). URLs without a
// scheme ("host:port") are read as http.
func schedulerCredentials(file string, urls []string) (clientauth.Credentials, error) {
	src := clientauth.Source{File: file, Env: os.Getenv(clientauth.EnvCredentials)}
	for _, s := range urls {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "://") {
			s = "http://" + s
		}
		if u, err := url.Parse(s); err == nil {
			src.URLs = append(src.URLs, u)
		}
	}
	return clientauth.Resolve(src)
}
