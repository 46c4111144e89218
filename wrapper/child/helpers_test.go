package child

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stadionhq/stadion/internal/testenv"
)

// waitFor bounds every asynchronous outcome; generous for a loaded machine.
const waitFor = 30 * time.Second

var (
	buildOnce sync.Once
	testChild string
	buildErr  string
)

// testChildBin builds wrapper/testdata/testchild once for the package.
func testChildBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "testchild")
		if err != nil {
			buildErr = err.Error()
			return
		}
		sub := &onceTB{TB: t, dir: dir}
		testChild = testenv.GoBuild(sub, "wrapper/testdata/testchild")
	})
	if testChild == "" {
		t.Fatalf("build testchild: %s", buildErr)
	}
	return testChild
}

// onceTB lets the package-wide build outlive the test that triggers it.
type onceTB struct {
	testing.TB
	dir string
}

func (o *onceTB) TempDir() string { return o.dir }

// serveChild starts testchild serve on a free port and waits until it
// answers.
func serveChild(t *testing.T, cfg Config, flags ...string) (*Process, string) {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	cfg.Path = testChildBin(t)
	cfg.Args = append([]string{"testchild", "serve", "-addr", addr}, flags...)
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = p.Stop(syscall.SIGKILL, 0)
		<-p.Done()
	})
	url := "http://" + addr
	waitHTTP(t, url+"/health", p)
	return p, url
}

func waitHTTP(t *testing.T, url string, p *Process) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-p.Done():
			t.Fatalf("child ended (%v) before %s answered", p.Exit(), url)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not answer: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("decode %s: %v", url, err)
	}
}

func waitDone(t *testing.T, p *Process) Exit {
	t.Helper()
	select {
	case <-p.Done():
		return p.Exit()
	case <-time.After(waitFor):
		t.Fatalf("process %d did not end within %v", p.Pid(), waitFor)
		return Exit{}
	}
}

// alive reports whether pid is a live process (not gone, not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// pid (comm) S ...: the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] != 'Z'
}

// children lists the pids whose parent is ppid and whose command line
// contains word.
func children(ppid int, word string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "status"))
		if err != nil || !strings.Contains(string(b), fmt.Sprintf("\nPPid:\t%d\n", ppid)) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if strings.Contains(string(cmd), word) {
			out = append(out, pid)
		}
	}
	return out
}
