package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/stadionhq/stadion/framework/events"
	"github.com/stadionhq/stadion/framework/scheduler"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/httpserver"
	"github.com/stadionhq/stadion/internal/marathon"
	"github.com/stadionhq/stadion/internal/state"
)

// Backend is what the API needs from the scheduler: the current View for
// reads, and the commands that the scheduler loop executes.
type Backend interface {
	// View returns the latest published snapshot; never nil.
	View() *scheduler.View
	// Deploy applies change on the loop and starts a deployment.
	Deploy(ctx context.Context, change scheduler.Change, opts scheduler.DeployOptions) (marathon.DeploymentResult, error)
	// DryRun returns the steps of the deployment change would start and
	// changes nothing (PUT /v2/groups?dryRun=true); none when nothing
	// would change.
	DryRun(ctx context.Context, change scheduler.Change, opts scheduler.DeployOptions) ([]marathon.Step, error)
	// KillTasks kills tasks by id (current task ids of instances).
	KillTasks(ctx context.Context, taskIDs []string, opts scheduler.KillOptions) (scheduler.KillResult, error)
	// CancelDeployment stops a deployment; without force it starts the
	// rollback and returns its result, with force it returns nil.
	CancelDeployment(ctx context.Context, id string, force bool) (*marathon.DeploymentResult, error)
	// ResetDelay clears the launch backoff of an app.
	ResetDelay(ctx context.Context, appID marathon.PathID) error
	// AppVersions lists the stored versions of an app, oldest first.
	AppVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error)
	// AppVersion returns one stored version of an app.
	AppVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (marathon.App, bool, error)
	// GroupVersions lists the stored versions of a group, oldest first.
	GroupVersions(ctx context.Context, id marathon.PathID) ([]marathon.Timestamp, error)
	// GroupVersion returns one stored version of a group (PUT
	// /v2/groups/{id} {"version": v}).
	GroupVersion(ctx context.Context, id marathon.PathID, version marathon.Timestamp) (state.Group, bool, error)
}

// DefaultHeartbeat is the interval of the SSE keep-alive, as the Jetty
// EventSourceServlet that Marathon uses (it writes "\r\n" every 10 s).
const DefaultHeartbeat = 10 * time.Second

// Config configures the API handler. Zero values mean the defaults.
type Config struct {
	// Backend is required.
	Backend Backend
	// Events feeds /v2/events and receives api_post_event; nil serves an
	// empty bus.
	Events *events.Bus
	// Info returns the body of GET /v2/info; nil serves a minimal one.
	Info func() marathon.Info
	// Leader returns the leader's "host:port"; false when none is known.
	// Nil means this instance leads, at Info().Leader.
	Leader func() (string, bool)
	// Abdicate gives up this instance's leadership (DELETE /v2/leader);
	// nil answers that there is no election to abdicate from.
	Abdicate func() error
	// Registry receives the HTTP metrics and is served on
	// /metrics/prometheus; nil uses a fresh registry.
	Registry *prometheus.Registry
	// Logger for request errors; nil discards.
	Logger *slog.Logger
	// ACL returns the authorization in force (docs/acl.md), read per
	// request so that a reload applies at once; each request's principal
	// comes from auth.FromContext. A nil ACL func authorizes everything;
	// a func that returns nil denies everything.
	ACL func() *acl.ACL
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// NormalizeOptions shape the admission of app definitions.
	NormalizeOptions marathon.NormalizeOptions
	// Heartbeat is the SSE keep-alive interval; 0 is DefaultHeartbeat.
	Heartbeat time.Duration
	// StreamWriteTimeout bounds each write of the event stream (the
	// server's write timeout does not apply to it): a client that reads
	// nothing for that long loses its stream. 0 is
	// httpserver.DefaultWriteTimeout.
	StreamWriteTimeout time.Duration
	// Closing is closed when the HTTP server starts to shut down: the
	// event streams then return, so that each ends with the final chunk
	// of its chunked encoding instead of being cut when Shutdown gives
	// up on them. nil: streams end only with their client.
	Closing <-chan struct{}
}

// Validate reports a Config that cannot be used.
func (c Config) Validate() error {
	if c.Backend == nil {
		return errors.New("api: no Backend")
	}
	if c.Heartbeat < 0 {
		return errors.New("api: negative Heartbeat")
	}
	if c.StreamWriteTimeout < 0 {
		return errors.New("api: negative StreamWriteTimeout")
	}
	return nil
}

// server holds the configured dependencies of the handlers.
type server struct {
	cfg     Config
	backend Backend
	bus     *events.Bus
	log     *slog.Logger
	now     func() time.Time
	metrics *httpMetrics
	// marathonHTTP and started feed Marathon's metrics (/metrics).
	marathonHTTP *marathonHTTP
	started      time.Time
	// defs caches the apps' definition JSON (render.go).
	defs defCache

	// Sub-routes of the /v2/apps/{rest...} catch-all.
	appsList, appsCreate, appsPut, appsPatch   http.Handler
	appGet, appPut, appPatch, appDelete        http.Handler
	appGroupGet                                http.Handler
	appRestart                                 http.Handler
	appTasksGet, appTasksDelete, appTaskDelete http.Handler
	appVersionsGet, appVersionGet              http.Handler
	appNotFound                                http.Handler
}

