// task.js: one task: its details, its sandbox's files, and a pager that
// tails stdout or stderr through /ui/tasks/<id>/files/read (the agent's
// Mesos files API, proxied by the server): it starts 32 KiB before the
// end, appends what the file grows by, pauses while the reader scrolls
// up and resumes at the bottom.

import { get, appPath, base } from "./api.js";
import { h, replace, time, appHref, groupHref } from "./dom.js";
import { notice } from "./widgets.js";

const START = 32768; // bytes shown before the end at first
const CHUNK = 50000; // bytes asked per read (the agent caps at 64 KiB)
const KEEP = 200000; // characters kept on the page
const POLL = 1000; // ms between reads at the end of the file

const filesURL = (task, op, q) => new URL("ui/tasks/" + encodeURIComponent(task) + "/files/" + op + "?" + new URLSearchParams(q), base);

async function files(task, op, q) {
  const resp = await fetch(filesURL(task, op, q), { credentials: "same-origin", headers: { Accept: "application/json" } });
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Error(body.message || "HTTP " + resp.status);
  return body;
}

export function taskPage(main, params) {
  const appId = params.get("app") || "/", taskId = params.get("id") || "";
  const file = params.get("file") || "stdout";
  const dir = params.get("dir") || "";
  const here = (extra) => "#/task?" + new URLSearchParams({ app: appId, id: taskId, ...extra });
  const details = h("dl", { class: "kv" });
  const list = h("tbody");
  const out = h("pre", { id: "log", class: "log", tabindex: "0", "aria-label": file + " of " + taskId, "aria-live": "off" });
  const badge = h("span", { id: "log-state", class: "badge", role: "status" }, "loading");
  const tabs = h("div", { role: "tablist", class: "tabs", "aria-label": "File" }, ["stdout", "stderr"].map((f) =>
    h("a", { role: "tab", id: "file-" + f, "aria-selected": String(f === file), href: here({ file: f, dir }) }, f)));
  replace(main,
    h("nav", { class: "crumbs", "aria-label": "Application" }, h("a", { href: groupHref("/") }, "Applications"), " / ", h("a", { href: appHref(appId) }, appId), " / task"),
    h("h1", { class: "mono wrap" }, taskId),
    details,
    h("h2", {}, "Output"), tabs, h("div", { class: "log-head" }, h("span", { class: "mono" }, file), badge,
      h("a", { href: filesURL(taskId, "download", { path: file }).href, class: "small" }, "Download")),
    out,
    h("h2", {}, "Sandbox"),
    h("nav", { class: "crumbs", "aria-label": "Sandbox directory" }, h("a", { href: here({ file }) }, "sandbox"),
      dir.split("/").filter(Boolean).map((part, i, parts) => [" / ", h("a", { href: here({ file, dir: parts.slice(0, i + 1).join("/") }) }, part)])),
    h("div", { class: "scroll" }, h("table", { class: "files" }, h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Name"), h("th", { scope: "col" }, "Mode"), h("th", { scope: "col", class: "num" }, "Size"), h("th", { scope: "col", class: "hide-s" }, "Modified"))), list)));

  let stopped = false, timer = null, end = 0, follow = true;
  out.addEventListener("scroll", () => {
    follow = out.scrollTop + out.clientHeight >= out.scrollHeight - 4;
    badge.textContent = follow ? "tailing" : "paused (scroll to the bottom to resume)";
  });

  async function start() {
    try {
      const probe = await files(taskId, "read", { path: file, offset: -1 });
      end = Math.max(0, probe.offset - START);
      const skipPartial = end > 0;
      await tail(skipPartial);
    } catch (e) {
      badge.textContent = "unavailable";
      out.textContent = e.message;
      retry();
    }
  }

  async function tail(skipPartial) {
    if (stopped) return;
    let chunk;
    try {
      chunk = await files(taskId, "read", { path: file, offset: end, length: CHUNK });
    } catch (e) {
      badge.textContent = "error: " + e.message;
      retry();
      return;
    }
    let text = chunk.data;
    end = chunk.offset + chunk.data.length;
    if (skipPartial) {
      const nl = text.indexOf("\n");
      text = nl >= 0 ? text.slice(nl + 1) : "";
    }
    if (text) {
      out.append(document.createTextNode(text));
      if (out.textContent.length > KEEP) out.textContent = out.textContent.slice(-KEEP);
      if (follow) out.scrollTop = out.scrollHeight;
    }
    if (follow) badge.textContent = "tailing";
    timer = setTimeout(() => tail(false), chunk.data.length >= CHUNK ? 0 : POLL);
  }

  function retry() {
    if (!stopped) timer = setTimeout(start, POLL);
  }

  async function loadDetails() {
    try {
      const app = (await get(appPath(appId))).app;
      const t = (app.tasks || []).find((x) => x.id === taskId);
      if (t) {
        replace(details,
          h("dt", {}, "State"), h("dd", {}, t.state),
          h("dt", {}, "Host"), h("dd", {}, t.host, " (agent ", h("span", { class: "mono" }, t.slaveId), ")"),
          h("dt", {}, "Ports"), h("dd", {}, (t.ports || []).join(", ") || "—"),
          h("dt", {}, "Staged"), h("dd", {}, time(t.stagedAt)), h("dt", {}, "Started"), h("dd", {}, time(t.startedAt)),
          h("dt", {}, "Version"), h("dd", {}, t.version),
          (t.healthCheckResults || []).map((r, i) => [h("dt", {}, "Health check " + (i + 1)),
            h("dd", {}, r.alive ? "alive" : "not alive", ", " + r.consecutiveFailures + " consecutive failures", r.lastFailureCause ? ", last failure: " + r.lastFailureCause : "")]));
      } else {
        replace(details, h("dt", {}, "State"), h("dd", {}, "not running any more"));
      }
    } catch (e) {
      notice(e.message);
    }
  }

  async function loadFiles() {
    try {
      const entries = await files(taskId, "browse", { path: dir });
      // Directories first, then files, as the Mesos UI lists them.
      entries.sort((a, b) => (b.mode.startsWith("d") - a.mode.startsWith("d")) || a.path.localeCompare(b.path));
      replace(list, entries.map((f) => h("tr", {},
        h("td", { class: "mono" }, f.mode.startsWith("d")
          ? h("a", { href: here({ file, dir: f.path }) }, f.path + "/")
          : h("a", { href: here({ file: f.path, dir }) }, f.path)),
        h("td", { class: "mono" }, f.mode), h("td", { class: "num" }, f.size), h("td", { class: "hide-s" }, time(new Date(f.mtime * 1000).toISOString())))));
    } catch (e) {
      replace(list, h("tr", {}, h("td", { colspan: "4" }, e.message)));
    }
  }

  loadDetails();
  loadFiles();
  start();
  return { leave: () => { stopped = true; clearTimeout(timer); } };
}
