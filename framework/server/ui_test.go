package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/stadionhq/stadion/framework/auth"
	"github.com/stadionhq/stadion/framework/server"
	"github.com/stadionhq/stadion/internal/acl"
	"github.com/stadionhq/stadion/internal/mesos/agent"
	"github.com/stadionhq/stadion/internal/mesos/local"
	"github.com/stadionhq/stadion/internal/testenv"
)

// updateScreenshots rewrites docs/ui/*.png from the browser test:
// go test ./framework/server -run TestUIBrowser -ui.screenshots
var updateScreenshots = flag.Bool("ui.screenshots", false, "write the UI's screenshots into docs/ui/")

// browser is a headless Chromium on one page of the UI.
type browser struct {
	t    *testing.T
	ctx  context.Context
	shot string // where screenshots go
}

// startBrowser starts Chromium (testenv.Chromium) with Basic credentials,
// unless user is empty, sent on every request, as a browser does once the
// user has logged in.
func startBrowser(t *testing.T, user, password string) *browser {
	t.Helper()
	exe := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // tests may run as root
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 860),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf))
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, shot: t.TempDir()}
	if *updateScreenshots {
		b.shot = filepath.Join("..", "..", "docs", "ui")
	}
	auth := base64.StdEncoding.EncodeToString([]byte(user + ":" + password))
	// The first call starts the browser: without a deadline, which would
	// stop it.
	err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
			return err
		}
		if user == "" {
			return nil
		}
		_, err := cdp.Call(ctx, t, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{Headers: network.Headers{"Authorization": "Basic " + auth}})
		return err
	}))
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// run runs actions within a generous deadline, failing the test with what.
func (b *browser) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(() => { const d = document.querySelector("dialog[open]");
			return d ? d.innerText + "\n" + (d.querySelector("textarea#app-json")?.value || "") : document.body.innerText.slice(0, 3000) })()`))
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, text)
	}
}

// waitJS polls a JavaScript expression until it is true.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return void(chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(80*time.Second), chromedp.WithPollingInterval(100*time.Millisecond)))
}

// void drops an action's value.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := a(ctx, t)
		return err
	})
}

// eval runs JavaScript for its effect.
func eval(js string) chromedp.Action[chromedp.Void] { return void(chromedp.Evaluate[any](js)) }

func click(sel string) chromedp.Action[chromedp.Void] { return chromedp.Click(chromedp.CSS(sel)) }

func visible(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.WaitVisible(chromedp.CSS(sel))
}

// waitText waits until the element of sel contains text.
func waitText(sel, text string) chromedp.Action[chromedp.Void] {
	return waitJS(fmt.Sprintf(`(el => !!el && (el.matches("input, textarea") ? el.value : el.textContent).includes(%q))(document.querySelector(%q))`, text, sel))
}

// fill sets a field as typing would, with an input event.
func fill(sel, value string) chromedp.Action[chromedp.Void] {
	return eval(fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = %q; el.dispatchEvent(new Event("input", {bubbles: true})); return true })()`, sel, value))
}

// screenshot saves the viewport as name.png.
func (b *browser) screenshot(name string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		// Notices of earlier steps would hide parts of the page.
		if _, err := chromedp.Evaluate[any](`document.getElementById("toasts").replaceChildren()`)(ctx, t); err != nil {
			return err
		}
		buf, err := chromedp.CaptureScreenshot()(ctx, t)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(b.shot, name+".png"), buf, 0o644)
	})
}

// appCmd prints numbered lines, so that a tail has something to show,
// and writes others into a file of a sub directory of its sandbox.
const appCmd = `mkdir -p logs; i=0; while true; do echo line-$i; echo log-$i >> logs/app.log; i=$((i+1)); sleep 0.2; done`

