// widgets.js: the health bar, status text, dialogs and notices.

import { h, replace } from "./dom.js";
import { health, statusTitle } from "./store.js";

// healthBar draws an app's instance bar; update it with setHealth.
export function healthBar(app) {
  const el = h("div", { class: "bar", role: "img" });
  setHealth(el, app);
  return el;
}

export function setHealth(el, app) {
  const segs = health(app);
  const total = segs.reduce((a, s) => a + s.n, 0);
  const parts = [];
  for (const s of segs) {
    if (!s.n) continue;
    const span = h("span", { class: "seg " + s.key });
    span.style.width = (Math.floor((s.n / total) * 100000) / 1000) + "%";
    parts.push(span);
  }
  replace(el, parts);
  el.classList.toggle("deploying", !!(app.deployments && app.deployments.length));
  const text = segs.filter((s) => s.n).map((s) => s.n + " " + s.label.toLowerCase()).join(", ") || "no instances";
  el.setAttribute("aria-label", text);
  el.title = text;
}

// legend lists the bar's non-empty segments.
export function legend(app) {
  return h("ul", { class: "legend" }, health(app).filter((s) => s.n).map((s) =>
    h("li", {}, h("span", { class: "dot " + s.key, "aria-hidden": "true" }), s.n + " " + s.label)));
}

export function statusEl(status, q) {
  return h("span", { class: "status s-" + (status || "none").toLowerCase(), title: statusTitle(status, q) || undefined }, status || "—");
}

// notice shows a message for a while; kind is "error" or "ok".
export function notice(msg, kind = "error") {
  const box = document.getElementById("toasts");
  const el = h("div", { class: "toast " + kind }, msg,
    h("button", { type: "button", class: "link", "aria-label": "Dismiss", onclick: () => el.remove() }, "×"));
  box.append(el);
  setTimeout(() => el.remove(), kind === "error" ? 12000 : 4000);
}

const dialog = () => document.getElementById("dialog");

// modal opens the dialog with a title and content; it resolves with the
// value close(v) was given, or null when dismissed.
export function modal(title, build, { wide = false } = {}) {
  const d = dialog();
  return new Promise((resolve) => {
    let value = null;
    const close = (v) => {
      value = v;
      d.close();
    };
    d.className = wide ? "wide" : "";
    replace(d, h("h2", { id: "dialog-title" }, title), build(close));
    d.addEventListener("close", () => {
      replace(d);
      resolve(value);
    }, { once: true });
    d.showModal();
    const first = d.querySelector("[autofocus], input, textarea, select, button.primary, button.danger");
    if (first) first.focus();
  });
}

// confirm asks before an action; danger styles the confirming button.
export function confirm(title, message, action, danger = true) {
  return modal(title, (close) => h("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); close(true); } },
    h("p", {}, message),
    h("div", { class: "actions" },
      h("button", { type: "button", onclick: () => close(false) }, "Cancel"),
      h("button", { type: "submit", class: danger ? "danger" : "primary", id: "confirm-ok" }, action)))).then((v) => v === true);
}

// prompt asks for a value; it resolves to the string, or null.
export function prompt(title, label, value, { type = "text", min } = {}) {
  return modal(title, (close) => {
    const input = h("input", { id: "prompt-value", type, value, min, required: true, autofocus: true });
    return h("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); close(input.value); } },
      h("label", { for: "prompt-value" }, label), input,
      h("div", { class: "actions" },
        h("button", { type: "button", onclick: () => close(null) }, "Cancel"),
        h("button", { type: "submit", class: "primary", id: "prompt-ok" }, "OK")));
  });
}
