// info.js: GET /v2/info: version, leader, Mesos master, framework id and
// the configuration.

import { get } from "./api.js";
import { h, replace } from "./dom.js";

export function infoPage(main) {
  replace(main, h("h1", {}, "Info"), h("p", { class: "empty" }, "Loading…"));
  get("v2/info").then((i) => {
    const mc = i.marathon_config || {};
    const master = mc.mesos_leader_ui_url;
    const kv = (o) => h("dl", { class: "kv" }, Object.keys(o).sort().map((k) => [h("dt", { class: "mono" }, k), h("dd", { class: "mono" }, JSON.stringify(o[k]))]));
    replace(main, h("h1", {}, "Info"),
      h("dl", { class: "kv", id: "info" },
        h("dt", {}, "Version"), h("dd", {}, i.version),
        h("dt", {}, "Build"), h("dd", {}, i.buildref),
        h("dt", {}, "Leader"), h("dd", {}, i.leader || "none", i.elected ? " (this instance)" : " (this instance is a standby)"),
        h("dt", {}, "Mesos master"), h("dd", {}, master ? h("a", { href: master, rel: "noopener" }, master) : mc.master),
        h("dt", {}, "Framework ID"), h("dd", { class: "mono" }, i.frameworkId || "—"),
        h("dt", {}, "State store"), h("dd", {}, i.store ? (i.store.writable ? "writable" : "failing: " + i.store.error) : "—"),
        h("dt", {}, "API"), h("dd", {}, h("a", { href: "../v2/apps" }, "/v2"), " · ", h("a", { href: "../metrics/prometheus" }, "metrics"))),
      h("h2", {}, "Marathon configuration"), kv(mc),
      h("h2", {}, "ZooKeeper configuration"), kv(i.zookeeper_config || {}),
      h("h2", {}, "HTTP configuration"), kv(i.http_config || {}));
  }).catch((e) => replace(main, h("h1", {}, "Info"), h("p", { class: "error" }, e.message)));
  return {};
}