// TestUIBrowser drives the web UI in headless Chromium against a real
// `stadion serve --master local` with Basic authentication: create an app
// through the form (an invalid one first, whose server error shows at its
// field), see it turn healthy, scale it, read a task's stdout, kill a
// task, see a change made through the API without a reload, edit and
// roll back a version, roll back a stuck deployment, and destroy.
func TestUIBrowser(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.HTTPCredentials = "ui:secret-pass" })
	b := startBrowser(t, "ui", "secret-pass")
	authz := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("ui:secret-pass"))

	b.run("open / and land on the apps list",
		chromedp.Navigate(e.url+"/"),
		waitJS(`location.pathname === "/ui/" && location.hash === "#/apps"`),
		waitText("#live", "Live updates"),
		waitText(".summary", "No Applications Created"),
		b.screenshot("empty"))

	b.run("an invalid definition shows the server's error at its field",
		click("#create-app"),
		visible("#field-id"),
		chromedp.SendKeys(chromedp.CSS("#field-id"), "/shop/web"),
		fill("#field-cmd", appCmd),
		fill("#field-cpus", "-1"),
		fill("#field-mem", "32"),
		click("#app-submit"),
		waitText("#field-cpus-error", "is less than"),
		waitJS(`document.querySelector("#field-cpus").getAttribute("aria-invalid") === "true"`),
		waitText("#form-errors", "There was a problem with your configuration"),
		b.screenshot("create-error"))

	healthCheck := `[{"protocol":"COMMAND","command":{"value":"true"},"intervalSeconds":1,"delaySeconds":0,"gracePeriodSeconds":60}]`
	b.run("create the app through the form and the JSON editor",
		fill("#field-cpus", "0.1"),
		waitText("#app-json", `"cpus": 0.1`),
		eval(`(() => { const j = document.querySelector("#app-json"); const d = JSON.parse(j.value);
			d.healthChecks = `+healthCheck+`; d.labels = {team: "shop"};
			j.value = JSON.stringify(d, null, 2); j.dispatchEvent(new Event("input", {bubbles: true})); return true })()`),
		waitJS(`document.querySelector("#field-labels").value === "team=shop"`),
		click("#app-submit"),
		waitJS(`location.hash.startsWith("#/app?id=%2Fshop%2Fweb")`),
		waitText(".legend", "1 Healthy"),
		waitText(".app-head", "(1 of 1 instances)"),
		b.screenshot("app"))

	var created struct {
		App struct {
			Cmd    string            `json:"cmd"`
			Labels map[string]string `json:"labels"`
		} `json:"app"`
	}
	e.wantJSON(e.do("GET", "/v2/apps/shop/web", "", authz), 200, &created)
	if created.App.Cmd != appCmd || created.App.Labels["team"] != "shop" {
		t.Fatalf("created app: cmd %q labels %v", created.App.Cmd, created.App.Labels)
	}

	b.run("scale to 2",
		click("#scale"),
		visible("#prompt-value"),
		fill("#prompt-value", "2"),
		click("#prompt-ok"),
		waitText(".legend", "2 Healthy"),
		waitText(".app-head", "(2 of 2 instances)"))

	b.run("the apps list shows the group and then the app",
		chromedp.Navigate(e.url+"/ui/#/apps"),
		waitJS(`!!document.querySelector('tr[data-group="/shop"]')`),
		waitText(`tr[data-group="/shop"]`, "2 of 2"),
		click(`tr[data-group="/shop"] a`),
		waitText(`tr[data-app="/shop/web"]`, "Running"),
		b.screenshot("apps"))

	var taskID string
	b.run("read a task's stdout",
		chromedp.Navigate(e.url+"/ui/#/app?id=%2Fshop%2Fweb"),
		waitJS(`document.querySelectorAll("tr[data-task]").length === 2`),
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) (err error) {
			taskID, err = chromedp.Evaluate[string](`document.querySelector("tr[data-task]").dataset.task`)(ctx, t)
			return err
		}),
		click(`tr[data-task] td:last-child a`),
		waitText("#log", "line-3"),
		waitText("#log-state", "tailing"),
		waitText("table.files", "stdout"),
		b.screenshot("task"))
	b.run("the tail follows the file as it grows",
		waitText("#log", "line-12"))
	b.run("browse the sandbox into a directory and read a file there",
		eval(`[...document.querySelectorAll("table.files a")].find(a => a.textContent === "logs/").click()`),
		waitJS(`[...document.querySelectorAll("table.files a")].some(a => a.textContent === "logs/app.log")`),
		eval(`[...document.querySelectorAll("table.files a")].find(a => a.textContent === "logs/app.log").click()`),
		waitText("#log", "log-3"),
		waitJS(`!document.querySelector("#log").textContent.includes("line-")`))

	b.run("kill a task",
		chromedp.Navigate(e.url+"/ui/#/app?id=%2Fshop%2Fweb"),
		waitJS(fmt.Sprintf(`!!document.querySelector('tr[data-task=%q] input')`, taskID)),
		click(fmt.Sprintf(`tr[data-task=%q] input`, taskID)),
		click("#kill"),
		visible("#confirm-ok"),
		click("#confirm-ok"),
		waitJS(fmt.Sprintf(`!document.querySelector('tr[data-task=%q]') && document.querySelectorAll("tr[data-task]").length === 2`, taskID)),
		waitText(".legend", "2 Healthy"))

	b.run("a change made through the API appears without a reload",
		eval(`window.notReloaded = true`))
	e.want(e.do("PUT", "/v2/apps/shop/web", `{"instances": 3}`, authz), 200)
	b.run("see the API's change",
		waitText(".app-head", "(3 of 3 instances)"),
		waitJS(`window.notReloaded === true`))

	b.run("edit the command (a new version)",
		click("#edit"),
		visible("#field-cmd"),
		fill("#field-cmd", `while true; do echo v2; sleep 1; done`),
		click("#app-submit"),
		waitJS(`!document.querySelector("dialog[open]")`))
	noDeployments(e, authz)
	b.run("roll back to the first version",
		chromedp.Navigate(e.url+"/ui/#/app?id=%2Fshop%2Fweb&tab=versions"),
		waitText("#diff", "echo v2"),
		waitText("#diff", "line-$i"),
		b.screenshot("versions"),
		eval(`(() => { const bs = document.querySelectorAll("button[data-version]"); bs[bs.length - 1].click(); return true })()`),
		visible("#confirm-ok"),
		click("#confirm-ok"))
	e.eventually("the first version's command back", func() error {
		var got struct {
			App struct {
				Cmd string `json:"cmd"`
			} `json:"app"`
		}
		e.wantJSON(e.do("GET", "/v2/apps/shop/web", "", authz), 200, &got)
		if got.App.Cmd != appCmd {
			return fmt.Errorf("cmd %q", got.App.Cmd)
		}
		return nil
	})

	noDeployments(e, authz)
	b.run("the configuration tab, reached with the keyboard",
		chromedp.Navigate(e.url+"/ui/#/app?id=%2Fshop%2Fweb"),
		chromedp.Focus(chromedp.CSS("#tabbtn-instances")),
		chromedp.KeyEvent(kb.ArrowRight),
		waitJS(`location.hash.endsWith("&tab=configuration") && document.activeElement.id === "tabbtn-configuration"`),
		waitText("#config-summary", "line-$i"),
		waitText("#config-json", `"team": "shop"`),
		b.screenshot("configuration"))

	e.want(e.do("POST", "/v2/apps", `{"id": "/shop/huge", "cmd": "sleep 100", "cpus": 100, "mem": 32}`, authz), 201)
	b.run("why an app does not launch: the offer funnel",
		chromedp.Navigate(e.url+"/ui/#/app?id=%2Fshop%2Fhuge&tab=debug"),
		// The declined row names cpus in Marathon's words.
		waitJS(`[...document.querySelectorAll("#queue tr.declined")].some(tr => tr.dataset.reason === "InsufficientCpus")`),
		b.screenshot("debug"))
	b.run("roll back the stuck deployment",
		chromedp.Navigate(e.url+"/ui/#/deployments"),
		waitText("#deployments", "/shop/huge"),
		b.screenshot("deployments"),
		eval(`[...document.querySelectorAll("article.deployment")].find(a => a.textContent.includes("/shop/huge")).querySelector(".rollback").click()`),
		visible("#confirm-ok"),
		click("#confirm-ok"),
		waitJS(`!document.querySelector("#deployments").textContent.includes("/shop/huge")`))
	e.eventually("the rolled back creation to remove /shop/huge", func() error {
		if r := e.do("GET", "/v2/apps/shop/huge", "", authz); r.status != 404 {
			return fmt.Errorf("status %d", r.status)
		}
		return nil
	})

	b.run("info page",
		chromedp.Navigate(e.url+"/ui/#/info"),
		waitText("#info", "1.10.0-stadion"),
		waitText("#info", "this instance"),
		b.screenshot("info"))

	b.run("dark mode and a phone's width",
		media("dark"),
		chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		chromedp.Navigate(e.url+"/ui/#/app?id=%2Fshop%2Fweb"),
		waitText(".legend", "Healthy"),
		waitJS(`getComputedStyle(document.body).backgroundColor === "rgb(17, 20, 26)"`),
		b.screenshot("phone-dark"),
		chromedp.ResetViewport(),
		media("light"))

	b.run("destroy",
		chromedp.Navigate(e.url+"/ui/#/app?id=%2Fshop%2Fweb"),
		waitText(".app-head", "instances"),
		click("#destroy"),
		visible("#confirm-ok"),
		click("#confirm-ok"),
		waitJS(`location.hash.startsWith("#/apps")`),
		waitText(".summary", "No Applications"))
	if r := e.do("GET", "/v2/apps/shop/web", "", authz); r.status != 404 {
		t.Errorf("destroyed app: status %d, want 404", r.status)
	}
}

