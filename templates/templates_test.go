package templates

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stadionhq/stadion/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden renders in testdata")

// instance is one service instance registered in the catalog, as
// `stadion registrator --mode catalog` would register a task port.
type instance struct {
	node, addr string
	id, name   string
	port       int
	tags       []string
	status     string // of its one check: passing, warning or critical
}

// tags gives the tags the article's service.json gives every instance
// (SERVICE_TAGS=$environment,...): env, then extra, then the owner tag.
func tags(env string, extra ...string) []string {
	return append([]string{env}, append(extra, "stadion")...)
}

// catalog is the fixed content of Consul that the golden renders show.
var catalog = []instance{
	// test-server: two passing production instances and one critical one,
	// one passing staging instance.
	{node: "mesos-agent-1", addr: "10.0.0.11", id: "app_production_test-server.instance-0a1b2c3d._app.1:3000", name: "test-server", port: 31000,
		tags: tags("production", "internal-listen-http-3000", "external-http-host-mesos-test.domain.com"), status: "passing"},
	{node: "mesos-agent-2", addr: "10.0.0.12", id: "app_production_test-server.instance-1a1b2c3d._app.1:3000", name: "test-server", port: 31001,
		tags: tags("production", "internal-listen-http-3000", "external-http-host-mesos-test.domain.com"), status: "passing"},
	{node: "mesos-agent-3", addr: "10.0.0.13", id: "app_production_test-server.instance-2a1b2c3d._app.1:3000", name: "test-server", port: 31002,
		tags: tags("production", "internal-listen-http-3000", "external-http-host-mesos-test.domain.com"), status: "critical"},
	{node: "mesos-agent-3", addr: "10.0.0.13", id: "app_staging_test-server.instance-3a1b2c3d._app.1:3000", name: "test-server", port: 31005,
		tags: tags("staging", "internal-listen-http-3000", "external-http-host-mesos-test.domain.com"), status: "passing"},
	// billing: two ports, least connections, a host in capitals; its only
	// staging instance is critical, so its staging routes answer 503.
	{node: "mesos-agent-2", addr: "10.0.0.12", id: "app_production_billing.instance-4a1b2c3d._app.1:4000", name: "billing", port: 31010,
		tags: tags("production", "internal-listen-http-4000", "internal-listen-http-4001", "balance-leastconn", "external-http-host-Billing.Domain.com"), status: "passing"},
	{node: "mesos-agent-1", addr: "10.0.0.11", id: "app_staging_billing.instance-5a1b2c3d._app.1:4000", name: "billing", port: 31011,
		tags: tags("staging", "internal-listen-http-4000", "internal-listen-http-4001", "balance-leastconn", "external-http-host-Billing.Domain.com"), status: "critical"},
	// zeta: every claim is refused (port and host taken, port reserved,
	// port too large for its staging twin, host not a host name), so it
	// gets no route at all.
	{node: "mesos-agent-1", addr: "10.0.0.11", id: "app_production_zeta.instance-6a1b2c3d._app.1:3000", name: "zeta", port: 31020,
		tags: tags("production", "internal-listen-http-3000", "internal-listen-http-8080", "internal-listen-http-70000", "external-http-host-mesos-test.domain.com", "external-http-host-bad_host",
			"internal-listen-http-1\n    stats socket /tmp/evil.sock level admin"), status: "passing"},
	// Neither a routing tag nor a name a template can use.
	{node: "mesos-agent-1", addr: "10.0.0.11", id: "app_production_worker.instance-7a1b2c3d._app.1", name: "worker", port: 31030,
		tags: tags("production"), status: "passing"},
	{node: "mesos-agent-2", addr: "10.0.0.12", id: "legacy-1", name: "legacy.api", port: 31040,
		tags: tags("production", "internal-listen-http-5000"), status: "passing"},
	// The well-known Marathon: two masters up, one down.
	{node: "mesos-master-1", addr: "10.0.1.1", id: "marathon", name: "marathon", port: 8080, status: "passing"},
	{node: "mesos-master-2", addr: "10.0.1.2", id: "marathon", name: "marathon", port: 8080, status: "passing"},
	{node: "mesos-master-3", addr: "10.0.1.3", id: "marathon", name: "marathon", port: 8080, status: "critical"},
	// The well-known Chronos (stadion jobs): two instances.
	{node: "mesos-master-1", addr: "10.0.1.1", id: "chronos", name: "chronos", port: 4400, status: "passing"},
	{node: "mesos-master-2", addr: "10.0.1.2", id: "chronos", name: "chronos", port: 4400, status: "passing"},
}

