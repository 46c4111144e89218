package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
)

// getInfo is GET /v2/info.
func (s *server) getInfo(w http.ResponseWriter, r *http.Request) (any, error) {
	return s.info(), nil
}

func (s *server) info() marathon.Info {
	if s.cfg.Info != nil {
		return s.cfg.Info()
	}
	return marathon.Info{
		Name: "marathon", Version: "1.10.0", Elected: true,
		FrameworkID:     s.backend.View().FrameworkID,
		MarathonConfig:  map[string]any{},
		ZookeeperConfig: map[string]any{},
	}
}

// getLeader is GET /v2/leader: {"leader": "host:port"} or 404.
func (s *server) getLeader(w http.ResponseWriter, r *http.Request) (any, error) {
	var addr string
	var ok bool
	if s.cfg.Leader != nil {
		addr, ok = s.cfg.Leader()
	} else {
		addr = s.info().Leader
		ok = addr != ""
	}
	if !ok {
		return nil, marathon.NoLeader()
	}
	return marathon.Leader{Leader: addr}, nil
}

// deleteLeader is DELETE /v2/leader: the leader abdicates and another
// instance takes over (this one joins the election again, behind the
// others; Marathon's process exits instead). Without HA the server's
// Abdicate stops it after the answer, as Marathon's process exits.
func (s *server) deleteLeader(w http.ResponseWriter, r *http.Request) (any, error) {
	// Abdicating moves every app's scheduler: under an ACL it takes
	// update on the root group.
	if err := s.authzOf(r).check(acl.Update, marathon.RootID); err != nil {
		return nil, err
	}
	if s.cfg.Abdicate == nil {
		return nil, &marathon.Error{Status: http.StatusBadRequest, Message: "Leadership can only be abdicated with high availability (--zk without --disable_ha)"}
	}
	if err := s.cfg.Abdicate(); err != nil {
		return nil, err
	}
	return marathon.Message{Message: "Leadership abdicated"}, nil
}

// ping is GET /ping.
// It answers 503 while the state store cannot write, so that a load
// balancer or supervisor that checks /ping sees a scheduler that cannot
// accept changes.
func (s *server) ping(w http.ResponseWriter, r *http.Request) (any, error) {
	w.Header().Set("Cache-Control", "must-revalidate,no-cache,no-store")
	if st := s.backend.View().Store; st.Failing {
		text := "store cannot write: " + st.Error + "\n"
		return reply{status: http.StatusServiceUnavailable, text: &text}, nil
	}
	return pong(r.Header.Values("Accept")), nil
}

// pongVariants are the answers of /ping in the order Marathon's
// SystemResource offers them: text/plain first, so that */* and text/*
// get text.
var pongVariants = []string{"text/plain", "text/html", "application/json"}

// pong negotiates /ping's answer as Marathon does: "pong" as text/plain
// (also without an Accept header) or text/html, the JSON string "pong" as
// application/json, and 204 without a body when the client accepts none
// of them.
func pong(accept []string) reply {
	ranges := parseAccept(accept)
	if len(ranges) == 0 {
		return plainText("pong")
	}
	best, bestQ := "", 0.0
	for _, v := range pongVariants {
		if q := acceptQ(ranges, v); q > bestQ {
			best, bestQ = v, q
		}
	}
	switch best {
	case "":
		return reply{status: http.StatusNoContent}
	case "application/json":
		return reply{status: http.StatusOK, body: "pong"}
	}
	text := "pong"
	return reply{status: http.StatusOK, text: &text, textType: best}
}

// mediaRange is one entry of an Accept header.
type mediaRange struct {
	typ, sub string
	q        float64
}

// maxAcceptRanges bounds the media ranges read from Accept headers.
const maxAcceptRanges = 32

// parseAccept reads the media ranges of Accept header values; a range
// without a valid q has q=1.
func parseAccept(values []string) []mediaRange {
	var out []mediaRange
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			if len(out) == maxAcceptRanges {
				return out
			}
			mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			typ, sub, ok := strings.Cut(strings.ToLower(strings.TrimSpace(mt)), "/")
			if !ok || typ == "" || sub == "" {
				continue
			}
			r := mediaRange{typ: typ, sub: sub, q: 1}
			for _, p := range strings.Split(params, ";") {
				k, val, _ := strings.Cut(strings.TrimSpace(p), "=")
				if strings.EqualFold(k, "q") {
					if q, err := strconv.ParseFloat(val, 64); err == nil && q >= 0 && q <= 1 {
						r.q = q
					}
				}
			}
			out = append(out, r)
		}
	}
	return out
}

// acceptQ is the quality the ranges give media type t: that of the most
// specific range matching it (type/sub over type/* over */*), 0 when none
// does.
func acceptQ(ranges []mediaRange, t string) float64 {
	typ, sub, _ := strings.Cut(t, "/")
	q, spec := 0.0, -1
	for _, r := range ranges {
		s := -1
		switch {
		case r.typ == typ && r.sub == sub:
			s = 2
		case r.typ == typ && r.sub == "*":
			s = 1
		case r.typ == "*" && r.sub == "*":
			s = 0
		}
		if s > spec {
			q, spec = r.q, s
		}
	}
	return q
}

// pluginList is the body of GET /v2/plugins.
type pluginList struct {
	Plugins []struct{} `json:"plugins"`
}

// getPlugins is GET /v2/plugins: Stadion loads no Marathon plugins, so the
// list is empty, as Marathon's without any.
func (s *server) getPlugins(w http.ResponseWriter, r *http.Request) (any, error) {
	return pluginList{Plugins: []struct{}{}}, nil
}

// pluginNotFound answers every request to a plugin's path as Marathon's
// PluginsResource does for an unknown plugin id.
func (s *server) pluginNotFound(w http.ResponseWriter, r *http.Request) (any, error) {
	id, _, _ := strings.Cut(strings.Trim(r.PathValue("rest"), "/"), "/")
	return nil, &marathon.Error{Status: http.StatusNotFound, Message: "No plugin with this pluginId: " + id}
}

// podsNotFound answers /v2/pods and everything below it when the Backend
// runs no pods (it is no PodBackend): Marathon's JSON 404 (HEAD /v2/pods
// answers 404 too, which tells clients that probe for pod support that
// there is none).
func (s *server) podsNotFound(w http.ResponseWriter, r *http.Request) (any, error) {
	raw := strings.Trim(r.PathValue("rest"), "/")
	if raw == "" {
		return nil, &marathon.Error{Status: http.StatusNotFound, Message: "Pods are not supported"}
	}
	raw, _, _ = strings.Cut(raw, "::")
	return nil, &marathon.Error{Status: http.StatusNotFound, Message: fmt.Sprintf("Pod '%s' does not exist", marathon.PathID("/"+raw).Canonical())}
}