// TestUIServed checks the UI's routes without a browser: / redirects to
// /ui/, which serves the page with a strict Content-Security-Policy, and
// the guard still asks for credentials there.
func TestUIServed(t *testing.T) {
	e := startWith(t, func(c *server.Config) { c.HTTPCredentials = "ui:pw" })
	authz := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("ui:pw"))
	if r := e.do("GET", "/ui/", ""); r.status != http.StatusUnauthorized {
		t.Errorf("GET /ui/ without credentials: %d, want 401", r.status)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", e.url+"/", nil)
	req.SetBasicAuth("ui", "pw")
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/ui/" {
		t.Errorf("GET /: %d to %q, want 302 to /ui/", res.StatusCode, res.Header.Get("Location"))
	}
	r := e.want(e.do("GET", "/ui/", "", authz), 200)
	if !strings.Contains(string(r.body), `<script type="module" src="js/main.js">`) {
		t.Errorf("/ui/ is not the UI's page: %.200s", r.body)
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
	if r := e.want(e.do("GET", "/ui/js/main.js", "", authz), 200); !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("main.js served as %q", r.header.Get("Content-Type"))
	}
	// The UI's writes are same-origin JSON: the guard lets them pass, and
	// still refuses a form post from another site.
	e.want(e.do("POST", "/v2/apps", `{"id":"/o","cmd":"sleep 100","cpus":0.1,"mem":16,"instances":0}`, authz, "Origin: "+e.url), 201)
	e.want(e.do("POST", "/v2/apps", `{"id":"/p","cmd":"sleep 100","cpus":0.1,"mem":16,"instances":0}`, authz, "Origin: http://evil.example"), 403)
}

