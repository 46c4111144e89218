// apps.js: the applications page: the group tree, filters (text, status,
// label) and the list. Rows are kept by key and only rows whose content
// changed are rewritten, so that an event on one of 1,000 apps touches
// one row.

import { h, replace, appHref, groupHref, mib } from "./dom.js";
import { store, subscribe, appStatus, Status } from "./store.js";
import { healthBar, setHealth, statusEl } from "./widgets.js";

const parentOf = (id) => id.slice(0, id.lastIndexOf("/")) || "/";
const nameOf = (id) => id.slice(id.lastIndexOf("/") + 1);

// groupsOf is every group of the apps' ids, with its apps' totals.
function groupsOf(apps) {
  const groups = new Map([["/", { id: "/", apps: 0, instances: 0, running: 0, cpus: 0, mem: 0, healthy: 0, unhealthy: 0, staged: 0, deploying: false }]]);
  for (const a of apps) {
    for (let g = parentOf(a.id); ; g = parentOf(g)) {
      let t = groups.get(g);
      if (!t) groups.set(g, (t = { id: g, apps: 0, instances: 0, running: 0, cpus: 0, mem: 0, healthy: 0, unhealthy: 0, staged: 0, deploying: false }));
      t.apps++;
      t.instances += a.instances;
      t.running += a.tasksRunning || 0;
      t.cpus += a.cpus * a.instances;
      t.mem += a.mem * a.instances;
      t.healthy += a.tasksHealthy || 0;
      t.unhealthy += a.tasksUnhealthy || 0;
      t.staged += a.tasksStaged || 0;
      t.deploying ||= !!(a.deployments && a.deployments.length);
      if (g === "/") break;
    }
  }
  return groups;
}

// matches applies the filters; label is "key" or "key:value".
function matches(a, f) {
  if (f.q && !a.id.toLowerCase().includes(f.q.toLowerCase())) return false;
  if (f.status && appStatus(a, store.queue.get(a.id)) !== f.status) return false;
  if (f.label) {
    const [k, v] = f.label.split(/:(.*)/s);
    const labels = a.labels || {};
    if (!(k in labels) || (v !== undefined && labels[k] !== v)) return false;
  }
  return true;
}

export function appsPage(main, params) {
  const f = { group: params.get("group") || "/", q: params.get("q") || "", status: params.get("status") || "", label: params.get("label") || "" };
  const setParam = (k, v) => {
    const p = new URLSearchParams(params);
    if (v) p.set(k, v); else p.delete(k);
    location.hash = "#/apps" + (p.toString() ? "?" + p : "");
  };
  const search = h("input", { id: "filter-text", type: "search", value: f.q, placeholder: "Search all applications", "aria-keyshortcuts": "s",
    onkeydown: (e) => { if (e.key === "Enter") setParam("q", search.value.trim()); if (e.key === "Escape") setParam("q", ""); } });
  const status = h("select", { id: "filter-status", onchange: () => setParam("status", status.value) },
    h("option", { value: "" }, "Any status"), Object.values(Status).map((s) => h("option", { value: s, selected: s === f.status }, s)));
  const label = h("select", { id: "filter-label", onchange: () => setParam("label", label.value) });
  const tree = h("ul", { class: "tree" });
  const crumbs = h("nav", { class: "crumbs", "aria-label": "Group" });
  const summary = h("p", { class: "summary", role: "status" });
  const tbody = h("tbody", { id: "apps-body" });
  const table = h("table", { class: "apps", "aria-describedby": "apps-caption" },
    h("caption", { id: "apps-caption", class: "sr-only" }, "Applications"),
    h("thead", {}, h("tr", {},
      h("th", { scope: "col" }, "Name"), h("th", { scope: "col", class: "num" }, "CPU"),
      h("th", { scope: "col", class: "num hide-s" }, "Memory"), h("th", { scope: "col" }, "Status"),
      h("th", { scope: "col", class: "num" }, "Running"), h("th", { scope: "col", class: "hide-s" }, "Health"))),
    tbody);
  replace(main,
    h("div", { class: "apps-page" },
      h("aside", { class: "side", "aria-label": "Groups and filters" },
        h("label", { for: "filter-text", class: "sr-only" }, "Search applications"), search,
        h("label", { for: "filter-status" }, "Status"), status,
        h("label", { for: "filter-label" }, "Label"), label,
        h("h2", { class: "side-title" }, "Groups"), tree),
      h("section", { class: "list" }, crumbs, summary, h("div", { class: "scroll" }, table))));

  const rows = new Map(); // key -> {tr, sig, cells}
  let labelsSig = "", treeSig = "";

  function update() {
    if (store.error && !store.loaded) {
      replace(summary, store.error.message);
      return;
    }
    const apps = [...store.apps.values()].sort((a, b) => a.id.localeCompare(b.id));
    const groups = groupsOf(apps);
    renderLabels(apps);
    renderTree(groups);
    const filtered = f.q || f.status || f.label;
    let items;
    if (filtered) {
      items = apps.filter((a) => matches(a, f)).map((a) => ({ key: a.id, app: a }));
    } else {
      const kids = [...groups.values()].filter((g) => g.id !== "/" && g.id !== f.group && parentOf(g.id) === f.group).map((g) => ({ key: "g:" + g.id, group: g }));
      const own = apps.filter((a) => parentOf(a.id) === f.group).map((a) => ({ key: a.id, app: a }));
      items = [...kids, ...own];
    }
    replace(crumbs, crumbTrail(f.group, filtered));
    replace(summary, !store.loaded ? "Loading Applications…" :
      items.length ? items.length + (items.length === 1 ? " item" : " items") :
      apps.length === 0 ? "No Applications Created" : filtered ? "No Applications Found" : "No Applications in this Group.");
    reconcile(items, filtered);
  }

  function crumbTrail(group, filtered) {
    if (filtered) return [h("span", {}, "Search results"), " ", h("a", { href: "#/apps" }, "Clear search")];
    const out = [h("a", { href: groupHref("/") }, "Applications")];
    let path = "";
    for (const part of group.split("/").filter(Boolean)) {
      path += "/" + part;
      out.push(" / ", h("a", { href: groupHref(path) }, part));
    }
    return out;
  }

  function renderLabels(apps) {
    const set = new Set();
    for (const a of apps) for (const [k, v] of Object.entries(a.labels || {})) set.add(k + ":" + v);
    const all = [...set].sort();
    const sig = all.join("\n");
    if (sig === labelsSig) return;
    labelsSig = sig;
    replace(label, h("option", { value: "" }, "Any label"), all.map((l) => h("option", { value: l, selected: l === f.label }, l)));
  }

  function renderTree(groups) {
    const ids = [...groups.keys()].sort();
    const sig = ids.join("\n") + "|" + f.group;
    if (sig === treeSig) return;
    treeSig = sig;
    replace(tree, ids.map((id) => {
      const depth = id === "/" ? 0 : id.split("/").length - 1;
      const a = h("a", { href: groupHref(id), "aria-current": id === f.group ? "page" : undefined }, id === "/" ? "All" : nameOf(id));
      a.style.paddingInlineStart = (0.5 + depth) + "rem";
      return h("li", {}, a);
    }));
  }

  function reconcile(items, flat) {
    const seen = new Set();
    let ref = tbody.firstChild;
    for (const it of items) {
      seen.add(it.key);
      let row = rows.get(it.key);
      if (!row) {
        row = newRow();
        rows.set(it.key, row);
      }
      const sig = it.app ? appSig(it.app, flat) : groupSig(it.group);
      if (row.sig !== sig) {
        row.sig = sig;
        if (it.app) fillApp(row, it.app, flat); else fillGroup(row, it.group);
      }
      if (row.tr !== ref) tbody.insertBefore(row.tr, ref);
      else ref = ref.nextSibling;
    }
    for (const [k, row] of rows) {
      if (!seen.has(k)) {
        row.tr.remove();
        rows.delete(k);
      }
    }
  }

  const unsubscribe = subscribe((ev) => { if (ev.type === "refresh") update(); });
  update();
  return { leave: unsubscribe, focusSearch: () => search.focus() };
}

