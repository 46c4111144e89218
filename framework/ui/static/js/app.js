// app.js: one application: instances (select and kill, or kill and
// scale), configuration (summary and JSON, edit), versions (diff between
// any two, apply one), and debug (last task failure, the launch queue
// with its offer funnel, backoff reset).

import { api, get, appPath } from "./api.js";
import { h, replace, time, mib, appHref, groupHref, taskHref } from "./dom.js";
import { store, subscribe, appStatus, taskHealth, refresh } from "./store.js";
import { healthBar, setHealth, legend, statusEl, notice, confirm, prompt } from "./widgets.js";
import { editApp, definition } from "./form.js";
import { diffLines } from "./diff.js";

const QUEUE_POLL = 2000; // ms between reads of the queue on the Debug tab

const TABS = [["instances", "Instances"], ["configuration", "Configuration"], ["versions", "Versions"], ["debug", "Debug"]];

export function appPage(main, params) {
  const id = params.get("id") || "/";
  const tab = TABS.some(([t]) => t === params.get("tab")) ? params.get("tab") : "instances";
  let app = null, sig = "";
  const selected = new Set();

  const title = h("h1", {}, id);
  const status = h("span");
  const bar = h("div", { class: "bar big" });
  const legendBox = h("div");
  const buttons = h("div", { class: "toolbar" });
  const panel = h("section", { id: "tab-" + tab, role: "tabpanel", "aria-labelledby": "tabbtn-" + tab, class: "panel" });
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Group" }, h("a", { href: groupHref("/") }, "Applications"));
  let path = "";
  for (const part of id.split("/").filter(Boolean).slice(0, -1)) {
    path += "/" + part;
    crumbs.append(" / ", h("a", { href: groupHref(path) }, part));
  }
  replace(main, crumbs, h("header", { class: "app-head" }, h("div", {}, title, status), buttons), bar, legendBox,
    h("div", { role: "tablist", class: "tabs", "aria-label": "Application" }, TABS.map(([t, label]) =>
      h("a", { role: "tab", id: "tabbtn-" + t, href: appHref(id, t), "aria-selected": String(t === tab), tabindex: t === tab ? "0" : "-1" }, label))),
    panel);

  async function load() {
    try {
      const res = await get(appPath(id) + "?embed=app.taskStats&embed=app.readiness");
      app = res.app;
    } catch (e) {
      if (e.status === 404) {
        replace(panel, h("p", { class: "empty" }, "Application " + id + " does not exist."));
        app = null;
        return;
      }
      notice(e.message);
      return;
    }
    const q = tab === "debug" ? queueEntry : store.queue.get(id);
    const s = JSON.stringify([app, q]);
    if (s === sig) return;
    sig = s;
    render(q);
  }

  function render(q) {
    const st = appStatus(app, q);
    replace(status, statusEl(st, q), " (" + (app.tasksRunning || 0) + " of " + app.instances + " instances)");
    setHealth(bar, app);
    replace(legendBox, legend(app));
    renderButtons(st, q);
    if (tab === "instances") renderInstances();
    if (tab === "configuration") renderConfig();
    if (tab === "debug") renderDebug(q);
  }

  function renderButtons(st, q) {
    replace(buttons,
      h("button", { type: "button", id: "scale", onclick: scale }, "Scale Application"),
      h("button", { type: "button", id: "restart", onclick: restart }, "Restart"),
      h("button", { type: "button", id: "edit", onclick: () => editApp(app).then(refreshAll), "aria-keyshortcuts": "g e" }, "Edit"),
      h("button", { type: "button", id: "suspend", onclick: suspend, disabled: app.instances < 1 }, "Suspend"),
      q && q.delay ? h("button", { type: "button", id: "reset-delay", onclick: resetDelay }, "Reset Delay") : null,
      h("button", { type: "button", id: "destroy", class: "danger", onclick: destroy }, "Destroy"));
  }

  const act = (what, fn) => fn().then(refreshAll).catch((e) => notice("Error " + what + " " + id + ": " + e.message));
  async function putForced(body, what) {
    try {
      await api("PUT", appPath(id), body);
    } catch (e) {
      if (e.status !== 409) throw e;
      if (!(await confirm("Application locked", "App is currently locked by one or more deployments. Stop them and " + what + "?", "Stop Current Deployment and " + what))) return;
      await api("PUT", appPath(id) + "?force=true", body);
    }
  }
  async function scale() {
    const n = await prompt("Scale Application", "How many instances would you like to scale to?", String(app.instances), { type: "number", min: 0 });
    if (n === null) return;
    act("scaling", () => putForced({ instances: Number(n) }, "Scale"));
  }
  async function restart() {
    if (!(await confirm("Restart " + id, "Restart every instance of " + id + " (a rolling upgrade)?", "Restart", false))) return;
    act("restarting", () => api("POST", appPath(id) + "/restart"));
  }
  async function suspend() {
    if (!(await confirm("Suspend " + id, "Scale " + id + " to 0 instances?", "Suspend"))) return;
    act("suspending", () => putForced({ instances: 0 }, "Suspend"));
  }
  async function resetDelay() {
    act("resetting the delay of", () => api("DELETE", "v2/queue" + id.split("/").map(encodeURIComponent).join("/") + "/delay"));
  }
  async function destroy() {
    if (!(await confirm("Destroy " + id, "Destroy " + id + "? Its instances are killed and its configuration deleted. This cannot be undone.", "Destroy"))) return;
    try {
      await api("DELETE", appPath(id));
      location.hash = groupHref(id.slice(0, id.lastIndexOf("/")) || "/");
      refresh();
    } catch (e) {
      notice("Error destroying " + id + ": " + e.message);
    }
  }

  function renderInstances() {
    const tasks = (app.tasks || []).slice().sort((a, b) => (b.stagedAt || "").localeCompare(a.stagedAt || ""));
    for (const s of [...selected]) if (!tasks.some((t) => t.id === s)) selected.delete(s);
    const hasHealth = (app.healthChecks || []).length > 0;
    const all = h("input", { type: "checkbox", id: "select-all", "aria-label": "Select all instances",
      checked: tasks.length > 0 && selected.size === tasks.length,
      onchange: () => { for (const t of tasks) all.checked ? selected.add(t.id) : selected.delete(t.id); renderInstances(); } });
    const kill = (scale) => async () => {
      const ids = [...selected];
      const what = scale ? "Kill " + ids.length + " instance(s) and scale " + id + " down by as many?" : "Kill " + ids.length + " instance(s)? They are replaced.";
      if (!(await confirm(scale ? "Kill & Scale" : "Kill", what, scale ? "Kill & Scale" : "Kill"))) return;
      act("killing tasks of", () => api("POST", "v2/tasks/delete?scale=" + scale, { ids })).then(() => selected.clear());
    };
    replace(panel,
      h("div", { class: "toolbar" },
        h("button", { type: "button", id: "kill", disabled: selected.size === 0, onclick: kill(false) }, "Kill"),
        h("button", { type: "button", id: "kill-scale", disabled: selected.size === 0, onclick: kill(true) }, "Kill & Scale"),
        h("span", { class: "muted" }, selected.size + " selected")),
      tasks.length === 0 ? h("p", { class: "empty" }, "No instances.") :
        h("div", { class: "scroll" }, h("table", { class: "tasks" },
          h("thead", {}, h("tr", {}, h("th", {}, all), h("th", { scope: "col" }, "ID"), hasHealth ? h("th", { scope: "col" }, "Health") : null,
            h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Endpoints"), h("th", { scope: "col", class: "hide-s" }, "Agent"),
            h("th", { scope: "col", class: "hide-s" }, "Started"), h("th", { scope: "col", class: "hide-s" }, "Version"), h("th", { scope: "col" }, "Logs"))),
          h("tbody", {}, tasks.map((t) => taskRow(t, hasHealth))))));
  }

  function taskRow(t, hasHealth) {
    const box = h("input", { type: "checkbox", "aria-label": "Select " + t.id, checked: selected.has(t.id),
      onchange: () => { box.checked ? selected.add(t.id) : selected.delete(t.id); renderInstances(); } });
    const th = taskHealth(t);
    const failure = (t.healthCheckResults || []).map((r) => r.lastFailureCause).filter(Boolean)[0];
    const state = t.startedAt ? "Started" : t.stagedAt ? "Staged" : "Waiting";
    return h("tr", { "data-task": t.id },
      h("td", {}, box),
      h("td", { class: "mono" }, h("a", { href: taskHref(id, t.id) }, t.id)),
      hasHealth ? h("td", {}, h("span", { class: "health h-" + th, title: failure || undefined }, th), failure ? h("div", { class: "muted small" }, failure) : null) : null,
      h("td", {}, h("span", { class: state === "Staged" ? "warn" : "" }, t.state ? t.state.replace("TASK_", "").toLowerCase() : state)),
      h("td", {}, (t.ports || []).map((p) => h("a", { class: "mono endpoint", href: "http://" + t.host + ":" + p, target: "_blank", rel: "noopener" }, t.host + ":" + p))),
      h("td", { class: "hide-s mono small", title: t.slaveId }, t.host),
      h("td", { class: "hide-s" }, time(t.startedAt)),
      h("td", { class: "hide-s" }, time(t.version)),
      h("td", {}, h("a", { href: taskHref(id, t.id) + "&file=stdout" }, "stdout"), " ", h("a", { href: taskHref(id, t.id) + "&file=stderr" }, "stderr")));
  }

  function renderConfig() {
    replace(panel,
      h("div", { class: "toolbar" }, h("button", { type: "button", onclick: () => editApp(app).then(refreshAll) }, "✎ Edit")),
      h("div", { class: "cols" }, h("div", {}, h("h2", {}, "Summary"), summary(app)),
        h("div", {}, h("h2", {}, "JSON"), h("pre", { class: "json", tabindex: "0", id: "config-json" }, JSON.stringify(definition(app), null, 2)))));
  }

  async function renderVersions() {
    replace(panel, h("p", { class: "empty" }, "Loading versions…"));
    let versions;
    try {
      versions = (await get(appPath(id) + "/versions")).versions;
    } catch (e) {
      replace(panel, h("p", { class: "error" }, e.message));
      return;
    }
    const cache = new Map();
    const fetchVersion = async (v) => {
      if (!cache.has(v)) cache.set(v, definition(await get(appPath(id) + "/versions/" + encodeURIComponent(v))));
      return cache.get(v);
    };
    const opts = (sel) => versions.map((v, i) => h("option", { value: v, selected: v === sel }, v + (i === 0 ? " (current)" : "")));
    const from = h("select", { id: "diff-from" }, opts(versions[1] || versions[0]));
    const to = h("select", { id: "diff-to" }, opts(versions[0]));
    const out = h("div", { id: "diff", class: "diff", "aria-live": "polite" });
    const showDiff = async () => {
      try {
        const [a, b] = await Promise.all([fetchVersion(from.value), fetchVersion(to.value)]);
        replace(out, diffLines(JSON.stringify(a, null, 2), JSON.stringify(b, null, 2)));
      } catch (e) {
        replace(out, h("p", { class: "error" }, e.message));
      }
    };
    from.onchange = to.onchange = showDiff;
    const apply = async (v) => {
      if (!(await confirm("Apply version", "Deploy the configuration of version " + v + " as " + id + "'s new version?", "Apply", false))) return;
      const def = await fetchVersion(v);
      act("applying a version to", () => putForced(def, "Apply")).then(() => renderVersions());
    };
    replace(panel,
      h("div", { class: "toolbar" }, h("label", { for: "diff-from" }, "Compare"), from, h("label", { for: "diff-to" }, "with"), to),
      out,
      h("h2", {}, "Versions"),
      h("ul", { class: "versions" }, versions.map((v, i) => h("li", {}, h("span", { class: "mono" }, v), " ", time(v), " ",
        i === 0 ? h("span", { class: "badge" }, "current") : h("button", { type: "button", class: "small", "data-version": v, onclick: () => apply(v) }, "✓ Apply this version")))));
    showDiff();
  }

  function renderDebug(q) {
    const f = app.lastTaskFailure;
    const vi = app.versionInfo || {};
    replace(panel,
      h("h2", {}, "Launch Queue"),
      q ? queueInfo(q) : h("p", { class: "muted" }, "Nothing waits to launch."),
      h("h2", {}, "Last Task Failure"),
      f ? h("dl", { class: "kv", id: "last-failure" },
        h("dt", {}, "Task"), h("dd", { class: "mono" }, f.taskId), h("dt", {}, "State"), h("dd", {}, f.state),
        h("dt", {}, "Message"), h("dd", {}, f.message), h("dt", {}, "Host"), h("dd", {}, f.host),
        h("dt", {}, "When"), h("dd", {}, time(f.timestamp)), h("dt", {}, "Version"), h("dd", {}, f.version),
        h("dt", {}, "Logs"), h("dd", {}, h("a", { href: taskHref(id, f.taskId) + "&file=stderr" }, "stderr"), " ", h("a", { href: taskHref(id, f.taskId) + "&file=stdout" }, "stdout")))
        : h("p", { class: "muted" }, "This app does not have failed tasks"),
      h("h2", {}, "Last Changes"),
      h("dl", { class: "kv" },
        h("dt", {}, "Scale or Restart"), h("dd", {}, vi.lastScalingAt && vi.lastScalingAt !== vi.lastConfigChangeAt ? time(vi.lastScalingAt) : "No operation since last config change"),
        h("dt", {}, "Configuration"), h("dd", {}, time(vi.lastConfigChangeAt))));
  }

  function queueInfo(q) {
    const s = q.processedOffersSummary || {};
    const d = q.delay || {};
    return h("div", { id: "queue" },
      h("dl", { class: "kv" },
        h("dt", {}, "Waiting"), h("dd", {}, q.count + " instance(s) since ", time(q.since)),
        h("dt", {}, "Backoff"), h("dd", {}, d.overdue ? "none: waiting for a matching offer" : "launches delayed for " + Math.ceil(d.timeLeftSeconds) + "s after failures", " ",
          h("button", { type: "button", class: "small", onclick: resetDelay }, "Reset Delay")),
        h("dt", {}, "Offers"), h("dd", {}, (s.processedOffersCount || 0) + " processed, " + (s.unusedOffersCount || 0) + " unused", s.lastUnusedOfferAt ? [", last unused ", time(s.lastUnusedOfferAt)] : null)),
      funnel("Why is it not launching? (offers of the last placement pass)", s.rejectSummaryLastOffers),
      // Stadion writes both summaries from the last pass; Marathon keeps
      // the launch attempt's apart. Show the second only when it differs.
      JSON.stringify(s.rejectSummaryLaunchAttempt) !== JSON.stringify(s.rejectSummaryLastOffers) ? funnel("Since the launch began", s.rejectSummaryLaunchAttempt) : null,
      (q.lastUnusedOffers || []).length ? h("div", {}, h("h3", {}, "Last unused offers"), h("ul", { class: "offers" }, q.lastUnusedOffers.slice(0, 10).map((o) =>
        h("li", {}, time(o.timestamp), " ", h("span", { class: "mono" }, (o.offer && o.offer.hostname) || ""), ": ", (o.reason || []).join(", "))))) : null);
  }

  function funnel(caption, steps) {
    if (!steps || !steps.length) return null;
    const max = Math.max(1, ...steps.map((x) => x.processed));
    return h("table", { class: "funnel" }, h("caption", {}, caption),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Requirement"), h("th", { scope: "col", class: "num" }, "Declined"), h("th", { scope: "col", class: "num" }, "Matched"), h("th", { scope: "col" }, ""))),
      h("tbody", {}, steps.map((x) => {
        const ok = x.processed - x.declined;
        const meter = h("span", { class: "meter" + (x.declined ? " bad" : "") });
        meter.style.width = Math.round((ok / max) * 100) + "%";
        return h("tr", { class: x.declined ? "declined" : "", "data-reason": x.reason }, h("th", { scope: "row" }, x.reason), h("td", { class: "num" }, x.declined), h("td", { class: "num" }, ok + " of " + x.processed), h("td", { class: "meter-cell" }, meter));
      })));
  }

  async function refreshAll() {
    await refresh();
    await load();
  }

  // The offer counters of the launch queue change with every offer,
  // which no event reports: the Debug tab alone reads the queue every
  // few seconds while it is shown.
  let queueEntry = store.queue.get(id), queueTimer = null;
  async function pollQueue() {
    if (!document.hidden) {
      try {
        const res = await get("v2/queue?embed=lastUnusedOffers");
        queueEntry = res.queue.find((x) => x.app && x.app.id === id);
        await load();
      } catch (e) { /* shown by the next successful read */ }
    }
    queueTimer = setTimeout(pollQueue, QUEUE_POLL);
  }
  if (tab === "debug") pollQueue();

  if (tab === "versions") renderVersions();
  const unsubscribe = subscribe((ev) => { if (ev.type === "refresh") load(); });
  load();
  return { leave: () => { unsubscribe(); clearTimeout(queueTimer); }, edit: () => app && editApp(app).then(refreshAll) };
}

