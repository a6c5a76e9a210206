// router.js: History API routing for the workspace. Routes are patterns
// ("/address/:addr") with a render function; links are real <a href>
// elements whose clicks are intercepted, so they also open in a new tab.
// Each navigation gets an AbortController: the previous page's requests
// are cancelled and its cleanup runs before the next page renders.

import { h, replace } from './dom.js';

const routes = [];
let outlet = null;
let hooks = {};
let current = null;

// route registers a page: pattern is a path with ":name" segments, render
// is called as render(container, ctx) and may return (or resolve to) a
// cleanup function or an object with destroy(). opts.public marks pages
// shown without a session (the login); opts.keepOnLocale keeps the page
// as it is when the language changes (it re-labels itself).
export function route(pattern, render, opts = {}) {
  const names = [];
  const re = new RegExp(
    '^' +
      pattern
        .split('/')
        .map((part) => {
          if (part.startsWith(':')) {
            names.push(part.slice(1));
            return '([^/]+)';
          }
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        })
        .join('/') +
      '/?$',
  );
  routes.push({ pattern, re, names, render, ...opts });
}

function match(pathname) {
  for (const r of routes) {
    const m = r.re.exec(pathname);
    if (!m) continue;
    const params = {};
    let ok = true;
    r.names.forEach((n, i) => {
      try {
        params[n] = decodeURIComponent(m[i + 1]);
      } catch {
        ok = false;
      }
    });
    if (ok) return { route: r, params };
  }
  return null;
}

// currentPath is the path and query of the page shown ("/address/x?offset=50").
export function currentPath() {
  return window.location.pathname + window.location.search;
}

// navigate shows path (a same-origin path with its query). opts.replace
// replaces the history entry instead of adding one.
export function navigate(path, opts = {}) {
  if (typeof path !== 'string' || !path.startsWith('/')) path = '/';
  else {
    const u = new URL(path, window.location.origin);
    path = u.origin === window.location.origin && !u.pathname.startsWith('//') ? u.pathname + u.search : '/';
  }
  if (opts.replace) window.history.replaceState(null, '', path);
  else if (path !== currentPath()) window.history.pushState(null, '', path);
  render();
}

// setQuery changes the current URL's query parameters without rendering
// again (pages keep their pagination and sort state there, so a reload,
// a language switch or the back button restores it). null removes one.
export function setQuery(params) {
  const u = new URL(window.location.href);
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '' || v === false) u.searchParams.delete(k);
    else u.searchParams.set(k, String(v));
  }
  const next = u.pathname + u.search;
  if (next !== currentPath()) window.history.replaceState(null, '', next);
}

// refresh renders the current page again (after a language switch);
// pages marked keepOnLocale are left alone unless force is set.
export function refresh(force = false) {
  if (!force && current?.route?.keepOnLocale) return;
  render();
}

// currentRoute is the route shown (its pattern and options), or null.
export function currentRoute() {
  return current?.route ?? null;
}

function intercept(ev) {
  if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const a = ev.target.closest?.('a[href]');
  if (!a || a.target || a.hasAttribute('download')) return;
  const u = new URL(a.href, window.location.href);
  if (u.origin !== window.location.origin || u.pathname.startsWith('/api/')) return;
  if (u.pathname === window.location.pathname && u.search === window.location.search && u.hash) return;
  ev.preventDefault();
  navigate(u.pathname + u.search);
}

async function render() {
  if (!outlet) return;
  const found = match(window.location.pathname);
  if (current) {
    current.ctrl.abort();
    runCleanup(current.cleanup);
  }
  const ctrl = new AbortController();
  const query = new URLSearchParams(window.location.search);
  const r = found?.route ?? null;
  const ctx = { params: found?.params ?? {}, query, signal: ctrl.signal, path: currentPath(), navigate };
  const me = { route: r, ctx, ctrl, cleanup: null };
  current = me;
  const redirect = hooks.guard?.(r, ctx);
  if (redirect) {
    navigate(redirect, { replace: true });
    return;
  }
  hooks.before?.(r, ctx);
  const view = h('div', { className: ['page', r?.className] });
  replace(outlet, view);
  window.scrollTo(0, 0);
  if (!r) {
    hooks.notFound?.(view, ctx);
    return;
  }
  try {
    const cleanup = await r.render(view, ctx);
    if (current === me && !ctrl.signal.aborted) me.cleanup = cleanup;
    else runCleanup(cleanup);
  } catch (err) {
    if (ctrl.signal.aborted || err?.name === 'AbortError') return;
    hooks.error?.(view, err, ctx);
  }
}

function runCleanup(c) {
  try {
    if (typeof c === 'function') c();
    else c?.destroy?.();
  } catch (e) {
    console.warn('router: cleanup failed', e);
  }
}

// start renders the current URL into el and follows navigation from then
// on. h.guard(route, ctx) may return a path to go to instead (no session:
// the login); h.before(route, ctx) runs before each page; h.notFound(view,
// ctx) draws unknown paths; h.error(view, err, ctx) draws a page's failure.
export function start(el, h2 = {}) {
  outlet = el;
  hooks = h2;
  window.addEventListener('popstate', () => render());
  document.addEventListener('click', intercept);
  render();
}
