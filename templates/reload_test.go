package templates

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/loadgen"
	"github.com/stadionhq/stadion/internal/testenv"
)

// reloadRate is the request rate of each load, with a new connection per
// request.
const reloadRate = 200

// reloads is how many reloads each test does under load.
const reloads = 10

// TestHAProxyReloadUnderLoad renders the HAProxy template for one service,
// runs HAProxy in master-worker mode, and reloads it 10 times while two
// loads (the internal :3000 and the external :80 with the service's host)
// send 200 requests per second each, every one on a new connection. No
// request may fail.
func TestHAProxyReloadUnderLoad(t *testing.T) {
	addr, cfg := renderForReload(t, "haproxy.cfg")
	h := testenv.StartHAProxy(t, cfg)
	underLoad(t, addr, func() { h.Reload(t) })
}

// TestNginxReloadUnderLoad is TestHAProxyReloadUnderLoad for nginx,
// reloaded with nginx -s reload.
func TestNginxReloadUnderLoad(t *testing.T) {
	addr, cfg := renderForReload(t, "nginx.conf")
	n := testenv.StartNginx(t, cfg)
	underLoad(t, addr, func() { n.Reload(t) })
}

// renderForReload starts Consul holding one passing production instance of
// web in front of a local HTTP server, renders file with the frontends on a
// random loopback address 127.A.B.C, and returns that address and the
// render's path.
func renderForReload(t *testing.T, file string) (addr, path string) {
	t.Helper()
	if os.Geteuid() != 0 && !testenv.InCI() {
		// :80 and HAProxy's user/group need root; CI runs as root.
		t.Skip("binds :80: needs root")
	}
	consulTemplate := testenv.Binary(t, "consul-template")
	testenv.Binary(t, "haproxy")
	testenv.Binary(t, "nginx")
	consul := testenv.StartConsul(t)

	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("web"))
	}))
	t.Cleanup(backend.Close)
	host, port, err := net.SplitHostPort(backend.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	register(t, consul.HTTPAddr, instance{
		node: "web-node", addr: host, id: "web-1", name: "web", port: p,
		tags:   tags("production", "internal-listen-http-3000", "external-http-host-web.test"),
		status: "passing",
	})

	// 127.A.B.C with A, B and C from 1 to 254: never 127.0.0.1, and two
	// runs at once hardly ever meet.
	addr = fmt.Sprintf("127.%d.%d.%d", 1+rand.IntN(254), 1+rand.IntN(254), 1+rand.IntN(254))
	dir := t.TempDir()
	env := []string{
		"STADION_LB_ADDRESS=" + addr,
		"STADION_LB_RUN_DIR=" + dir,
		"STADION_LB_CONSUL=" + consul.HTTPAddr,
	}
	renderEnv(t, consulTemplate, consul.HTTPAddr, dir, env, file)
	return addr, filepath.Join(dir, file)
}

// underLoad runs the two loads on addr, calls reload 10 times with
// requests finishing before, between and after the reloads, and requires
// that none failed.
func underLoad(t *testing.T, addr string, reload func()) {
	t.Helper()
	check := func(status int, body []byte) error {
		if status != http.StatusOK || string(body) != "web" {
			return fmt.Errorf("answer %d %q, want 200 \"web\"", status, body)
		}
		return nil
	}
	loads := []struct {
		name string
		cfg  loadgen.Config
	}{
		{name: "internal :3000", cfg: loadgen.Config{URL: "http://" + addr + ":3000/", Rate: reloadRate, Check: check}},
		{name: "external :80 web.test", cfg: loadgen.Config{URL: "http://" + addr + ":80/", Host: "web.test", Rate: reloadRate, Check: check}},
	}
	runs := make([]*loadgen.Run, len(loads))
	for i, l := range loads {
		r, err := loadgen.Start(l.cfg)
		if err != nil {
			t.Fatalf("start load %s: %v", l.name, err)
		}
		runs[i] = r
		t.Cleanup(func() { r.Stop() })
	}
	// progress waits until every load has finished n more requests than
	// it had, and fails the test early when one failed.
	progress := func(what string, n int) {
		t.Helper()
		from := make([]int, len(runs))
		for i, r := range runs {
			from[i] = r.Snapshot().Requests
		}
		deadline := time.Now().Add(20 * time.Second)
		for i, r := range runs {
			for {
				s := r.Snapshot()
				if s.Failures > 0 {
					t.Fatalf("%s %s: %v\nerrors: %q", what, loads[i].name, s, s.Errors)
				}
				if s.Requests >= from[i]+n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s %s: %d requests finished, want %d more than %d", what, loads[i].name, s.Requests, n, from[i])
				}
				time.Sleep(10 * time.Millisecond)
			}
		}
	}

	progress("before the reloads", reloadRate) // about a second
	for i := range reloads {
		reload()
		progress(fmt.Sprintf("after reload %d", i+1), reloadRate/5)
	}
	progress("after the reloads", reloadRate)

	for i, r := range runs {
		res := r.Stop()
		t.Logf("%s: %v over %v", loads[i].name, res, res.Elapsed.Round(time.Millisecond))
		if res.Failures != 0 {
			t.Errorf("%s: %d of %d requests failed: %q", loads[i].name, res.Failures, res.Requests, res.Errors)
		}
	}
}
