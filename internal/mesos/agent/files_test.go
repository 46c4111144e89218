package agent

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/stadionhq/stadion/internal/mesos"
)

// filesAgent starts an agent with a files token and a sandbox holding
// stdout ("0123456789"), an empty stderr and a sub directory.
func filesAgent(t *testing.T) (a *Agent, token, sandbox string) {
	t.Helper()
	token = "files-secret"
	var work string
	a = startAgent(t, newFakeMaster(t), func(c *Config) { c.FilesToken = token; work = c.WorkDir })
	sandbox = filepath.Join(work, "slaves", "S1", "frameworks", "F", "executors", "t1", "runs", "c1")
	if err := os.MkdirAll(filepath.Join(sandbox, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{"stdout": "0123456789", "stderr": ""} {
		if err := os.WriteFile(filepath.Join(sandbox, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return a, token, sandbox
}

func filesGet(t *testing.T, base, token, endpoint string, q url.Values) (int, string) {
	t.Helper()
	target := base + endpoint
	if q != nil {
		target += "?" + q.Encode()
	}
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestFilesRead(t *testing.T) {
	a, token, sandbox := filesAgent(t)
	stdout := filepath.Join(sandbox, "stdout")
	tests := []struct {
		name       string
		query      url.Values
		token      string
		wantStatus int
		want       string // the JSON answer, or a part of the error text
	}{
		{name: "size probe without offset", query: url.Values{"path": {stdout}}, wantStatus: 200, want: `{"data":"","offset":10}`},
		{name: "size probe offset -1", query: url.Values{"path": {stdout}, "offset": {"-1"}}, wantStatus: 200, want: `{"data":"","offset":10}`},
		{name: "a range", query: url.Values{"path": {stdout}, "offset": {"2"}, "length": {"3"}}, wantStatus: 200, want: `{"data":"234","offset":2}`},
		{name: "to the end", query: url.Values{"path": {stdout}, "offset": {"7"}}, wantStatus: 200, want: `{"data":"789","offset":7}`},
		{name: "past the end", query: url.Values{"path": {stdout}, "offset": {"50"}, "length": {"5"}}, wantStatus: 200, want: `{"data":"","offset":50}`},
		{name: "no path", query: url.Values{}, wantStatus: 400, want: "Expecting 'path=value' in query."},
		{name: "bad offset", query: url.Values{"path": {stdout}, "offset": {"x"}}, wantStatus: 400, want: "Failed to parse offset"},
		{name: "negative length", query: url.Values{"path": {stdout}, "offset": {"0"}, "length": {"-2"}}, wantStatus: 400, want: "Negative length provided"},
		{name: "directory", query: url.Values{"path": {sandbox}, "offset": {"0"}}, wantStatus: 400, want: "Cannot read a directory."},
		{name: "absent file", query: url.Values{"path": {sandbox + "/nope"}}, wantStatus: 404, want: "not found"},
		{name: "outside the sandboxes", query: url.Values{"path": {"/etc/passwd"}}, wantStatus: 404, want: "not found"},
		{name: "dot-dot out of the sandboxes", query: url.Values{"path": {sandbox + "/../../../../../../../../meta"}}, wantStatus: 404, want: "not found"},
		{name: "no token", query: url.Values{"path": {stdout}}, token: "-", wantStatus: 401, want: "files token"},
		{name: "wrong token", query: url.Values{"path": {stdout}}, token: "other", wantStatus: 401, want: "files token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tok := token
			switch tc.token {
			case "":
			case "-":
				tok = ""
			default:
				tok = tc.token
			}
			status, body := filesGet(t, a.URL(), tok, "/files/read", tc.query)
			if status != tc.wantStatus {
				t.Fatalf("status %d (%s), want %d", status, body, tc.wantStatus)
			}
			if status == 200 {
				if strings.TrimSpace(body) != tc.want {
					t.Errorf("body %s, want %s", body, tc.want)
				}
			} else if !strings.Contains(body, tc.want) {
				t.Errorf("body %q, want it to contain %q", body, tc.want)
			}
		})
	}
}

func TestFilesReadCapsOneAnswer(t *testing.T) {
	a, token, sandbox := filesAgent(t)
	big := filepath.Join(sandbox, "big")
	if err := os.WriteFile(big, []byte(strings.Repeat("x", 3*filesReadMax)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, body := filesGet(t, a.URL(), token, "/files/read", url.Values{"path": {big}, "offset": {"0"}, "length": {"-1"}})
	var c fileChunk
	if err := json.Unmarshal([]byte(body), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Data) != filesReadMax {
		t.Errorf("read %d bytes, want the cap %d", len(c.Data), filesReadMax)
	}
}

func TestFilesBrowse(t *testing.T) {
	a, token, sandbox := filesAgent(t)
	status, body := filesGet(t, a.URL(), token, "/files/browse", url.Values{"path": {sandbox}})
	if status != 200 {
		t.Fatalf("status %d: %s", status, body)
	}
	var got []FileInfo
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	type entry struct {
		Path, Mode string
		Size       int64
	}
	var short []entry
	for _, f := range got {
		if f.Mtime == 0 || f.UID == "" || f.GID == "" || f.Nlink == 0 {
			t.Errorf("entry %+v lacks mtime, uid, gid or nlink", f)
		}
		e := entry{Path: f.Path, Mode: f.Mode}
		if !strings.HasPrefix(f.Mode, "d") {
			e.Size = f.Size
		}
		short = append(short, e)
	}
	want := []entry{
		{Path: sandbox + "/stderr", Mode: "-rw-r--r--"},
		{Path: sandbox + "/stdout", Mode: "-rw-r--r--", Size: 10},
		{Path: sandbox + "/sub", Mode: "drwxr-xr-x"},
	}
	if diff := cmp.Diff(want, short); diff != "" {
		t.Errorf("browse (-want +got):\n%s", diff)
	}
}

func TestFilesSymlinkOutOfSandboxRefused(t *testing.T) {
	a, token, sandbox := filesAgent(t)
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("secret"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(sandbox, "link")
	if err := os.Symlink(outside, link); err != nil {
		t.Fatal(err)
	}
	status, body := filesGet(t, a.URL(), token, "/files/read", url.Values{"path": {link}, "offset": {"0"}})
	if status == 200 || strings.Contains(body, "secret") {
		t.Errorf("a symlink out of the sandboxes was followed: %d %s", status, body)
	}
}

func TestFilesDownload(t *testing.T) {
	a, token, sandbox := filesAgent(t)
	status, body := filesGet(t, a.URL(), token, "/files/download", url.Values{"path": {sandbox + "/stdout"}})
	if status != 200 || body != "0123456789" {
		t.Errorf("download: %d %q", status, body)
	}
	if status, _ := filesGet(t, a.URL(), token, "/files/download", url.Values{"path": {sandbox}}); status != 400 {
		t.Errorf("download of a directory: %d, want 400", status)
	}
}

func TestFilesOffWithoutToken(t *testing.T) {
	a := startAgent(t, newFakeMaster(t), nil)
	if status, _ := filesGet(t, a.URL(), "", "/files/browse", url.Values{"path": {"/"}}); status != 401 {
		t.Errorf("files without a configured token: %d, want 401", status)
	}
}

// TestStateListsExecutorDirectories checks the Mesos shape of /state
// that UIs read to find a sandbox, and that the files API reads it.
func TestStateListsExecutorDirectories(t *testing.T) {
	m := newFakeMaster(t)
	a := startAgent(t, m, func(c *Config) { c.FilesToken = "tok" })
	run(t, a, shellTask("t1", "echo from-t1; sleep 30"))
	m.expectAck(t, a, "t1", mesos.TaskStarting)
	m.expectAck(t, a, "t1", mesos.TaskRunning)
	_, body := filesGet(t, a.URL(), "", "/state", nil)
	var st struct {
		Frameworks []struct {
			ID        string `json:"id"`
			Executors []struct {
				ID        string `json:"id"`
				Directory string `json:"directory"`
				Tasks     []struct {
					ID    string `json:"id"`
					State string `json:"state"`
				} `json:"tasks"`
			} `json:"executors"`
		} `json:"frameworks"`
		Completed []any `json:"completed_frameworks"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Frameworks) != 1 || len(st.Frameworks[0].Executors) != 1 || st.Completed == nil {
		t.Fatalf("state: %s", body)
	}
	ex := st.Frameworks[0].Executors[0]
	if ex.ID != "t1" || len(ex.Tasks) != 1 || ex.Tasks[0].ID != "t1" || ex.Directory != a.State().Tasks[0].Sandbox {
		t.Fatalf("executor %+v, want t1 in the sandbox %s", ex, a.State().Tasks[0].Sandbox)
	}
	waitFor(t, "stdout through the files API", func() bool {
		_, out := filesGet(t, a.URL(), "tok", "/files/read", url.Values{"path": {ex.Directory + "/stdout"}, "offset": {"0"}})
		return out == `{"data":"from-t1\n","offset":0}`+"\n"
	})
}
