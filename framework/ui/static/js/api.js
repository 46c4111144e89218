// api.js: calls to the public /v2 API of the server that serves the UI
// (relative "../", as Marathon's UI), with the browser's own credentials.

export const base = new URL("../", location.href);

// APIError is a non-2xx answer: Marathon's {message, details}.
export class APIError extends Error {
  constructor(status, body) {
    super(messageOf(status, body));
    this.status = status;
    this.body = body || {};
    this.details = Array.isArray(this.body.details) ? this.body.details : [];
  }
}

function messageOf(status, body) {
  if (status === 401) return "Unauthorized access. Could not execute operation.";
  if (status === 403) return "Access forbidden. Could not execute operation." + (body && body.message ? " (" + body.message + ")" : "");
  return (body && body.message) || "HTTP " + status + ". Refresh to try again.";
}

// api sends a request; body, when given, goes as JSON. It resolves to
// the decoded answer (null when empty).
export async function api(method, path, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(new URL(path, base), init);
  const text = await resp.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = { message: text.trim() }; }
  }
  if (!resp.ok) throw new APIError(resp.status, data);
  return data;
}

export const get = (path) => api("GET", path);

// appPath is /v2/apps/<id> with each segment escaped.
export const appPath = (id) => "v2/apps" + id.split("/").map(encodeURIComponent).join("/");
