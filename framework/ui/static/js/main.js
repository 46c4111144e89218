// main.js: the shell: hash routes, the live event stream, keyboard
// shortcuts (c: create, g a / g d / g i: go to apps / deployments / info,
// s: search, g e: edit the app).

import { store, subscribe, connect, refresh } from "./store.js";
import { appsPage } from "./apps.js";
import { appPage } from "./app.js";
import { taskPage } from "./task.js";
import { deploymentsPage } from "./deployments.js";
import { infoPage } from "./info.js";
import { createApp } from "./form.js";

const PAGES = { apps: appsPage, app: appPage, task: taskPage, deployments: deploymentsPage, info: infoPage };
const main = document.getElementById("main");
let current = null;
let focusTab = ""; // the tab to focus once the page it opens is drawn

function route() {
  const hash = location.hash.replace(/^#\/?/, "");
  const [name, query] = hash.split(/\?(.*)/s);
  const page = PAGES[name];
  if (!page) {
    location.replace("#/apps");
    return;
  }
  if (current && current.leave) current.leave();
  const params = new URLSearchParams(query || "");
  current = page(main, params) || {};
  current.params = params;
  for (const a of document.querySelectorAll("[data-nav]")) {
    const on = a.dataset.nav === name || (name !== "deployments" && name !== "info" && a.dataset.nav === "apps");
    if (on) a.setAttribute("aria-current", "page"); else a.removeAttribute("aria-current");
  }
  document.title = "Stadion · " + (params.get("id") || name);
  if (focusTab) {
    const el = document.getElementById(focusTab);
    focusTab = "";
    if (el) el.focus();
  }
}

window.addEventListener("hashchange", route);

const live = document.getElementById("live");
connect((state, text) => {
  live.textContent = text;
  live.dataset.state = state;
  document.body.dataset.live = state;
});

const count = document.getElementById("deploy-count");
subscribe((ev) => {
  if (ev.type !== "refresh") return;
  count.hidden = store.deployments.length === 0;
  count.textContent = store.deployments.length;
});

const create = () => createApp(current && current.params ? current.params.get("group") : "/");
document.getElementById("create-app").addEventListener("click", create);

// Arrow keys move between the tabs of a tablist, as the tabs pattern
// of WAI-ARIA has it; the tabs are links, so moving follows one.
document.addEventListener("keydown", (e) => {
  const tab = e.target instanceof Element && e.target.closest('[role="tab"]');
  if (!tab || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(e.key)) return;
  const tabs = [...tab.parentElement.querySelectorAll('[role="tab"]')];
  const i = tabs.indexOf(tab);
  const next = e.key === "Home" ? 0 : e.key === "End" ? tabs.length - 1 : (i + (e.key === "ArrowRight" ? 1 : -1) + tabs.length) % tabs.length;
  e.preventDefault();
  focusTab = tabs[next].id;
  tabs[next].click();
});

let prefix = "";
document.addEventListener("keydown", (e) => {
  const t = e.target;
  if (e.ctrlKey || e.metaKey || e.altKey || document.querySelector("dialog[open]") ||
    (t instanceof HTMLElement && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)))) return;
  const key = prefix + e.key;
  prefix = "";
  switch (key) {
    case "c": create(); break;
    case "s": if (current && current.focusSearch) { e.preventDefault(); current.focusSearch(); } break;
    case "g": prefix = "g"; break;
    case "ga": location.hash = "#/apps"; break;
    case "gd": location.hash = "#/deployments"; break;
    case "gi": location.hash = "#/info"; break;
    case "ge": if (current && current.edit) current.edit(); break;
  }
});

refresh();
route();
