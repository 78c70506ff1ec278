// The public API, with the signed-in token. Every answer is the API's
// envelope; errors become ApiError with the envelope's code and details.

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `request failed (${status})`);
    this.status = status;
    this.code = e.code || 'error';
    this.details = e.details || [];
  }
}

let token = '';
let onUnauthorized = () => {};

export function setToken(t) { token = t; }
export function getToken() { return token; }
export function whenUnauthorized(f) { onUnauthorized = f; }

export async function api(method, path, body, query) {
  let url = '/api/' + path.replace(/^\/+/, '');
  if (!url.endsWith('/')) url += '/';
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    const s = q.toString();
    if (s) url += '?' + s;
  }
  const init = { method, headers: { Authorization: 'Bearer ' + token } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new ApiError(0, { error: { code: 'network', message: 'hookd cannot be reached: ' + err.message } });
  }
  let json = null;
  try { json = await res.json(); } catch { /* not JSON */ }
  if (res.status === 401) {
    onUnauthorized();
  }
  if (!res.ok || !json || json.success === false) throw new ApiError(res.status, json);
  return json.data;
}

export const get = (p, q) => api('GET', p, undefined, q);
export const post = (p, b) => api('POST', p, b === undefined ? {} : b);
export const put = (p, b) => api('PUT', p, b);
export const del = (p) => api('DELETE', p);

// claims decodes the token's payload (not verified: the API does that).
export function claims(t) {
  try {
    const part = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const json = decodeURIComponent(Array.from(atob(part), (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0')).join(''));
    const c = JSON.parse(json);
    const scopes = typeof c.scope === 'string' ? c.scope.split(/\s+/).filter(Boolean) : Array.isArray(c.scope) ? c.scope : [];
    return { sub: c.sub || '', tenant: c.tenant || 'default', scopes, exp: c.exp || 0 };
  } catch {
    return null;
  }
}

// catalog caches the event catalog for the page's life.
let catalogPromise = null;
export function catalog(fresh) {
  if (fresh || !catalogPromise) {
    catalogPromise = get('webhooks/events').catch((e) => { catalogPromise = null; throw e; });
  }
  return catalogPromise;
}
