// deployments.js: running deployments with their steps and progress;
// rollback (DELETE, Marathon reverts) and force-stop (DELETE ?force=true).

import { api } from "./api.js";
import { h, replace, appHref } from "./dom.js";
import { store, subscribe, refresh } from "./store.js";
import { confirm, notice } from "./widgets.js";

export function deploymentsPage(main) {
  const body = h("div", { id: "deployments" });
  replace(main, h("h1", {}, "Deployments"), body);
  let sig = "";
  const act = async (d, force) => {
    const ok = force
      ? await confirm("Stop deployment", "Stop deployment " + d.id + " where it is, without reverting what it changed?", "Force stop")
      : await confirm("Rollback deployment", "Stop deployment " + d.id + " and revert its apps to their previous versions (a new deployment)?", "Rollback");
    if (!ok) return;
    try {
      await api("DELETE", "v2/deployments/" + encodeURIComponent(d.id) + (force ? "?force=true" : ""));
      refresh();
    } catch (e) {
      notice("Error stopping deployment " + d.id + ": " + e.message);
    }
  };
  function update() {
    const s = JSON.stringify(store.deployments);
    if (s === sig && store.loaded) return;
    sig = s;
    if (!store.deployments.length) {
      replace(body, h("p", { class: "empty" }, store.loaded ? "No Deployments" : "Loading…"));
      return;
    }
    replace(body, store.deployments.map((d) => h("article", { class: "deployment", "data-deployment": d.id },
      h("header", {}, h("h2", { class: "mono" }, d.id),
        h("span", { class: d.currentStep > d.totalSteps ? "" : "warn" }, "step " + Math.min(d.currentStep, d.totalSteps) + " of " + d.totalSteps),
        h("progress", { max: String(d.totalSteps), value: String(Math.max(0, d.currentStep - 1)), "aria-label": "Progress of " + d.id })),
      h("p", {}, "Affected: ", (d.affectedApps || []).map((a) => [h("a", { href: appHref(a) }, a), " "])),
      h("ol", { class: "steps" }, (d.steps || []).map((st, i) => h("li", { class: i + 1 < d.currentStep ? "done" : i + 1 === d.currentStep ? "current" : "" },
        st.actions.map((a) => a.action + " " + (a.app || a.pod || "")).join(", "),
        i + 1 === d.currentStep ? h("span", { class: "muted" }, " (in progress)") : null))),
      h("div", { class: "toolbar" },
        h("button", { type: "button", class: "rollback", onclick: () => act(d, false) }, "Rollback"),
        h("button", { type: "button", class: "danger force-stop", onclick: () => act(d, true) }, "Force stop")))));
  }
  const unsubscribe = subscribe((ev) => { if (ev.type === "refresh") update(); });
  update();
  return { leave: unsubscribe };
}
