// api.js is the workspace's only way to the server: the versioned JSON API
// under /api/v1, with the session cookie and the CSRF token of the login.
// Pages never build URLs outside it.

const BASE = '/api/v1';

let csrf = '';
const listeners = new Set();

// ApiError is a refused or failed request: status and the server's message.
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// setCSRF keeps the CSRF token of the session (from login or GET /me).
export function setCSRF(token) {
  csrf = token || '';
}

// onUnauthorized registers fn, called when a request answers 401 (the
// session ended): the app shows the login.
export function onUnauthorized(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// url makes the URL of path (starting with "/", under /api/v1) with the
// query parameters of query (undefined, null and "" are left out).
export function url(path, query) {
  if (!path.startsWith('/') || path.includes('..')) throw new Error(`api: bad path ${path}`);
  const u = new URL(BASE + path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v === undefined || v === null || v === '') continue;
    u.searchParams.set(k, String(v));
  }
  return u.pathname + u.search;
}

// seg encodes one path segment (an address, a txid, "entity:ID").
export function seg(s) {
  return encodeURIComponent(String(s));
}

async function request(method, path, { query, body, raw, contentType, signal } = {}) {
  const headers = { Accept: 'application/json' };
  let payload;
  if (raw !== undefined) {
    payload = raw;
    headers['Content-Type'] = contentType || 'application/octet-stream';
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    headers['Content-Type'] = 'application/json';
  }
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  let res;
  try {
    res = await fetch(url(path, query), { method, headers, body: payload, credentials: 'same-origin', signal });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, e.message || 'network error');
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  if (!res.ok) {
    let msg = res.statusText;
    if (type.startsWith('application/json')) {
      try {
        msg = (await res.json()).error || msg;
      } catch {
        /* keep statusText */
      }
    }
    if (res.status === 401 && path !== '/login') for (const fn of listeners) fn();
    throw new ApiError(res.status, msg);
  }
  if (type.startsWith('application/json')) return res.json();
  return res.blob();
}

// get, post, patch, put, del: JSON requests. get returns the decoded body
// (a Blob for a file download).
export const get = (path, query, opts) => request('GET', path, { ...opts, query });
export const post = (path, body, query) => request('POST', path, { body, query });
export const patch = (path, body) => request('PATCH', path, { body });
export const put = (path, body) => request('PUT', path, { body });
export const del = (path) => request('DELETE', path);

// upload sends blob as a raw body (an exhibit: query {name}).
export const upload = (path, query, blob, contentType) => request('POST', path, { query, raw: blob, contentType });

// stream opens a server-sent event stream at path (a GET route that answers
// text/event-stream, e.g. /trace/{from}/events) and calls
// handlers[eventName](data) with each event's decoded JSON. The stream ends
// after a "result" or "error" event; close() cancels it (the server stops
// the work). handlers.onclose is called once when it ends either way.
export function stream(path, query, handlers) {
  const es = new EventSource(url(path, query), { withCredentials: true });
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    es.close();
    handlers.onclose?.();
  };
  for (const name of ['progress', 'result', 'error']) {
    es.addEventListener(name, (ev) => {
      if (!ev.data) return; // a connection error, not the server's event
      let data;
      try {
        data = JSON.parse(ev.data);
      } catch {
        data = { error: 'malformed event' };
      }
      handlers[name]?.(data);
      if (name !== 'progress') finish();
    });
  }
  es.onerror = () => {
    if (done) return;
    handlers.error?.({ error: 'the connection to the server was lost' });
    finish();
  };
  return { close: finish };
}