// summary is the readable form of the fields Marathon's UI listed.
function summary(app) {
  const rows = [
    ["ID", app.id], ["Command", app.cmd], ["Args", app.args && app.args.join(" ")],
    ["Container", app.container && (app.container.type + (app.container.docker ? " " + app.container.docker.image : ""))],
    ["CPUs", app.cpus], ["Memory", mib(app.mem)], ["Disk Space", app.disk ? mib(app.disk) : null], ["GPUs", app.gpus || null],
    ["Instances", app.instances], ["Role", app.role], ["User", app.user],
    ["Constraints", (app.constraints || []).map((c) => c.join(":")).join(", ")],
    ["Dependencies", (app.dependencies || []).join(", ")],
    ["Labels", Object.entries(app.labels || {}).map(([k, v]) => k + "=" + v).join(", ")],
    ["Environment", Object.keys(app.env || {}).join(", ")],
    ["Port Definitions", (app.portDefinitions || []).map((p) => p.port + "/" + p.protocol + (p.name ? " (" + p.name + ")" : "")).join(", ")],
    ["Health Checks", (app.healthChecks || []).map((c) => c.protocol + " " + (c.path || (c.command && c.command.value) || "")).join(", ")],
    ["Backoff", app.backoffSeconds + "s × " + app.backoffFactor + ", max " + app.maxLaunchDelaySeconds + "s"],
    ["URIs", (app.fetch || []).map((f) => f.uri).join(", ")],
    ["Version", app.version],
  ];
  return h("dl", { class: "kv", id: "config-summary" }, rows.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
}
