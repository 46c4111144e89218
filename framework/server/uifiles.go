package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/framework/ui"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/mesos/local"
)

// uiHandler is the web UI with its task files proxy: tasks are found in
// the scheduler's view, reading a sandbox needs view_secrets under an
// ACL, and agents are found in the built-in cluster (with its files
// token) or in the Mesos master's /master/state, with filesToken
// (--mesos_agent_files_token_file), or none for a Mesos agent that does
// not authenticate reads.
func uiHandler(cfg Config, b backend, cluster *local.Cluster, master func() string, filesToken string, log *slog.Logger) http.Handler {
	hc := &http.Client{Timeout: 10 * time.Second}
	files := ui.NewFiles(ui.FilesConfig{
		Task:    func(id string) (ui.Task, bool) { return viewTask(b, id) },
		Allowed: func(r *http.Request, appID string) bool { return mayReadSandbox(cfg, r, appID) },
		Agent: func(ctx context.Context, id string) (ui.Agent, error) {
			if cluster != nil {
				for _, a := range cluster.Agents {
					if a.ID() == id {
						return ui.Agent{URL: a.URL(), Token: cluster.FilesToken}, nil
					}
				}
			}
			a, err := masterAgent(ctx, hc, master(), id)
			a.Token = filesToken
			return a, err
		},
		Client: hc,
		Logger: log,
	})
	return ui.New(ui.Config{Files: files})
}

// viewTask finds a task in the current view: in the app its id names,
// else in every app (a prefix with "_" can name more than one path).
func viewTask(b backend, taskID string) (ui.Task, bool) {
	v := b.View()
	find := func(a *scheduler.AppView) (ui.Task, bool) {
		for _, in := range a.Instances {
			if in.TaskID == taskID {
				return ui.Task{AppID: string(a.App.ID), AgentID: in.AgentID}, true
			}
		}
		return ui.Task{}, false
	}
	if id, _, err := marathon.ParseTaskID(taskID); err == nil {
		if a := v.App(id); a != nil {
			if t, ok := find(a); ok {
				return t, true
			}
		}
	}
	for _, a := range v.Apps {
		if t, ok := find(a); ok {
			return t, true
		}
	}
	return ui.Task{}, false
}

// mayReadSandbox: without an ACL anyone the guard let in; under one the
// principal needs view_secrets on the app, since sandboxes hold file
// secrets and what tasks print.
func mayReadSandbox(cfg Config, r *http.Request, appID string) bool {
	if cfg.ACL == nil {
		return true
	}
	p, ok := auth.FromContext(r.Context())
	return ok && cfg.ACL().Allows(p.Name, acl.ViewSecrets, marathon.PathID(appID))
}

// masterAgent finds an agent's URL in the master's /master/state: from
// its pid, "slave(1)@ip:port", as the Mesos web UI does.
func masterAgent(ctx context.Context, hc *http.Client, master, agentID string) (ui.Agent, error) {
	if master == "" {
		return ui.Agent{}, fmt.Errorf("no Mesos master known")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(master, "/")+"/master/state", nil)
	if err != nil {
		return ui.Agent{}, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return ui.Agent{}, fmt.Errorf("read the master's state: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return ui.Agent{}, fmt.Errorf("read the master's state: status %d", resp.StatusCode)
	}
	var st struct {
		Slaves []struct {
			ID  string `json:"id"`
			PID string `json:"pid"`
		} `json:"slaves"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&st); err != nil {
		return ui.Agent{}, fmt.Errorf("decode the master's state: %w", err)
	}
	for _, s := range st.Slaves {
		if s.ID != agentID {
			continue
		}
		_, hostPort, ok := strings.Cut(s.PID, "@")
		if _, _, err := net.SplitHostPort(hostPort); !ok || err != nil {
			return ui.Agent{}, fmt.Errorf("agent %s has no usable pid %q", agentID, s.PID)
		}
		return ui.Agent{URL: "http://" + hostPort}, nil
	}
	return ui.Agent{}, fmt.Errorf("agent %s is not in the master's state", agentID)
}
