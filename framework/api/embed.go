package api

import (
	"net/http"
	"strings"
)

// appEmbedOf reads the embed parameters of the app endpoints. The
// prefixes "apps.", "app.", "group.apps." and none are interchangeable, as
// in Marathon's InfoEmbedResolver; unknown values are ignored. "failures"
// is the deprecated tasks plus lastTaskFailure. tasks imply deployments, which
// are always embedded anyway.
func appEmbedOf(r *http.Request) appEmbed {
	var e appEmbed
	for _, v := range r.URL.Query()["embed"] {
		for _, tok := range strings.Split(v, ",") {
			e.add(strings.TrimSpace(tok))
		}
	}
	return e
}

func (e *appEmbed) add(tok string) {
	for _, p := range []string{"group.apps.", "apps.", "app."} {
		if strings.HasPrefix(tok, p) {
			tok = strings.TrimPrefix(tok, p)
			break
		}
	}
	switch tok {
	case "tasks":
		e.tasks = true
	case "readiness":
		e.readiness = true
	case "lastTaskFailure":
		e.lastTaskFailure = true
	case "failures":
		// Deprecated: tasks, lastTaskFailure and deployments together.
		e.tasks, e.lastTaskFailure = true, true
	case "taskStats":
		e.taskStats = true
	}
}

// groupEmbed says what GET /v2/groups embeds.
type groupEmbed struct {
	groups, apps bool
	// appInfo is set when an apps.* embed asks for runtime fields; the
	// apps are then written as AppInfo.
	appInfo bool
	app     appEmbed
}

// groupEmbedOf reads the embed parameters of /v2/groups. Without any, the
// default is group.groups and group.apps.
func groupEmbedOf(r *http.Request) groupEmbed {
	vals := r.URL.Query()["embed"]
	if len(vals) == 0 {
		return groupEmbed{groups: true, apps: true}
	}
	var e groupEmbed
	for _, v := range vals {
		for _, tok := range strings.Split(v, ",") {
			tok = strings.TrimSpace(tok)
			switch {
			case tok == "group.groups":
				e.groups = true
			case tok == "group.apps":
				e.apps = true
			case strings.HasPrefix(tok, "group.apps."):
				e.apps, e.appInfo = true, true
				e.app.add(tok)
			}
		}
	}
	return e
}
