// search.js: the one search box of the top bar (suggestions as you type,
// arrow keys and Enter) and the /search page listing every result. A query
// may be an address, a txid, a block height or hash, a tag label, an
// entity id or a case number; the server's GET /search decides.

import { h, replace, clear } from '../dom.js';
import { get } from '../api.js';
import { t, fmtNumber } from '../i18n.js';
import { navigate } from '../router.js';
import { addressPath, txPath, blockPath, entityPath, casePath, kindName, badge, loading, errorBanner, isAbort, empty, pageHeader, setTitle, table, link } from './common.js';

// resultPath is the page of one search result.
export function resultPath(r) {
  switch (r.kind) {
    case 'address':
      return addressPath(r.ref, r.network);
    case 'tag':
      return r.target === 'tx' ? txPath(r.ref, r.network) : addressPath(r.ref, r.network);
    case 'tx':
      return txPath(r.ref, r.network);
    case 'block':
      return blockPath(r.ref, r.network);
    case 'entity':
      return entityPath(String(r.ref).replace(/^entity:/, ''), r.network);
    case 'case':
      return casePath(r.ref);
  }
  return '/search?q=' + encodeURIComponent(r.ref);
}

// guess is the page a query plainly names when the server cannot search:
// a txid or block hash (64 hex digits: the tx page, which says not found
// if it is a block), a height, an entity:ID, or an address.
function guess(q) {
  const s = q.trim();
  if (/^0x[0-9a-fA-F]{64}$/.test(s)) return [{ kind: 'tx', ref: s.toLowerCase(), label: s.toLowerCase(), detail: '' }];
  if (/^0x[0-9a-fA-F]{40}$/.test(s)) return [{ kind: 'address', ref: s, label: s, detail: '' }];
  if (/^[0-9a-fA-F]{64}$/.test(s)) return [{ kind: 'tx', ref: s.toLowerCase(), label: s.toLowerCase(), detail: '' }];
  if (/^\d{1,9}$/.test(s)) return [{ kind: 'block', ref: s, label: s, detail: '' }];
  const ent = /^entity:(\d+)$/i.exec(s);
  if (ent) return [{ kind: 'entity', ref: ent[1], label: s, detail: '' }];
  if (/^[a-zA-Z0-9]{25,90}$/.test(s)) return [{ kind: 'address', ref: s, label: s, detail: '' }];
  return [];
}

// search asks the server for up to limit results of q.
export async function search(q, limit, signal) {
  try {
    const res = await get('/search', { q, limit }, { signal });
    return res?.results || [];
  } catch (e) {
    if (isAbort(e) || e.status === 401) throw e;
    // The server could not search (e.g. an older server without the
    // route): fall back on what the query plainly is.
    if (e.status === 404 || e.status === 405) return guess(q);
    throw e;
  }
}

// detailOf is what a result says beside its name: a tag's category and
// source, a case's title, an entity's size.
export function detailOf(r) {
  if (r.detail) return r.detail;
  if (r.kind === 'entity' && r.size) return t('search.entitySize', { n: fmtNumber(r.size) });
  return '';
}

function resultRow(r) {
  const detail = detailOf(r);
  return [badge(kindName(r.kind), 'kind-' + r.kind), h('span', { className: 'sugg-label', text: r.label || r.ref }), detail ? h('span', { className: 'sugg-detail', text: detail }) : null];
}