// TestRender renders both templates against a Consul holding catalog and
// checks each render against its golden file and its proxy's validator.
func TestRender(t *testing.T) {
	consulTemplate := testenv.Binary(t, "consul-template")
	haproxy := testenv.Binary(t, "haproxy")
	nginx := testenv.Binary(t, "nginx")
	consul := testenv.StartConsul(t)
	for _, in := range catalog {
		register(t, consul.HTTPAddr, in)
	}
	putKV(t, consul.HTTPAddr, "service/haproxy/maxconn", "2048")

	out := t.TempDir()
	renders := render(t, consulTemplate, consul.HTTPAddr, out, "haproxy.cfg", "nginx.conf")

	tests := []struct {
		name     string
		file     string
		contains []string
		absent   []string
		check    func(t *testing.T, path string)
	}{
		{
			name: "haproxy",
			file: "haproxy.cfg",
			contains: []string{
				"maxconn 2048",
				"stats socket /run/haproxy/admin.sock mode 660 level admin expose-fd listeners",
				"bind :3000\n    default_backend cluster_production:test-server",
				"bind :13000\n    default_backend cluster_staging:test-server",
				"bind :14001\n    default_backend cluster_staging:billing",
				"bind :18080", "bind :14400", "bind :18500", "bind :80",
				"server mesos-master-1:chronos 10.0.1.1:4400",
				"10.0.0.11:31000 check", "10.0.0.12:31001 check", "10.0.0.13:31005 check",
				"acl host_staging:billing req.hdr(host),field(1,:),lower -m str staging-billing.domain.com",
				"balance leastconn",
				"# skipped: zeta tag internal-listen-http-3000: port 3000 taken by test-server",
				"# skipped: zeta tag internal-listen-http-8080: port 8080 is reserved",
				"# skipped: zeta tag internal-listen-http-70000: not a port from 1 to 9999",
				"# skipped: zeta tag external-http-host-bad_host: not a host name",
				"# skipped: zeta tag external-http-host-mesos-test.domain.com: host mesos-test.domain.com taken by test-server",
			},
			absent: []string{
				"31002", "31011", "31020", "10.0.1.3", ":zeta", ":worker", "legacy", ":170000", ":5000", "bad_host ",
			},
			check: func(t *testing.T, path string) { checkHAProxy(t, haproxy, path) },
		},
		{
			name: "nginx",
			file: "nginx.conf",
			contains: []string{
				"listen 3000;\n        location / {\n            proxy_pass http://cluster_production_test-server;",
				"listen 13000;\n        location / {\n            proxy_pass http://cluster_staging_test-server;",
				"listen 14000;\n        return 503;",
				"listen 18080;", "listen 18500;", "listen 80 default_server;",
				"server 10.0.0.11:31000 ", "server 10.0.0.12:31001 ", "server 10.0.0.13:31005 ",
				"server_name staging-billing.domain.com;",
				"least_conn;",
				"add_header X-Frame-Options DENY always;",
			},
			absent: []string{
				"31002", "31011", "31020", "10.0.1.3", "upstream cluster_staging_billing", "_zeta", "_worker", "legacy", "170000", "listen 5000", "bad_host;",
			},
			check: func(t *testing.T, path string) { checkNginx(t, nginx, path) },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := renders[tc.file]
			golden := filepath.Join("testdata", tc.file+".golden")
			checkRender(t, got, golden, tc.contains, tc.absent)
			// A tag with a newline stays inside its comment.
			for line := range strings.Lines(got) {
				if strings.Contains(line, "evil.sock") && !strings.HasPrefix(strings.TrimSpace(line), "# skipped: zeta tag internal-listen-http-1?") {
					t.Errorf("a tag escaped its comment: %q", line)
				}
			}
			tc.check(t, filepath.Join(out, tc.file))
		})
	}
}

