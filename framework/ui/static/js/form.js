// form.js: create and edit an application. The JSON editor holds the
// whole definition and is the source of truth; the form edits only the
// common fields in it, so fields the form does not show are never lost.
// The server validates: each error of its answer is shown at the field
// its path names, the others above the form.

import { api, appPath } from "./api.js";
import { h, replace, appHref } from "./dom.js";
import { modal, notice } from "./widgets.js";
import { refresh } from "./store.js";

// FIELDS are the form's fields: the JSON path the server names in its
// errors, and how the value goes in and out of the definition.
const FIELDS = [
  { name: "id", label: "ID", path: "/id", type: "text", required: true, hint: "/group/name" },
  { name: "cmd", label: "Command", path: "/cmd", type: "textarea" },
  { name: "cpus", label: "CPUs", path: "/cpus", type: "number", step: "0.01", min: "0" },
  { name: "mem", label: "Memory (MiB)", path: "/mem", type: "number", step: "1", min: "0" },
  { name: "disk", label: "Disk Space (MiB)", path: "/disk", type: "number", step: "1", min: "0" },
  { name: "instances", label: "Instances", path: "/instances", type: "number", step: "1", min: "0" },
  { name: "image", label: "Docker image", path: "/container/docker/image", type: "text", hint: "empty: a command task" },
  { name: "labels", label: "Labels", path: "/labels", type: "textarea", hint: "one KEY=value a line" },
  { name: "env", label: "Environment variables", path: "/env", type: "textarea", hint: "one KEY=value a line" },
];

const DEFAULTS = { id: "", cmd: "", cpus: 1, mem: 128, disk: 0, instances: 1 };

const pairs = (o) => Object.entries(o || {}).filter(([, v]) => typeof v === "string").map(([k, v]) => k + "=" + v).join("\n");
function parsePairs(s, keep) {
  const out = {};
  // Values that are not strings (secret references) stay as they were.
  for (const [k, v] of Object.entries(keep || {})) if (typeof v !== "string") out[k] = v;
  for (const line of s.split("\n")) {
    const t = line.trim();
    if (!t) continue;
    const i = t.indexOf("=");
    if (i < 0) out[t] = ""; else out[t.slice(0, i).trim()] = t.slice(i + 1);
  }
  return out;
}

function toForm(def, name) {
  switch (name) {
    case "image": return (def.container && def.container.docker && def.container.docker.image) || "";
    case "labels": case "env": return pairs(def[name]);
    default: return def[name] ?? "";
  }
}

function fromForm(def, name, value) {
  switch (name) {
    case "image":
      if (value) {
        def.container = def.container || { type: "DOCKER" };
        def.container.type = "DOCKER";
        def.container.docker = Object.assign(def.container.docker || {}, { image: value });
      } else if (def.container && def.container.docker) {
        delete def.container;
      }
      return;
    case "labels": case "env": {
      const v = parsePairs(value, def[name]);
      if (Object.keys(v).length || def[name]) def[name] = v;
      return;
    }
    case "cpus": case "mem": case "disk": case "instances":
      // A number input's invalid text reaches the server as given, so
      // that its error is the server's.
      if (value === "") delete def[name];
      else def[name] = isNaN(Number(value)) ? value : Number(value);
      return;
    case "cmd":
      if (value === "") delete def.cmd; else def.cmd = value;
      return;
    default:
      def[name] = value;
  }
}

export function createApp(group) {
  const start = { ...DEFAULTS, id: group && group !== "/" ? group + "/" : "" };
  return appDialog("Create Application", start, false);
}

export function editApp(app) {
  return appDialog("Edit " + app.id, definition(app), true);
}

