// store.js: the apps, queue and deployments the pages show, kept current
// by /v2/events (Server-Sent Events): an event marks the data stale and
// one refresh follows, coalescing bursts; a hidden tab refreshes when it
// is shown again. There is no polling.

import { get } from "./api.js";

const listeners = new Set();
export const store = {
  apps: new Map(), // id -> app with counts, deployments, lastTaskFailure
  queue: new Map(), // app id -> /v2/queue entry
  deployments: [],
  loaded: false,
  error: null,
  seq: 0, // increases with every refresh
};

// subscribe calls fn after each refresh and on each event; it returns
// the unsubscribe function.
export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function notify(ev) {
  for (const fn of [...listeners]) {
    try { fn(ev); } catch (e) { console.error(e); }
  }
}

let inFlight = null;
let again = false;

// refresh reloads apps, queue and deployments; concurrent calls share
// one reload and ask for one more after it.
export function refresh() {
  if (inFlight) {
    again = true;
    return inFlight;
  }
  inFlight = load().finally(() => {
    inFlight = null;
    if (again) {
      again = false;
      schedule();
    }
  });
  return inFlight;
}

async function load() {
  try {
    const [apps, queue, deployments] = await Promise.all([
      get("v2/apps?embed=apps.counts&embed=apps.deployments&embed=apps.lastTaskFailure"),
      get("v2/queue?embed=lastUnusedOffers"),
      get("v2/deployments"),
    ]);
    store.apps = new Map(apps.apps.map((a) => [a.id, a]));
    store.queue = new Map(queue.queue.filter((q) => q.app).map((q) => [q.app.id, q]));
    store.deployments = deployments;
    store.loaded = true;
    store.error = null;
  } catch (e) {
    store.error = e;
  }
  store.seq++;
  notify({ type: "refresh" });
}

let timer = null;
let stale = false;
let last = 0;

// Refreshes follow an event after DEBOUNCE ms, and at most one every
// MIN_GAP ms however many events come: a busy cluster's status updates
// cost one read a second, not one per task.
const DEBOUNCE = 250;
const MIN_GAP = 1000;

// schedule refreshes soon, once for any number of calls meanwhile.
export function schedule() {
  if (document.hidden) {
    stale = true;
    return;
  }
  if (timer) return;
  const wait = Math.max(DEBOUNCE, last + MIN_GAP - Date.now());
  timer = setTimeout(() => {
    timer = null;
    last = Date.now();
    refresh();
  }, wait);
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && stale) {
    stale = false;
    schedule();
  }
});

// connect follows /v2/events; live reports the stream's state.
export function connect(live) {
  // plan-format=light: deployment events without their full plans.
  const es = new EventSource(new URL("v2/events?plan-format=light", new URL("../", location.href)));
  es.onopen = () => {
    live("live", "Live updates");
    schedule(); // what changed while disconnected
  };
  es.onerror = () => live("down", "Live updates lost, reconnecting…");
  es.onmessage = (m) => handle("message", m.data);
  const types = [
    "status_update_event", "instance_changed_event", "health_status_changed_event", "instance_health_changed_event",
    "deployment_info", "deployment_success", "deployment_failed", "deployment_step_success", "deployment_step_failure",
    "api_post_event", "app_terminated_event", "group_change_success", "failed_health_check_event",
    "unhealthy_instance_kill_event", "unhealthy_task_kill_event", "instance_launch_delay_event", "app_launch_delay_event",
  ];
  for (const t of types) es.addEventListener(t, (m) => handle(t, m.data));
  return es;
}

function handle(type, data) {
  let ev = {};
  try { ev = JSON.parse(data); } catch { /* not JSON: still a change */ }
  ev.eventType = ev.eventType || type;
  schedule();
  notify({ type: "event", event: ev });
}

// Status, in Marathon's order (ui AppsStore detectAppStatus): a queue
// delay overrides everything else.
export const Status = { RUNNING: "Running", DEPLOYING: "Deploying", SUSPENDED: "Suspended", DELAYED: "Delayed", WAITING: "Waiting" };

export function appStatus(app, q) {
  let s = "";
  if (app.deployments && app.deployments.length > 0) s = Status.DEPLOYING;
  else if (app.instances === 0 && app.tasksRunning === 0) s = Status.SUSPENDED;
  else if (app.tasksRunning > 0) s = Status.RUNNING;
  if (q && q.delay) {
    s = q.delay.overdue ? Status.WAITING : Status.DELAYED;
  }
  return s;
}

// statusTitle explains a status.
export function statusTitle(s, q) {
  if (s === Status.DELAYED) return "Task execution failed, delayed for " + Math.ceil(q.delay.timeLeftSeconds) + "s";
  if (s === Status.WAITING) return "Waiting for resource offer";
  return "";
}

// health is the six segments of an app's instance bar, as Marathon's.
export function health(app) {
  const healthy = app.tasksHealthy || 0, unhealthy = app.tasksUnhealthy || 0, staged = app.tasksStaged || 0;
  const unknown = Math.max((app.tasksRunning || 0) - healthy - unhealthy, 0);
  const sum = healthy + unhealthy + unknown + staged;
  return [
    { key: "healthy", label: "Healthy", n: healthy },
    { key: "unhealthy", label: "Unhealthy", n: unhealthy },
    { key: "unknown", label: "Running (health unknown)", n: unknown },
    { key: "staged", label: "Staged", n: staged },
    { key: "over", label: "Over capacity", n: Math.max(0, sum - app.instances) },
    { key: "unscheduled", label: "Unscheduled", n: Math.max(0, app.instances - sum) },
  ];
}

// taskHealth is "healthy", "unhealthy" or "unknown" (ui getTaskHealth).
export function taskHealth(t) {
  const r = t.healthCheckResults || [];
  if (r.length === 0) return "unknown";
  return r.every((x) => x.firstSuccess && x.alive) ? "healthy" : "unhealthy";
}
