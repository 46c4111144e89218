//go:build e2e

package e2e

import (
	"crypto/rand"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/loadgen"
	"github.com/stadionhq/stadion/internal/testenv"
)

// TestDockerHosts runs examples/docker-hosts with its own script: web
// containers with the seed's SERVICE_* settings, `stadion registrator` in
// Docker mode (gliderlabs's command line), Consul, consul-template and
// nginx from templates/. Requests through nginx reach every web
// container, and none fails while one container is added and one removed.
func TestDockerHosts(t *testing.T) {
	if os.Geteuid() != 0 && !testenv.InCI() {
		t.Skip("nginx binds :80 of a loopback address: needs root")
	}
	testenv.RequireDocker(t)
	for _, tool := range []string{"consul", "consul-template", "nginx", "curl"} {
		testenv.Binary(t, tool)
	}
	d := startDockerHosts(t)

	seen := newAnswers()
	d.waitReached(t, seen, "every web container reached through nginx")

	load, err := loadgen.Start(loadgen.Config{URL: d.url, Rate: 100, Check: seen.check})
	if err != nil {
		t.Fatal(err)
	}
	awaitRequests(t, load, 100)
	before := d.containers(t)
	d.script(t, "scale", "4")
	d.waitReached(t, seen, "the added container reached")
	added := d.containers(t)
	for id := range before {
		delete(added, id)
	}
	d.script(t, "scale", "3")
	after := d.containers(t)
	removed := ""
	for id := range d.union(before, added) {
		if !after[id] {
			removed = id
		}
	}
	if len(added) != 1 || removed == "" {
		t.Fatalf("scaling added %v and removed %q, want one each", added, removed)
	}
	// nginx no longer routes to it, and the load carries on.
	since := time.Now()
	awaitRequests(t, load, 200)
	if last := seen.last(removed); last.After(since) {
		t.Errorf("the removed container %s answered at %v, after it was stopped", removed, last)
	}
	noneFailed(t, load, "scaling 3 → 4 → 3")
}

// dockerHosts is one run of examples/docker-hosts/run.sh.
type dockerHosts struct {
	env []string
	dir string
	url string // nginx's web listener
	run string
}

func startDockerHosts(t *testing.T) *dockerHosts {
	b := make([]byte, 3)
	rand.Read(b)
	d := &dockerHosts{dir: t.TempDir(), run: fmt.Sprintf("e2e-dh-%x", b)}
	// A loopback address of its own: the template's fixed ports (80, 18080,
	// 18500, the web port) never collide with another run's.
	lb := fmt.Sprintf("127.%d.%d.%d", 100+int(b[0])%100, b[1], 1+int(b[2])%250)
	webPort := "8000"
	d.url = "http://" + lb + ":" + webPort + "/"
	d.env = []string{
		"STATE_DIR=" + d.dir, "RUN_ID=" + d.run, "LB_ADDRESS=" + lb, "WEB_PORT=" + webPort, "WEB_COUNT=3",
		"CONSUL_HTTP_PORT=" + strconv.Itoa(testenv.FreePort(t)), "CONSUL_SERF_LAN_PORT=" + strconv.Itoa(testenv.FreePort(t)),
		"CONSUL_SERF_WAN_PORT=" + strconv.Itoa(testenv.FreePort(t)), "CONSUL_SERVER_PORT=" + strconv.Itoa(testenv.FreePort(t)),
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, name := range []string{"registrator", "consul-template", "nginx", "consul"} {
				t.Logf("%s log:\n%s", name, tail(filepath.Join(d.dir, name+".log"), 32<<10))
			}
		}
		d.script(t, "down")
	})
	d.script(t, "up")
	return d
}

// script runs run.sh with the run's settings.
func (d *dockerHosts) script(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "examples", "docker-hosts", "run.sh"), args...)
	cmd.Env = append(os.Environ(), d.env...)
	out, err := cmd.CombinedOutput()
	t.Logf("run.sh %s:\n%s", strings.Join(args, " "), out)
	if err != nil {
		t.Fatalf("run.sh %s: %v", strings.Join(args, " "), err)
	}
}

// containers are the short ids (the containers' host names) of the web
// containers running.
func (d *dockerHosts) containers(t *testing.T) map[string]bool {
	t.Helper()
	out, err := exec.Command("docker", "ps", "-q", "--filter", "label=stadion.example="+d.run).Output()
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, id := range strings.Fields(string(out)) {
		ids[id] = true
	}
	return ids
}

func (d *dockerHosts) union(a, b map[string]bool) map[string]bool {
	out := maps.Clone(a)
	maps.Copy(out, b)
	return out
}

// waitReached sends requests through nginx until every running web
// container has answered.
func (d *dockerHosts) waitReached(t *testing.T, seen *answers, what string) {
	t.Helper()
	want := d.containers(t)
	start := time.Now()
	ok := poll(60*time.Second, func() bool {
		resp, err := http.Get(d.url)
		if err == nil {
			body := make([]byte, 64<<10)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			_ = seen.check(resp.StatusCode, body[:n])
		}
		for id := range want {
			if seen.last(id).Before(start) {
				return false
			}
		}
		return true
	})
	if !ok {
		t.Fatalf("%s: want answers from %v, got %v", what, slices.Sorted(maps.Keys(want)), seen.hosts())
	}
}

// answers records which web container answered, and when last.
type answers struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

func newAnswers() *answers { return &answers{seen: map[string]time.Time{}} }

// check accepts a test-server's answer (200 and its environment) and
// records its HOSTNAME.
func (a *answers) check(status int, body []byte) error {
	if status != http.StatusOK {
		return fmt.Errorf("status %d: %.80s", status, body)
	}
	host := parseEnv(body)["HOSTNAME"]
	if host == "" {
		return fmt.Errorf("not a test-server answer: %.80s", body)
	}
	a.mu.Lock()
	a.seen[host] = time.Now()
	a.mu.Unlock()
	return nil
}

func (a *answers) last(host string) time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[host]
}

func (a *answers) hosts() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Sorted(maps.Keys(a.seen))
}