// TestRenderEmpty renders both templates against an empty Consul: only the
// well-known services, with no Marathon nor Chronos (backends without
// servers), and both renders still valid.
func TestRenderEmpty(t *testing.T) {
	consulTemplate := testenv.Binary(t, "consul-template")
	haproxy := testenv.Binary(t, "haproxy")
	nginx := testenv.Binary(t, "nginx")
	consul := testenv.StartConsul(t)
	out := t.TempDir()
	renders := render(t, consulTemplate, consul.HTTPAddr, out, "haproxy.cfg", "nginx.conf")

	checkHAProxy(t, haproxy, filepath.Join(out, "haproxy.cfg"))
	checkNginx(t, nginx, filepath.Join(out, "nginx.conf"))
	for file, want := range map[string]string{
		"haproxy.cfg": "    timeout server 2m\n\nfrontend well_known_in:chronos",
		"nginx.conf":  "listen 18080;\n        return 503;",
	} {
		if !strings.Contains(renders[file], want) {
			t.Errorf("%s lacks %q:\n%s", file, want, renders[file])
		}
	}
	for file, r := range renders {
		if strings.Contains(r, "cluster_") {
			t.Errorf("%s has a cluster without any service:\n%s", file, r)
		}
	}
}

// TestMaxconnFallback checks that a connection limit key (HAProxy maxconn,
// nginx worker_connections) that is not a plain number never reaches the
// configuration: the default 4096 is used instead.
func TestMaxconnFallback(t *testing.T) {
	consulTemplate := testenv.Binary(t, "consul-template")
	consul := testenv.StartConsul(t)
	tests := []struct {
		name  string
		file  string
		key   string
		value string // "" leaves the key unset
		want  string
	}{
		{name: "haproxy unset", file: "haproxy.cfg", key: "service/haproxy/maxconn", want: "maxconn 4096\n"},
		{name: "haproxy number with blanks", file: "haproxy.cfg", key: "service/haproxy/maxconn", value: " 512\n", want: "maxconn 512\n"},
		{name: "haproxy injection", file: "haproxy.cfg", key: "service/haproxy/maxconn", value: "1\n    stats socket /tmp/x.sock level admin", want: "maxconn 4096\n"},
		{name: "haproxy zero", file: "haproxy.cfg", key: "service/haproxy/maxconn", value: "0", want: "maxconn 4096\n"},
		{name: "nginx unset", file: "nginx.conf", key: "service/nginx/worker_connections", want: "worker_connections 4096;\n"},
		{name: "nginx number with blanks", file: "nginx.conf", key: "service/nginx/worker_connections", value: " 1024\n", want: "worker_connections 1024;\n"},
		{name: "nginx injection", file: "nginx.conf", key: "service/nginx/worker_connections", value: "1;\n    include /tmp/x.sock", want: "worker_connections 4096;\n"},
		{name: "nginx too large", file: "nginx.conf", key: "service/nginx/worker_connections", value: "10000000", want: "worker_connections 4096;\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.value != "" {
				putKV(t, consul.HTTPAddr, tc.key, tc.value)
			} else {
				deleteKV(t, consul.HTTPAddr, tc.key)
			}
			got := render(t, consulTemplate, consul.HTTPAddr, t.TempDir(), tc.file)[tc.file]
			if !strings.Contains(got, "\n    "+tc.want) {
				t.Errorf("render lacks %q", tc.want)
			}
			if strings.Contains(got, "/tmp/x.sock") {
				t.Errorf("the key's value reached the render")
			}
		})
	}
}