// New returns the handler of the whole HTTP API. The configuration must be
// valid (Config.Validate) and the registry must not hold other collectors
// under the API's metric names: New panics otherwise, as http.ServeMux
// does on a bad pattern, since both are programming errors.
func New(cfg Config) http.Handler {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	s := &server{cfg: cfg, backend: cfg.Backend, bus: cfg.Events, log: cfg.Logger, now: cfg.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("component", "api")
	if s.now == nil {
		s.now = time.Now
	}
	if s.bus == nil {
		s.bus = events.NewBus(events.Config{Logger: s.log})
	}
	if s.cfg.Heartbeat == 0 {
		s.cfg.Heartbeat = DefaultHeartbeat
	}
	if s.cfg.StreamWriteTimeout == 0 {
		s.cfg.StreamWriteTimeout = httpserver.DefaultWriteTimeout
	}
	reg := cfg.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	m, err := newHTTPMetrics(reg)
	if err != nil {
		panic(fmt.Errorf("api: register metrics: %w", err))
	}
	s.metrics = m
	if err := registerStoreMetrics(reg, s.backend); err != nil {
		panic(fmt.Errorf("api: register metrics: %w", err))
	}
	s.started = s.now()
	s.marathonHTTP = newMarathonHTTP(s.now)
	// Marathon's metrics are this handler's own: they sit in a registry of
	// their own, gathered with reg's, so that handlers sharing reg do not
	// collect them twice.
	own := prometheus.NewRegistry()
	own.MustRegister(marathonCollector{s})
	gatherers := prometheus.Gatherers{reg, own}

	mux := http.NewServeMux()
	h := func(pattern, route string, fn handlerFunc) {
		mux.Handle(pattern, s.wrap(route, fn))
	}
	s.appsList = s.wrap("/v2/apps", s.listApps)
	s.appsCreate = s.wrap("/v2/apps", s.createApp)
	s.appsPut = s.wrap("/v2/apps", s.putApps)
	s.appsPatch = s.wrap("/v2/apps", s.patchApps)
	mux.Handle("GET /v2/apps", s.appsList)
	mux.Handle("POST /v2/apps", s.appsCreate)
	mux.Handle("PUT /v2/apps", s.appsPut)
	mux.Handle("PATCH /v2/apps", s.appsPatch)
	mux.HandleFunc("/v2/apps/{rest...}", s.appsDispatch)
	s.appGet = s.wrap("/v2/apps/{id}", s.getApp)
	s.appGroupGet = s.wrap("/v2/apps/{group}/*", s.getGroupApps)
	s.appPut = s.wrap("/v2/apps/{id}", s.putApp)
	s.appPatch = s.wrap("/v2/apps/{id}", s.patchApp)
	s.appDelete = s.wrap("/v2/apps/{id}", s.deleteApp)
	s.appRestart = s.wrap("/v2/apps/{id}/restart", s.restartApp)
	s.appTasksGet = s.wrap("/v2/apps/{id}/tasks", s.getAppTasks)
	s.appTasksDelete = s.wrap("/v2/apps/{id}/tasks", s.deleteAppTasks)
	s.appTaskDelete = s.wrap("/v2/apps/{id}/tasks/{taskId}", s.deleteAppTask)
	s.appVersionsGet = s.wrap("/v2/apps/{id}/versions", s.getAppVersions)
	s.appVersionGet = s.wrap("/v2/apps/{id}/versions/{version}", s.getAppVersion)
	s.appNotFound = s.wrap("/v2/apps/{id}", s.methodNotAllowed)

	h("GET /v2/tasks", "/v2/tasks", s.listTasks)
	h("POST /v2/tasks/delete", "/v2/tasks/delete", s.deleteTasks)

	h("GET /v2/deployments", "/v2/deployments", s.listDeployments)
	h("DELETE /v2/deployments/{id}", "/v2/deployments/{id}", s.deleteDeployment)

	h("GET /v2/queue", "/v2/queue", s.getQueue)
	h("DELETE /v2/queue/{rest...}", "/v2/queue/{id}/delay", s.resetDelay)

	h("GET /v2/groups", "/v2/groups", s.getGroup)
	h("GET /v2/groups/{id...}", "/v2/groups/{id}", s.getGroup)
	h("POST /v2/groups", "/v2/groups", s.createGroup)
	h("POST /v2/groups/{id...}", "/v2/groups/{id}", s.createGroup)
	h("PUT /v2/groups", "/v2/groups", s.putGroup)
	h("PUT /v2/groups/{id...}", "/v2/groups/{id}", s.putGroup)
	h("PATCH /v2/groups/{id...}", "/v2/groups/{id}", s.patchGroup)
	h("DELETE /v2/groups", "/v2/groups", s.deleteGroup)
	h("DELETE /v2/groups/{id...}", "/v2/groups/{id}", s.deleteGroup)

	h("GET /v2/plugins", "/v2/plugins", s.getPlugins)
	h("/v2/plugins/{rest...}", "/v2/plugins/{id}", s.pluginNotFound)
	h("/v2/pods", "/v2/pods", s.pods)
	h("/v2/pods/{rest...}", "/v2/pods/{id}", s.pod)

	h("GET /v2/info", "/v2/info", s.getInfo)
	h("GET /v2/leader", "/v2/leader", s.getLeader)
	h("DELETE /v2/leader", "/v2/leader", s.deleteLeader)
	h("GET /ping", "/ping", s.ping)
	mux.Handle("GET /v2/events", s.instrument("/v2/events", http.HandlerFunc(s.streamEvents)))
	// Marathon's JSON at /metrics, Prometheus's text (Marathon's metrics
	// and Stadion's stadion_*) at /metrics/prometheus, as Marathon 1.10.
	mux.Handle("GET /metrics", s.instrument("/metrics", http.HandlerFunc(s.getMetrics)))
	mux.Handle("GET /metrics/prometheus", s.instrument("/metrics/prometheus", promhttp.HandlerFor(gatherers, promhttp.HandlerOpts{})))
	return mux
}
