// The API client of the pages: JSON reads with the session cookie, and CSRF-protected writes.

export class ApiError extends Error {
  constructor(status, detail, errors) {
    super(detail);
    this.status = status;
    this.errors = errors || [];
  }
}

function csrfHeader() {
  const csrf = (document.cookie.match(/(?:^|; )cs_csrf=([^;]+)/) || [])[1] || "";
  return { "X-CSRF-Token": decodeURIComponent(csrf) };
}

// GET a JSON document; a 401 sends the browser to the login page, back here afterwards.
export async function getJson(path, params) {
  const response = await fetch(params ? `${path}?${params}` : path, { credentials: "same-origin" });
  if (response.status === 401) {
    location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
    throw new ApiError(401, "signed out");
  }
  if (!response.ok) {
    let body = {};
    try { body = await response.json(); } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, body.detail || `HTTP ${response.status}`, body.errors);
  }
  return response.json();
}

// PUT a JSON document (CSRF-protected); errors as for getJson.
export async function putJson(path, body) {
  const response = await fetch(path, {
    method: "PUT",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...csrfHeader() },
    body: JSON.stringify(body),
  });
  if (!response.ok) {
    let data = {};
    try { data = await response.json(); } catch (_) { /* not JSON */ }
    throw new ApiError(response.status, data.detail || `HTTP ${response.status}`, data.errors);
  }
  return response.json();
}

export async function logout() {
  await fetch("/logout", { method: "POST", headers: csrfHeader(), credentials: "same-origin" });
  location.assign("/login");
}

// Where to go after signing in: a path of this site only (never another origin, whatever
// backslashes, tabs or encoded characters the `next` parameter holds).
export function safeNext(next) {
  if (!next) return "/";
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : "/";
  } catch (_) {
    return "/";
  }
}