// render runs consul-template once over the named templates (<file>.ctmpl
// in this directory) into dir and returns each render by file name.
func render(t *testing.T, bin, consulAddr, dir string, files ...string) map[string]string {
	t.Helper()
	return renderEnv(t, bin, consulAddr, dir, nil, files...)
}

// renderEnv is render with env (NAME=value) added to consul-template's
// environment, for the templates' env parameters.
func renderEnv(t *testing.T, bin, consulAddr, dir string, env []string, files ...string) map[string]string {
	t.Helper()
	args := []string{"-once", "-consul-addr", consulAddr, "-log-level", "warn"}
	for _, f := range files {
		src, err := filepath.Abs(f + ".ctmpl")
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "-template", src+":"+filepath.Join(dir, f))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	// Only what consul-template needs: no CONSUL_HTTP_TOKEN or VAULT_ADDR
	// from the caller's environment.
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}, env...)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("consul-template %q: %v\n%s", args, err, stderr.String())
	}
	renders := make(map[string]string, len(files))
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		renders[f] = string(b)
	}
	return renders
}

// checkHAProxy runs `haproxy -c` on a render.
func checkHAProxy(t *testing.T, bin, path string) {
	t.Helper()
	run(t, bin, "-c", "-q", "-f", path)
}

// checkNginx runs `nginx -t` on a render with a fresh prefix, which holds
// the render's pid file, logs and temporary directories.
func checkNginx(t *testing.T, bin, path string) {
	t.Helper()
	prefix := t.TempDir()
	for _, d := range []string{"logs", "temp"} {
		if err := os.Mkdir(filepath.Join(prefix, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	run(t, bin, "-t", "-q", "-p", prefix+"/", "-c", path)
}

// run runs a validator and fails the test with its output when it fails.
func run(t *testing.T, bin string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %q: %v\n%s", bin, args, err, out)
	}
}

// runOutput runs a validator and returns its combined output.
func runOutput(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

// register puts in into the catalog on its own node, with one check.
func register(t *testing.T, consulAddr string, in instance) {
	t.Helper()
	body := map[string]any{
		"Node":    in.node,
		"Address": in.addr,
		"Service": map[string]any{
			"ID":      in.id,
			"Service": in.name,
			"Address": in.addr,
			"Port":    in.port,
			"Tags":    in.tags,
		},
		"Check": map[string]any{
			"CheckID":   "service:" + in.id,
			"Name":      "health of " + in.name,
			"Status":    in.status,
			"ServiceID": in.id,
		},
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	do(t, http.MethodPut, "http://"+consulAddr+"/v1/catalog/register", b)
}

func putKV(t *testing.T, consulAddr, key, value string) {
	t.Helper()
	do(t, http.MethodPut, "http://"+consulAddr+"/v1/kv/"+key, []byte(value))
}

func deleteKV(t *testing.T, consulAddr, key string) {
	t.Helper()
	do(t, http.MethodDelete, "http://"+consulAddr+"/v1/kv/"+key, nil)
}

func do(t *testing.T, method, url string, body []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var msg bytes.Buffer
	_, _ = msg.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", method, url, resp.Status, msg.String())
	}
	if strings.TrimSpace(msg.String()) == "false" {
		t.Fatalf("%s %s: consul answered false", method, url)
	}
}

// checkRender compares a render with its golden file (rewritten first with
// -update) and checks that it holds every string of contains and none of
// absent.
func checkRender(t *testing.T, got, golden string, contains, absent []string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden render (refresh with -update): %v", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("render differs from %s (-want +got), refresh with -update:\n%s", golden, diff)
	}
	for _, s := range contains {
		if !strings.Contains(got, s) {
			t.Errorf("render lacks %q", s)
		}
	}
	for _, s := range absent {
		if strings.Contains(got, s) {
			t.Errorf("render contains %q", s)
		}
	}
}
