// shell.js: the frame around every page: the top bar (brand, search box,
// navigation, the user, the language switch, logout), the keyboard
// shortcuts ("/" search, "g c" cases, "g h" home, "?" help) and their help
// dialog. It redraws its labels when the language changes.

import { h, replace } from '../dom.js';
import { post, put, setCSRF } from '../api.js';
import { t, LOCALES, locale, setLocale } from '../i18n.js';
import { navigate, currentRoute } from '../router.js';
import { searchBox } from './search.js';
import { getMe, setMe } from './session.js';
import { openDialog } from './common.js';

let bar = null;
let search = null;
let activeNav = '';

// mountShell draws the top bar into el (and keeps redrawing it).
export function mountShell(el) {
  bar = el;
  draw();
  installShortcuts();
}

// updateShell redraws the top bar (after login, logout or a language
// switch); nav names the active section ("search", "cases", "").
export function updateShell(nav) {
  if (nav !== undefined) activeNav = nav;
  if (drawn && drawn.me === getMe() && drawn.locale === locale()) {
    // Only the page changed: mark the active section, keep the search box.
    for (const a of bar.querySelectorAll('.nav-link')) {
      const on = a.dataset.nav === activeNav;
      a.classList.toggle('active', on);
      if (on) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    return;
  }
  draw();
}

let drawn = null;

function draw() {
  if (!bar) return;
  const me = getMe();
  drawn = { me, locale: locale() };
  const old = search?.input?.value || '';
  search = me ? searchBox() : null;
  if (search) search.input.value = old;
  const langSelect = h(
    'select',
    {
      className: 'lang-select',
      title: t('shell.language'),
      dataset: { testid: 'language-select' },
      attrs: { 'aria-label': t('shell.language') },
      on: { change: (ev) => switchLanguage(ev.target.value) },
    },
    LOCALES.map((l) => h('option', { value: l.code, text: l.name, selected: l.code === locale() })),
  );
  const navLink = (path, key, label) =>
    h('a', { href: path, className: ['nav-link', activeNav === key && 'active'], text: label, dataset: { nav: key }, attrs: activeNav === key ? { 'aria-current': 'page' } : undefined });
  replace(
    bar,
    h(
      'div',
      { className: 'topbar-inner' },
      h('a', { href: '/', className: 'brand', title: t('shell.home') }, h('span', { className: 'brand-mark', attrs: { 'aria-hidden': 'true' } }), 'Vestigo'),
      search,
      me ? h('nav', { className: 'nav', attrs: { 'aria-label': t('shell.navigation') } }, navLink('/search', 'search', t('nav.search')), navLink('/cases', 'cases', t('nav.cases'))) : null,
      h('div', { className: 'spacer' }),
      me
        ? h(
            'div',
            { className: 'user', title: t('shell.userTitle', { user: me.username, agency: me.agency, role: roleName(me.role) }), dataset: { testid: 'current-user' } },
            h('span', { className: 'user-name', text: me.username }),
            h('span', { className: 'user-meta', text: `${me.agency} · ${roleName(me.role)}` }),
          )
        : null,
      langSelect,
      me ? h('button', { type: 'button', className: 'btn btn-quiet', title: t('shell.shortcuts'), text: '?', attrs: { 'aria-label': t('shell.shortcuts') }, on: { click: showHelp } }) : null,
      me ? h('button', { type: 'button', className: 'btn btn-quiet', text: t('shell.logout'), dataset: { testid: 'logout' }, on: { click: logout } }) : null,
    ),
  );
}

// roleName names a role in the locale.
export function roleName(role) {
  switch (role) {
    case 'admin':
      return t('role.admin');
    case 'investigator':
      return t('role.investigator');
    case 'reviewer':
      return t('role.reviewer');
    case 'read-only':
      return t('role.readOnly');
  }
  return role || '';
}

async function switchLanguage(code) {
  // Keep it for the user on the server first (the page's reload after the
  // switch writes audit records of its own at the same moment), but never
  // wait long: the choice stays in this browser either way.
  const saved = getMe() ? saveLanguage(code) : Promise.resolve();
  await Promise.race([saved, new Promise((r) => setTimeout(r, 500))]);
  setLocale(code);
}

async function saveLanguage(code) {
  for (let attempt = 0; attempt < 2 && getMe(); attempt++) {
    try {
      await put('/me/language', { language: code });
      getMe().language = code;
      return;
    } catch (e) {
      if (e.status && e.status < 500) return;
      await new Promise((r) => setTimeout(r, 400));
    }
  }
}

async function logout() {
  try {
    await post('/logout');
  } catch {
    /* the session may have ended already */
  }
  setMe(null);
  setCSRF('');
  draw();
  navigate('/login', { replace: true }); // the graph, if open, is put away first
  forgetWork();
}

// forgetWork drops what this tab kept of the user's work (the graph kept
// across page changes), so the next person at the browser starts clean.
function forgetWork() {
  try {
    for (const k of Object.keys(sessionStorage)) if (k.startsWith('vestigo.graph.')) sessionStorage.removeItem(k);
  } catch {
    /* storage unavailable */
  }
}

// focusSearch puts the cursor in the search box.
export function focusSearch() {
  search?.input?.focus();
  search?.input?.select();
}

function typing(el) {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || el.isContentEditable;
}

let helpOpen = null;

function showHelp() {
  if (helpOpen) return;
  const rows = [
    ['/', t('help.search')],
    ['g c', t('help.cases')],
    ['g h', t('help.home')],
    ['?', t('help.help')],
    ['Esc', t('help.escape')],
    ['↑ ↓ Enter', t('help.suggestions')],
  ];
  const graphRows = currentRoute()?.pattern === '/graph' ? h('p', { className: 'hint', text: t('help.graph') }) : null;
  helpOpen = openDialog(
    t('help.title'),
    [h('table', { className: 'data shortcuts' }, h('tbody', {}, rows.map(([k, v]) => h('tr', {}, h('td', {}, k.split(' ').map((x) => h('kbd', { text: x }))), h('td', { text: v }))))), graphRows],
    { onClose: () => (helpOpen = null), testid: 'shortcuts-dialog' },
  );
}

function installShortcuts() {
  let pendingG = 0;
  document.addEventListener('keydown', (ev) => {
    if (ev.defaultPrevented || ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (typing(ev.target) || document.querySelector('dialog[open]')) return;
    if (!getMe()) return;
    if (ev.key === '/') {
      ev.preventDefault();
      focusSearch();
    } else if (ev.key === '?') {
      ev.preventDefault();
      showHelp();
    } else if (ev.key === 'g') {
      pendingG = Date.now();
    } else if (pendingG && Date.now() - pendingG < 1500 && (ev.key === 'c' || ev.key === 'h')) {
      pendingG = 0;
      ev.preventDefault();
      navigate(ev.key === 'c' ? '/cases' : '/');
    } else pendingG = 0;
  });
}