// TestUITaskFiles reads a running task's sandbox through the server's
// proxy to the agent's files API, and checks what it refuses.
func TestUITaskFiles(t *testing.T) {
	e := start(t)
	e.want(e.do("POST", "/v2/apps", `{"id":"/files","cmd":"echo hello-sandbox; echo oops >&2; sleep 1000","cpus":0.1,"mem":16}`), 201)
	taskID := runningTask(e, "/files")
	base := "/ui/tasks/" + taskID + "/files/"
	e.eventually("stdout through the proxy", func() error {
		var chunk struct {
			Data   string `json:"data"`
			Offset int    `json:"offset"`
		}
		e.wantJSON(e.do("GET", base+"read?path=stdout&offset=0", ""), 200, &chunk)
		if chunk.Data != "hello-sandbox\n" || chunk.Offset != 0 {
			return fmt.Errorf("chunk %+v", chunk)
		}
		return nil
	})
	var entries []struct {
		Path string `json:"path"`
		Size int    `json:"size"`
	}
	e.wantJSON(e.do("GET", base+"browse?path=", ""), 200, &entries)
	names := map[string]int{}
	for _, en := range entries {
		names[en.Path] = en.Size
	}
	if names["stdout"] != len("hello-sandbox\n") || names["stderr"] != len("oops\n") {
		t.Errorf("browse: %+v", entries)
	}
	if r := e.want(e.do("GET", base+"download?path=stderr", ""), 200); string(r.body) != "oops\n" {
		t.Errorf("download: %q", r.body)
	}
	tests := []struct {
		name, path string
		status     int
	}{
		{name: "dot-dot", path: base + "read?path=../../x", status: 400},
		{name: "absolute", path: base + "read?path=/etc/passwd", status: 400},
		{name: "unknown operation", path: base + "debug?path=stdout", status: 404},
		{name: "unknown task", path: "/ui/tasks/nope.instance-1._app.1/files/read?path=stdout", status: 404},
		{name: "absent file", path: base + "read?path=nope", status: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", tc.path, "")
			if r.status != tc.status {
				t.Errorf("status %d (%s), want %d", r.status, r.body, tc.status)
			}
			var m map[string]any
			if json.Unmarshal(r.body, &m) != nil || m["message"] == nil {
				t.Errorf("body %s is not Marathon's {message}", r.body)
			}
		})
	}
}

