package api

import (
	"fmt"
	"net/http"
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
	return plainText("pong\n"), nil
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

// podsNotFound answers /v2/pods and everything below it: pods are not
// implemented, so there are none, and the answer is Marathon's JSON 404
// (HEAD /v2/pods answers 404 too, which tells clients that probe for pod
// support that there is none).
func (s *server) podsNotFound(w http.ResponseWriter, r *http.Request) (any, error) {
	raw := strings.Trim(r.PathValue("rest"), "/")
	if raw == "" {
		return nil, &marathon.Error{Status: http.StatusNotFound, Message: "Pods are not supported"}
	}
	raw, _, _ = strings.Cut(raw, "::")
	return nil, &marathon.Error{Status: http.StatusNotFound, Message: fmt.Sprintf("Pod '%s' does not exist", marathon.PathID("/"+raw).Canonical())}
}