function newRow() {
  const c = { name: h("td", { class: "name" }), cpu: h("td", { class: "num" }), mem: h("td", { class: "num hide-s" }),
    status: h("td"), running: h("td", { class: "num" }), bar: h("td", { class: "hide-s" }) };
  c.barEl = h("div", { class: "bar" });
  c.bar.append(c.barEl);
  return { tr: h("tr", {}, c.name, c.cpu, c.mem, c.status, c.running, c.bar), sig: "", cells: c };
}

function appSig(a, flat) {
  const q = store.queue.get(a.id);
  return JSON.stringify([flat, a.id, a.instances, a.cpus, a.mem, a.tasksRunning, a.tasksHealthy, a.tasksUnhealthy, a.tasksStaged,
    a.deployments && a.deployments.length, a.labels, q && q.delay, q && q.count]);
}

function fillApp(row, a, flat) {
  const c = row.cells, q = store.queue.get(a.id);
  row.tr.dataset.app = a.id;
  row.tr.className = "app";
  const labels = Object.entries(a.labels || {});
  replace(c.name, h("a", { href: appHref(a.id) }, flat ? a.id : nameOf(a.id)),
    labels.slice(0, 3).map(([k, v]) => h("span", { class: "badge" }, v ? k + ":" + v : k)),
    labels.length > 3 ? h("span", { class: "badge", title: labels.slice(3).map(([k, v]) => k + ":" + v).join(", ") }, "…") : null);
  c.cpu.textContent = (a.cpus * a.instances).toFixed(1);
  c.mem.textContent = mib(a.mem * a.instances);
  c.mem.title = a.mem * a.instances + " MiB";
  replace(c.status, statusEl(appStatus(a, q), q));
  c.running.textContent = (a.tasksRunning || 0) + " of " + a.instances;
  setHealth(c.barEl, a);
}

function groupSig(g) {
  return JSON.stringify(g);
}

function fillGroup(row, g) {
  const c = row.cells;
  row.tr.dataset.group = g.id;
  row.tr.className = "group";
  replace(c.name, h("a", { href: groupHref(g.id) }, h("span", { class: "folder", "aria-hidden": "true" }, "▸ "), nameOf(g.id) + "/"),
    h("span", { class: "muted" }, " " + g.apps + (g.apps === 1 ? " app" : " apps")));
  c.cpu.textContent = g.cpus.toFixed(1);
  c.mem.textContent = mib(g.mem);
  replace(c.status, g.deploying ? h("span", { class: "status s-deploying" }, "Deploying") : "");
  c.running.textContent = g.running + " of " + g.instances;
  setHealth(c.barEl, { instances: g.instances, tasksRunning: g.running, tasksHealthy: g.healthy, tasksUnhealthy: g.unhealthy, tasksStaged: g.staged, deployments: g.deploying ? [1] : [] });
}

export { healthBar };
