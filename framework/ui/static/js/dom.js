// dom.js: the few DOM helpers the pages share. Text always goes in as
// text nodes, never as HTML.

// h builds an element: h("a", {href: "#", class: "x", onclick: fn}, "text", child).
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replace empties el and fills it with children.
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// ago is a short relative time ("3m ago"), "" for no date.
export function ago(iso) {
  if (!iso) return "";
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 5) return "just now";
  if (s < 60) return s + "s ago";
  if (s < 3600) return Math.floor(s / 60) + "m ago";
  if (s < 86400) return Math.floor(s / 3600) + "h ago";
  return Math.floor(s / 86400) + "d ago";
}

// time is an ISO date with its relative form in a <time> element.
export function time(iso) {
  if (!iso) return "—";
  return h("time", { datetime: iso, title: iso }, ago(iso));
}

// mib writes a memory size given in MiB.
export function mib(n) {
  if (n >= 1024) return (n / 1024).toFixed(1) + " GiB";
  return Math.round(n) + " MiB";
}

// appHref is the app page's address.
export const appHref = (id, tab) => "#/app?id=" + encodeURIComponent(id) + (tab ? "&tab=" + tab : "");
export const groupHref = (id) => "#/apps?group=" + encodeURIComponent(id);
export const taskHref = (appId, taskId) => "#/task?app=" + encodeURIComponent(appId) + "&id=" + encodeURIComponent(taskId);