function appDialog(title, start, editing) {
  let def = JSON.parse(JSON.stringify(start));
  return modal(title, (close) => {
    const inputs = {};
    const errors = {};
    const general = h("div", { id: "form-errors", class: "errors", role: "alert" });
    const json = h("textarea", { id: "app-json", class: "mono", rows: "18", spellcheck: "false", "aria-describedby": "json-error" });
    const jsonError = h("p", { id: "json-error", class: "field-error" });
    const syncJSON = () => { json.value = JSON.stringify(def, null, 2); jsonError.textContent = ""; };
    const syncForm = () => { for (const f of FIELDS) inputs[f.name].value = toForm(def, f.name); };
    const fields = FIELDS.map((f) => {
      const id = "field-" + f.name;
      const input = f.type === "textarea"
        ? h("textarea", { id, name: f.name, rows: f.name === "cmd" ? "3" : "2", "aria-describedby": id + "-error " + id + "-hint" })
        : h("input", { id, name: f.name, type: f.type === "number" ? "text" : f.type, inputmode: f.type === "number" ? "decimal" : undefined, required: f.required, "aria-describedby": id + "-error " + id + "-hint" });
      input.addEventListener("input", () => {
        fromForm(def, f.name, input.value);
        syncJSON();
        clearError(f.name);
      });
      inputs[f.name] = input;
      errors[f.name] = h("p", { id: id + "-error", class: "field-error" });
      return h("div", { class: "field field-" + f.name }, h("label", { for: id }, f.label), input,
        f.hint ? h("p", { id: id + "-hint", class: "hint" }, f.hint) : null, errors[f.name]);
    });
    json.addEventListener("input", () => {
      try {
        const v = JSON.parse(json.value);
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error("the definition must be a JSON object");
        def = v;
        syncForm();
        jsonError.textContent = "";
      } catch (e) {
        jsonError.textContent = "Not valid JSON: " + e.message;
      }
    });
    const clearError = (name) => {
      errors[name].textContent = "";
      inputs[name].removeAttribute("aria-invalid");
    };
    const showErrors = (err) => {
      for (const f of FIELDS) clearError(f.name);
      const rest = [];
      for (const d of err.details) {
        const msg = (d.errors || []).join("; ");
        const f = FIELDS.find((x) => x.path === d.path || (d.path || "").startsWith(x.path + "/"));
        if (f) {
          errors[f.name].textContent = msg;
          inputs[f.name].setAttribute("aria-invalid", "true");
        } else {
          rest.push(h("li", {}, h("code", {}, d.path || "/"), " " + msg));
        }
      }
      replace(general, h("p", {}, "There was a problem with your configuration: " + err.message), rest.length ? h("ul", {}, rest) : null);
      const first = FIELDS.find((f) => errors[f.name].textContent);
      if (first) inputs[first.name].focus();
    };
    let force = false;
    const submit = h("button", { type: "submit", class: "primary", id: "app-submit" }, editing ? "Change and deploy" : "Create Application");
    const form = h("form", { class: "app-form", novalidate: true, onsubmit: async (e) => {
      e.preventDefault();
      if (jsonError.textContent) { json.focus(); return; }
      submit.disabled = true;
      try {
        if (editing) await api("PUT", appPath(start.id) + (force ? "?force=true" : ""), def);
        else await api("POST", "v2/apps", def);
        close(true);
        refresh();
        notice((editing ? "Deploying " : "Created ") + def.id, "ok");
        if (!editing) location.hash = appHref(def.id.startsWith("/") ? def.id : "/" + def.id);
      } catch (err) {
        if (err.status === 409 && editing) {
          force = true;
          replace(general, h("p", {}, "App is currently locked by one or more deployments. Press the button again to forcefully change and deploy the new configuration."));
        } else {
          showErrors(err);
        }
      } finally {
        submit.disabled = false;
      }
    } },
      general,
      h("div", { class: "form-cols" },
        h("fieldset", {}, h("legend", {}, "General"), fields),
        h("fieldset", {}, h("legend", {}, "JSON (the whole definition)"), h("label", { for: "app-json", class: "sr-only" }, "Application definition as JSON"), json, jsonError)),
      h("div", { class: "actions" }, h("button", { type: "button", onclick: () => close(false) }, "Cancel"), submit));
    form.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) form.requestSubmit(); });
    syncForm();
    syncJSON();
    if (editing) inputs.id.readOnly = true;
    return form;
  }, { wide: true });
}

// definition is an app's configuration without what the server adds
// (embedded runtime fields, version info).
export function definition(app) {
  const out = {};
  const skip = new Set(["version", "versionInfo", "tasks", "tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy",
    "deployments", "lastTaskFailure", "taskStats", "readinessCheckResults", "ports"]);
  for (const [k, v] of Object.entries(app)) if (!skip.has(k)) out[k] = v;
  return out;
}