// searchBox makes the top bar's search input with its suggestion list.
export function searchBox() {
  let ctrl = null;
  let timer = 0;
  let results = [];
  let forQuery = '';
  let active = -1;
  const listId = 'search-suggestions';
  const input = h('input', {
    type: 'search',
    className: 'search-input',
    placeholder: t('search.placeholder'),
    autocomplete: 'off',
    spellcheck: false,
    dataset: { testid: 'search-input' },
    attrs: { role: 'combobox', 'aria-expanded': 'false', 'aria-controls': listId, 'aria-autocomplete': 'list', 'aria-label': t('search.label') },
  });
  const list = h('ul', { className: 'suggestions', id: listId, hidden: true, attrs: { role: 'listbox' } });
  const box = h('form', { className: 'search', attrs: { role: 'search' } }, input, list);

  function hide() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    active = -1;
  }
  function show() {
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
  }
  function mark() {
    [...list.children].forEach((li, i) => {
      li.classList.toggle('active', i === active);
      li.setAttribute('aria-selected', i === active ? 'true' : 'false');
    });
    if (active >= 0) {
      input.setAttribute('aria-activedescendant', list.children[active]?.id || '');
      list.children[active]?.scrollIntoView({ block: 'nearest' });
    } else input.removeAttribute('aria-activedescendant');
  }
  function go(path) {
    hide();
    input.value = '';
    results = [];
    forQuery = '';
    input.blur();
    navigate(path);
  }
  function draw(state) {
    clear(list);
    if (state === 'loading') list.append(h('li', { className: 'sugg-note', text: t('common.loading') }));
    else if (state instanceof Error) list.append(h('li', { className: 'sugg-note error', text: t('search.failed') }));
    else if (!results.length) list.append(h('li', { className: 'sugg-note', text: t('search.noResults') }));
    else
      results.forEach((r, i) =>
        list.append(
          h(
            'li',
            {
              id: 'sugg-' + i,
              className: 'suggestion',
              dataset: { testid: 'search-suggestion', kind: r.kind },
              attrs: { role: 'option', 'aria-selected': 'false' },
              on: {
                mousedown: (ev) => ev.preventDefault(),
                click: () => go(resultPath(r)),
                mousemove: () => {
                  if (active !== i) {
                    active = i;
                    mark();
                  }
                },
              },
            },
            resultRow(r),
          ),
        ),
      );
    if (!state && results.length)
      list.append(
          h('li', { className: 'sugg-all', on: { mousedown: (ev) => ev.preventDefault(), click: () => go('/search?q=' + encodeURIComponent(forQuery)) } }, t('search.all', { q: forQuery })),
        );
    show();
    mark();
  }
  async function lookup(q) {
    ctrl?.abort();
    ctrl = new AbortController();
    const signal = ctrl.signal;
    try {
      const rs = await search(q, 8, signal);
      if (signal.aborted) return;
      results = rs;
      forQuery = q;
      active = -1;
      if (document.activeElement === input) draw();
    } catch (e) {
      if (isAbort(e) || signal.aborted) return;
      results = [];
      forQuery = q;
      if (document.activeElement === input) draw(e);
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (!q) {
      ctrl?.abort();
      results = [];
      forQuery = '';
      hide();
      return;
    }
    timer = setTimeout(() => lookup(q), 180);
  });
  input.addEventListener('keydown', (ev) => {
    const n = list.hidden ? 0 : results.length;
    if (ev.key === 'ArrowDown') {
      ev.preventDefault();
      if (list.hidden && results.length && forQuery === input.value.trim()) {
        show();
        draw();
      }
      if (results.length) {
        active = (active + 1) % results.length;
        mark();
      }
    } else if (ev.key === 'ArrowUp') {
      ev.preventDefault();
      if (n) {
        active = active <= 0 ? n - 1 : active - 1;
        mark();
      }
    } else if (ev.key === 'Escape') {
      if (!list.hidden) {
        ev.preventDefault();
        hide();
      } else input.blur();
    }
  });
  box.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const q = input.value.trim();
    if (!q) return;
    clearTimeout(timer);
    if (active >= 0 && results[active] && forQuery === q) return go(resultPath(results[active]));
    if (forQuery === q && results.length === 1) return go(resultPath(results[0]));
    if (forQuery === q && results.length > 1) return go('/search?q=' + encodeURIComponent(q));
    if (forQuery !== q) {
      // Enter before the suggestions arrived: ask now.
      ctrl?.abort();
      ctrl = new AbortController();
      try {
        const rs = await search(q, 8, ctrl.signal);
        if (rs.length) return go(resultPath(rs[0]));
      } catch (e) {
        if (isAbort(e)) return;
      }
    }
    go('/search?q=' + encodeURIComponent(q));
  });
  input.addEventListener('blur', () => setTimeout(hide, 120));
  input.addEventListener('focus', () => {
    if (results.length && forQuery === input.value.trim()) draw();
  });
  box.input = input;
  return box;
}

// searchPage lists every result of ?q= (GET /search, up to 50).
export async function searchPage(view, ctx) {
  const q = (ctx.query.get('q') || '').trim();
  setTitle(q ? t('search.titleFor', { q }) : t('search.title'));
  view.append(pageHeader({ kind: t('search.title'), title: q ? t('search.resultsFor', { q }) : t('search.title') }));
  const body = h('div', { className: 'section' });
  view.append(body);
  if (!q) {
    replace(body, h('p', { className: 'hint', text: t('search.hint') }));
    return;
  }
  replace(body, loading());
  try {
    const rs = await search(q, 50, ctx.signal);
    if (!rs.length) {
      replace(body, empty(t('search.nothing', { q })), h('p', { className: 'hint', text: t('search.hint') }));
      return;
    }
    replace(
      body,
      table(
        [
          { label: t('search.kind'), cell: (r) => badge(kindName(r.kind), 'kind-' + r.kind), sort: (r) => r.kind },
          { label: t('search.result'), cell: (r) => link(resultPath(r), r.label || r.ref, r.kind !== 'tag' && r.kind !== 'case'), sort: (r) => r.label || r.ref },
          { label: t('search.detail'), cell: (r) => detailOf(r), sort: (r) => detailOf(r) },
          { label: t('search.network'), cell: (r) => r.network || '', sort: (r) => r.network },
        ],
        rs,
        { testid: 'search-results', pageSize: 50 },
      ),
    );
  } catch (e) {
    if (isAbort(e)) return;
    replace(body, errorBanner(e));
  }
}