// media emulates the system's color scheme.
func media(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// TestUIThousandAppsUpdateOneRow loads 1,000 apps into the list and
// changes one through the API: the change shows without a reload, and
// only that app's row is touched (no row is rebuilt, moved or rewritten).
func TestUIThousandAppsUpdateOneRow(t *testing.T) {
	e := start(t)
	b := startBrowser(t, "", "")
	var apps []string
	for i := range 1000 {
		apps = append(apps, fmt.Sprintf(`{"id":"/many/app-%04d","cmd":"sleep 1000","cpus":0.01,"mem":8,"instances":0}`, i))
	}
	e.want(e.do("POST", "/v2/groups", `{"id":"/many","apps":[`+strings.Join(apps, ",")+`]}`), 201)
	b.run("list 1,000 apps",
		chromedp.Navigate(e.url+"/ui/#/apps?group=%2Fmany"),
		waitJS(`document.querySelectorAll("#apps-body tr[data-app]").length === 1000`),
		waitText("#live", "Live updates"),
		eval(`(() => {
			window.touched = new Set(); window.moved = 0;
			for (const tr of document.querySelectorAll("#apps-body tr")) tr.original = true;
			new MutationObserver((ms) => { for (const m of ms) {
				if (m.target.id === "apps-body") { window.moved++; continue; }
				const tr = (m.target.nodeType === 1 ? m.target : m.target.parentElement).closest("tr");
				if (tr) window.touched.add(tr.dataset.app);
			} }).observe(document.querySelector("#apps-body"), {childList: true, subtree: true, characterData: true, attributes: true});
			return true })()`))
	e.want(e.do("PUT", "/v2/apps/many/app-0500", `{"labels":{"tier":"gold"}}`), 200)
	b.run("see the change in its row only",
		waitText(`tr[data-app="/many/app-0500"]`, "tier:gold"),
		waitJS(`window.moved === 0 && window.touched.size === 1 && window.touched.has("/many/app-0500")`),
		waitJS(`[...document.querySelectorAll("#apps-body tr")].every(tr => tr.original)`))
}

// TestUITaskFilesACL: under an ACL a sandbox is read with view_secrets
// on the app (sandboxes hold file secrets); view alone is refused.
func TestUITaskFilesACL(t *testing.T) {
	rules, err := acl.Parse([]byte(`
principals:
  - principal: admin
    permissions:
      - allowed: ["*"]
        on: /
  - principal: viewer
    permissions:
      - allowed: [view]
        on: /
`))
	if err != nil {
		t.Fatal(err)
	}
	e := startWith(t, func(c *server.Config) {
		c.HTTPCredentialsList = []auth.Credential{{Principal: "admin", Secret: "a"}, {Principal: "viewer", Secret: "v"}}
		c.ACL = func() *acl.ACL { return rules }
	})
	basic := func(user, pw string) string {
		return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))
	}
	admin, viewer := basic("admin", "a"), basic("viewer", "v")
	e.want(e.do("POST", "/v2/apps", `{"id":"/secretive","cmd":"echo shh; sleep 1000","cpus":0.1,"mem":16}`, admin), 201)
	taskID := runningTask(e, "/secretive", admin)
	path := "/ui/tasks/" + taskID + "/files/read?path=stdout&offset=0"
	if r := e.do("GET", path, "", viewer); r.status != http.StatusForbidden {
		t.Errorf("viewer read a sandbox: %d %s, want 403", r.status, r.body)
	}
	if r := e.do("GET", path, ""); r.status != http.StatusUnauthorized {
		t.Errorf("anonymous read a sandbox: %d, want 401", r.status)
	}
	e.eventually("the admin reads stdout", func() error {
		if r := e.do("GET", path, "", admin); r.status != 200 || !strings.Contains(string(r.body), "shh") {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		return nil
	})
}

// noDeployments waits for every deployment to end.
func noDeployments(e *env, headers ...string) {
	e.t.Helper()
	e.eventually("no deployment", func() error {
		if r := e.do("GET", "/v2/deployments", "", headers...); strings.TrimSpace(string(r.body)) != "[]" {
			return fmt.Errorf("deployments %s", r.body)
		}
		return nil
	})
}

// runningTask waits for a running task of the app and returns its id.
func runningTask(e *env, appID string, headers ...string) string {
	e.t.Helper()
	var taskID string
	e.eventually("a running task of "+appID, func() error {
		var got struct {
			Tasks []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"tasks"`
		}
		e.wantJSON(e.do("GET", "/v2/apps"+appID+"/tasks", "", headers...), 200, &got)
		if len(got.Tasks) == 0 || got.Tasks[0].State != "TASK_RUNNING" {
			return fmt.Errorf("tasks %+v", got.Tasks)
		}
		taskID = got.Tasks[0].ID
		return nil
	})
	return taskID
}

// TestUIThroughStandby: a standby serves the UI's files itself and
// proxies the task files to the leader, which knows where tasks run.
func TestUIThroughStandby(t *testing.T) {
	zk := testenv.StartZooKeeper(t)
	var srvs []*server.Server
	for range 2 {
		cfg := testConfig(t)
		cfg.LocalAgents = 1
		cfg.Hostname = "127.0.0.1"
		cfg.ZK = zk.URL("/stadion")
		srv, err := server.Start(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Stop)
		srvs = append(srvs, srv)
	}
	e := &env{t: t}
	var leader, standby *server.Server
	e.eventually("one instance leads", func() error {
		leader, standby = nil, nil
		for _, s := range srvs {
			if s.Elected() {
				leader = s
			} else {
				standby = s
			}
		}
		if leader == nil || standby == nil {
			return fmt.Errorf("no leader and standby yet")
		}
		return nil
	})
	e.url = standby.URL()
	r := e.want(e.do("GET", "/ui/js/main.js", ""), 200)
	if got := r.header.Get("X-Marathon-Leader"); got != "" {
		t.Errorf("the standby proxied its own UI file to %s", got)
	}
	e.want(e.do("POST", "/v2/apps", `{"id":"/via-standby","cmd":"echo through-the-standby; sleep 1000","cpus":0.1,"mem":16}`, "Origin: "+standby.URL()), 201)
	taskID := runningTask(e, "/via-standby")
	e.eventually("stdout through the standby", func() error {
		r := e.do("GET", "/ui/tasks/"+taskID+"/files/read?path=stdout&offset=0", "")
		if r.status != 200 || !strings.Contains(string(r.body), "through-the-standby") {
			return fmt.Errorf("%d %s", r.status, r.body)
		}
		if got := r.header.Get("X-Marathon-Leader"); got != leader.URL() {
			return fmt.Errorf("answered by %q, want the leader %s", got, leader.URL())
		}
		return nil
	})
}

// TestUITaskFilesExternalCluster: with an external master the proxy
// finds the agent in /master/state and sends the files token of
// --mesos_agent_files_token_file; without it the agent's refusal shows as
// a 502, not as the user's 401.
func TestUITaskFilesExternalCluster(t *testing.T) {
	const token = "shared-files-token"
	cluster, err := local.Start(context.Background(), local.Config{
		WorkDir: t.TempDir(),
		Agent:   agent.Config{FilesToken: token, Resources: "cpus:4;mem:2048;disk:1024;ports:" + portRange()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Stop)
	tokenFile := filepath.Join(t.TempDir(), "files-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		tokenFile  string
		wantStatus int
		wantBody   string
	}{
		{name: "with the files token", tokenFile: tokenFile, wantStatus: 200, wantBody: "external-agent"},
		{name: "without it", wantStatus: 502, wantBody: "files token"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := startWith(t, func(c *server.Config) {
				c.Master = cluster.URL()
				c.AgentFilesTokenFile = tc.tokenFile
				c.FrameworkName = "ui-" + strings.ReplaceAll(tc.name, " ", "-")
			})
			id := "/ext-" + strings.ReplaceAll(tc.name, " ", "-")
			e.want(e.do("POST", "/v2/apps", `{"id":"`+id+`","cmd":"echo external-agent; sleep 1000","cpus":0.1,"mem":16}`), 201)
			taskID := runningTask(e, id)
			e.eventually("the proxy's answer", func() error {
				r := e.do("GET", "/ui/tasks/"+taskID+"/files/read?path=stdout&offset=0", "")
				if r.status != tc.wantStatus || !strings.Contains(string(r.body), tc.wantBody) {
					return fmt.Errorf("%d %s, want %d with %q", r.status, r.body, tc.wantStatus, tc.wantBody)
				}
				return nil
			})
		})
	}
}
