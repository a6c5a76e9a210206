// common.js: the building blocks the pages share: headings, fact lists,
// sortable and paginated tables, tag tables, links to other pages, loading
// and error states, table export (CSV, and XLSX recorded in a case) and
// dialogs. Everything is built with h():
// no HTML strings, so labels from tag files render as plain text.

import { h, replace, download, toCSV } from '../dom.js';
import { ApiError } from '../api.js';
import { recordExport, recordedLine } from '../cases/exports.js';
import { tableExport } from '../cases/exportdata.js';
import { t, fmtAmount, fmtDate, fmtNumber, tn } from '../i18n.js';

// ---- links ------------------------------------------------------------------

// An EVM chain's pages carry its chain id (?chain=N); the search names
// EVM chains "evm-N".
function q(network) {
  const evm = /^evm-(\d{1,19})$/.exec(network || '');
  if (evm) return '?chain=' + evm[1];
  return network ? '?network=' + encodeURIComponent(network) : '';
}

// addressPath, txPath, blockPath, entityPath, casePath: the workspace's URLs.
export const addressPath = (a, network) => '/address/' + encodeURIComponent(a) + q(network);
export const txPath = (txid, network) => '/tx/' + encodeURIComponent(txid) + q(network);
export const blockPath = (b, network) => '/block/' + encodeURIComponent(String(b)) + q(network);
export const entityPath = (id, network) => '/entity/' + encodeURIComponent(String(id)) + q(network);
export const casePath = (id) => '/cases/' + encodeURIComponent(String(id));

// link is an <a> to a workspace path with text (monospace when mono).
export function link(path, text, mono = false) {
  return h('a', { href: path, className: mono ? 'mono' : undefined, text });
}

// addrLink, txLink, blockLink: links to an address, a transaction, a block.
export const addrLink = (a, network) => (a ? link(addressPath(a, network), a, true) : h('span', { className: 'muted', text: '—' }));
export const txLink = (txid, network, text) => link(txPath(txid, network), text ?? txid, true);
export const blockLink = (b, network, text) => link(blockPath(b, network), text ?? fmtNumber(b));

// ---- values -----------------------------------------------------------------

// amount shows satoshis as BTC for the locale, with the exact satoshis as
// its tooltip.
export function amount(sats, cls) {
  if (sats === null || sats === undefined) return h('span', { className: 'muted', text: '—' });
  return h('span', { className: ['amount', cls], text: fmtAmount(sats), title: tn('common.sats', sats) });
}

// btcPlain is satoshis as an exact decimal BTC string with a dot (for CSV).
export function btcPlain(sats) {
  let v = BigInt(sats ?? 0);
  const neg = v < 0n;
  if (neg) v = -v;
  const s = (v / 100000000n).toString() + '.' + (v % 100000000n).toString().padStart(8, '0');
  return neg ? '-' + s : s;
}

// date shows an RFC 3339 time for the locale (UTC), or a dash.
export function date(v) {
  const s = fmtDate(v);
  return s ? h('span', { className: 'date', text: s, title: v }) : h('span', { className: 'muted', text: '—' });
}

// num shows an integer for the locale.
export const num = (n) => h('span', { className: 'num', text: fmtNumber(n ?? 0) });

// badge is a small label; kind picks its colour (ok, warn, danger, info).
export function badge(text, kind) {
  return h('span', { className: ['badge', kind && 'badge-' + kind], text });
}

// yesNo is "yes" or "no" in the locale.
export const yesNo = (b) => (b ? t('common.yes') : t('common.no'));

// kindName names an object kind (address, tx, block, entity, tag, case).
export function kindName(kind) {
  switch (kind) {
    case 'address':
      return t('kind.address');
    case 'tx':
      return t('kind.tx');
    case 'block':
      return t('kind.block');
    case 'entity':
      return t('kind.entity');
    case 'tag':
      return t('kind.tag');
    case 'case':
      return t('kind.case');
  }
  return kind;
}

// ---- layout -----------------------------------------------------------------

// pageHeader is a page's title block: a kind label, the title (monospace
// for hashes and addresses), a sub-line and action buttons.
export function pageHeader({ kind, title, mono = false, sub, actions }) {
  return h(
    'header',
    { className: 'page-header' },
    h(
      'div',
      { className: 'page-title' },
      kind ? h('div', { className: 'page-kind', text: kind }) : null,
      h('h1', { className: mono ? 'mono' : undefined, text: title }),
      sub ? h('div', { className: 'page-sub' }, sub) : null,
    ),
    actions?.length ? h('div', { className: 'page-actions' }, actions) : null,
  );
}

// section is a titled part of a page; its body is returned as .body for
// content that arrives later.
export function section(title, { id, extra, testid } = {}) {
  const body = h('div', { className: 'section-body' });
  const el = h(
    'section',
    { className: 'section', id, dataset: testid ? { testid } : undefined },
    h('div', { className: 'section-head' }, h('h2', { text: title }), extra ? h('div', { className: 'section-extra' }, extra) : null),
    body,
  );
  el.body = body;
  return el;
}

// facts is a grid of label/value pairs ([label, value, 'wide'] takes a
// whole row: hashes); null pairs and values are left out.
export function facts(pairs) {
  return h(
    'dl',
    { className: 'facts' },
    pairs
      .filter((p) => p && p[1] !== null && p[1] !== undefined)
      .map(([k, v, wide]) => h('div', { className: ['fact', wide && 'fact-wide'] }, h('dt', { text: k }), h('dd', {}, v))),
  );
}

// button makes a button; opts.testid, opts.kind ("primary", "danger"),
// opts.title, opts.disabled.
export function button(label, onClick, opts = {}) {
  return h('button', {
    type: opts.type || 'button',
    className: ['btn', opts.kind && 'btn-' + opts.kind, opts.className],
    text: label,
    title: opts.title,
    disabled: opts.disabled,
    dataset: opts.testid ? { testid: opts.testid } : undefined,
    on: onClick ? { click: onClick } : undefined,
  });
}

// linkButton is a link that looks like a button.
export function linkButton(label, path, opts = {}) {
  return h('a', { href: path, className: ['btn', opts.kind && 'btn-' + opts.kind], text: label, dataset: opts.testid ? { testid: opts.testid } : undefined });
}

// ---- states -----------------------------------------------------------------

// loading is the placeholder of content on its way.
export function loading(text) {
  return h('div', { className: 'loading', attrs: { role: 'status' } }, h('span', { className: 'spinner', attrs: { 'aria-hidden': 'true' } }), text || t('common.loading'));
}

// empty is the calm line shown for an empty list.
export function empty(text) {
  return h('p', { className: 'empty', text });
}

// errorText explains a failed request in the user's language.
export function errorText(err) {
  if (err instanceof ApiError) {
    switch (err.status) {
      case 0:
        return t('error.network');
      case 400:
        return t('error.badRequest', { message: err.message });
      case 403:
        return t('error.forbidden');
      case 404:
        return t('error.notFound');
      case 409:
        return t('error.conflict', { message: err.message });
      case 429:
        return t('error.tooMany');
      case 503:
        return t('error.unavailable', { message: err.message });
    }
    if (err.status >= 500) return t('error.server', { message: err.message });
    return err.message;
  }
  return t('error.unexpected', { message: String(err?.message ?? err) });
}

// errorBanner is the banner of a failure (aborted requests draw nothing).
export function errorBanner(err) {
  const detail = err instanceof ApiError && err.status === 404 && err.message ? err.message : null;
  return h(
    'div',
    { className: 'banner banner-error', attrs: { role: 'alert' }, dataset: { testid: 'error-banner' } },
    h('strong', { text: errorText(err) }),
    detail ? h('div', { className: 'banner-detail', text: detail }) : null,
  );
}

// notice is a calm information banner.
export function notice(text) {
  return h('div', { className: 'banner banner-info', text });
}

// isAbort tells an aborted request (the user went elsewhere).
export const isAbort = (e) => e?.name === 'AbortError';

// fill loads promise into el: a loading state, then draw(result), or an
// error banner. Aborted loads leave el as it is.
export async function fill(el, promise, draw) {
  replace(el, loading());
  try {
    const v = await promise;
    replace(el, draw(v));
  } catch (e) {
    if (isAbort(e)) return;
    replace(el, errorBanner(e));
  }
}

// ---- tables -----------------------------------------------------------------

function compare(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined || a === '') return 1;
  if (b === null || b === undefined || b === '') return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

// table draws rows under columns: {label, cell(row) → node|string,
// sort(row) → comparable (makes the column sortable), num (right-aligned),
// className}. opts.pageSize paginates the rows in the browser; opts.testid
// names the <table>; opts.empty is the text of an empty list; opts.sort
// {col, dir} and opts.onSort(sort) keep the order across redraws.
export function table(columns, rows, opts = {}) {
  const wrap = h('div', { className: 'table-wrap' });
  let sort = opts.sort || null;
  let page = 0;
  const pageSize = opts.pageSize || 0;

  function draw() {
    let list = rows;
    if (sort && columns[sort.col]?.sort) {
      const key = columns[sort.col].sort;
      list = rows
        .map((r, i) => [key(r), i, r])
        .sort((x, y) => compare(x[0], y[0]) * (sort.dir === 'desc' ? -1 : 1) || x[1] - y[1])
        .map((x) => x[2]);
    }
    const total = list.length;
    if (pageSize) list = list.slice(page * pageSize, (page + 1) * pageSize);
    const head = h(
      'tr',
      {},
      columns.map((c, i) => {
        const active = sort?.col === i;
        const attrs = { scope: 'col' };
        if (c.sort) attrs['aria-sort'] = active ? (sort.dir === 'asc' ? 'ascending' : 'descending') : 'none';
        return h(
          'th',
          { className: [c.num && 'num', c.className], attrs },
          c.sort
            ? h(
                'button',
                {
                  type: 'button',
                  className: ['th-sort', active && 'active'],
                  title: t('table.sortBy', { column: c.label }),
                  on: {
                    click: () => {
                      sort = active ? { col: i, dir: sort.dir === 'asc' ? 'desc' : 'asc' } : { col: i, dir: c.num ? 'desc' : 'asc' };
                      opts.onSort?.(sort);
                      draw();
                    },
                  },
                },
                c.label,
                h('span', { className: 'sort-mark', attrs: { 'aria-hidden': 'true' }, text: active ? (sort.dir === 'asc' ? '▲' : '▼') : '↕' }),
              )
            : c.label,
        );
      }),
    );
    const body = list.length
      ? list.map((r) => h('tr', { className: opts.rowClass?.(r) }, columns.map((c) => h('td', { className: [c.num && 'num', c.className] }, c.cell(r)))))
      : h('tr', {}, h('td', { className: 'empty-cell', attrs: { colspan: columns.length }, text: opts.empty || t('common.none') }));
    const tbl = h(
      'table',
      { className: ['data', opts.className], dataset: opts.testid ? { testid: opts.testid } : undefined },
      opts.caption ? h('caption', { className: 'sr-only', text: opts.caption }) : null,
      h('thead', {}, head),
      h('tbody', {}, body),
    );
    replace(wrap, tbl);
    if (pageSize && total > pageSize) {
      wrap.append(
        pager({
          offset: page * pageSize,
          limit: pageSize,
          total,
          onChange: (off) => {
            page = Math.floor(off / pageSize);
            draw();
          },
        }),
      );
    }
  }
  draw();
  return wrap;
}

// pager is the "1–50 of 310 · previous · next" line of a paginated list.
// total may be unknown (null): then hasMore says whether next is possible.
export function pager({ offset, limit, total, hasMore, onChange, busy, testid = 'page' }) {
  const shown = total === null || total === undefined ? null : Math.min(offset + limit, total);
  const text =
    total === null || total === undefined
      ? t('table.rangeOpen', { from: fmtNumber(offset + 1), to: fmtNumber(offset + limit) })
      : total === 0
        ? t('table.noRows')
        : t('table.range', { from: fmtNumber(offset + 1), to: fmtNumber(shown), total: fmtNumber(total) });
  const canNext = total === null || total === undefined ? Boolean(hasMore) : offset + limit < total;
  return h(
    'div',
    { className: 'pager' },
    h('span', { className: 'pager-text', text }),
    button(t('table.prev'), () => onChange(Math.max(0, offset - limit)), { disabled: busy || offset <= 0, testid: testid + '-prev' }),
    button(t('table.next'), () => onChange(offset + limit), { disabled: busy || !canNext, testid: testid + '-next' }),
  );
}

// ---- tags -------------------------------------------------------------------

// confidence shows a tag's confidence: its taxonomy name and 0..100 value.
export function confidence(tag) {
  const v = tag.confidence ?? 0;
  const kind = v >= 80 ? 'ok' : v >= 50 ? 'info' : 'warn';
  return h('span', { className: 'confidence' }, badge(fmtNumber(v), kind), ' ', h('span', { text: tag.confidence_name || '' }));
}

// categoryOf is what a tag says the holder is or did.
export function categoryOf(tag) {
  return [tag.category, tag.abuse].filter(Boolean).join(' / ');
}

// tagsTable lists attribution tags with their source and confidence.
// opts.address adds the tagged address; opts.origin adds direct/cluster
// (opts.originCell draws it instead); opts.first is a column put first;
// opts.empty is the text of no tags.
export function tagsTable(tags, opts = {}) {
  const cols = [
    {
      label: t('tags.label'),
      cell: (g) => h('span', {}, h('span', { className: 'tag-label', text: g.label }), g.sanctioned ? [' ', badge(t('tags.sanctioned'), 'danger')] : null),
      sort: (g) => g.label,
    },
    { label: t('tags.category'), cell: (g) => categoryOf(g) || '—', sort: (g) => categoryOf(g) },
    { label: t('tags.source'), cell: (g) => g.source || '—', sort: (g) => g.source },
    { label: t('tags.confidence'), cell: confidence, sort: (g) => g.confidence, num: true },
  ];
  if (opts.origin) cols.push({ label: t('tags.origin'), cell: opts.originCell || ((g) => (g.origin === 'direct' ? t('tags.direct') : t('tags.cluster'))), sort: (g) => g.origin });
  if (opts.address) cols.splice(1, 0, { label: t('tags.address'), cell: (g) => addrLink(g.address, opts.network), sort: (g) => g.address });
  if (opts.first) cols.unshift(opts.first);
  cols.push({
    label: t('tags.pack'),
    cell: (g) => h('span', { className: 'small', title: g.pack_sha256 ? 'SHA-256 ' + g.pack_sha256 : undefined, text: g.pack ? (g.line ? `${g.pack}:${g.line}` : g.pack) : '—' }),
    sort: (g) => g.pack,
  });
  return table(cols, tags || [], { empty: opts.empty || t('tags.none'), testid: opts.testid, pageSize: 25 });
}

// tagChips shows tag labels compactly (beside an address).
export function tagChips(tags) {
  if (!tags?.length) return null;
  return h(
    'span',
    { className: 'chips' },
    tags.map((g) =>
      h('span', {
        className: ['chip', g.sanctioned && 'chip-danger', g.origin === 'cluster' && 'chip-cluster'],
        title: [g.origin === 'cluster' ? t('tags.cluster') : '', categoryOf(g), g.source].filter(Boolean).join(' · '),
        text: g.label,
      }),
    ),
  );
}

// ---- CSV and dialogs ----------------------------------------------------------

// saveCSV offers rows under header as a CSV file called name.
export function saveCSV(name, header, rows) {
  download(new Blob([toCSV(header, rows)], { type: 'text/csv;charset=utf-8' }), name);
}

// safeName makes a string fit for a file name.
export function safeName(s) {
  return String(s).replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
}

// exportButtons are the export buttons of a table. collect(progress)
// gathers the whole table (it may fetch every page first, reporting
// progress(done, total)) and returns {name, header, rows}, name without
// an extension. "CSV" writes the file in the browser: nothing is recorded.
// In a case context (caseId, the page's ?case=) "CSV (recorded)" and "XLSX
// (recorded)" ask the server for the file, which keeps it as an exhibit of
// the case (hashed, time-stamped, audited), download it and show its
// SHA-256.
export function exportButtons(collect, { caseId } = {}) {
  const status = h('span', { className: 'btn-status', attrs: { role: 'status' } });
  const buttons = [];
  const run = (fn) => async () => {
    for (const b of buttons) b.disabled = true;
    status.textContent = t('common.exporting');
    try {
      const tbl = await collect((done, total) => {
        status.textContent = total ? t('common.exportingProgress', { done: fmtNumber(done), total: fmtNumber(total) }) : t('common.exporting');
      });
      const shown = await fn(tbl);
      replace(status, shown || null);
    } catch (e) {
      status.textContent = isAbort(e) ? '' : errorText(e);
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };
  buttons.push(
    button(t('common.exportCsv'), run((tbl) => saveCSV(tbl.name + '.csv', tbl.header, tbl.rows)), {
      testid: 'export-csv',
      title: caseId ? t('export.csvInBrowser') : t('export.csvNoCase'),
    }),
  );
  if (caseId) {
    buttons.push(
      button(t('export.csvRecorded'), run(async (tbl) => recordedLine(await recordExport(caseId, tableExport('csv', tbl.name, tbl.header, tbl.rows)))), {
        testid: 'export-csv-recorded',
        title: t('export.csvRecordedTitle', { id: caseId }),
      }),
      button(t('export.xlsxRecorded'), run(async (tbl) => recordedLine(await recordExport(caseId, tableExport('xlsx', tbl.name, tbl.header, tbl.rows)))), {
        testid: 'export-xlsx',
        title: t('export.xlsxTitle', { id: caseId }),
      }),
    );
  }
  return h('span', { className: 'btn-with-status' }, buttons, status);
}

// openDialog shows a modal <dialog> titled title with body nodes and
// returns {dialog, close}. Escape and the close button close it; onClose
// runs after.
export function openDialog(title, body, { onClose, testid, wide } = {}) {
  const close = () => dlg.close();
  const dlg = h(
    'dialog',
    { className: ['dialog', wide && 'dialog-wide'], dataset: testid ? { testid } : undefined, attrs: { 'aria-label': title } },
    h('div', { className: 'dialog-head' }, h('h2', { text: title }), h('button', { type: 'button', className: 'btn btn-icon', title: t('common.close'), attrs: { 'aria-label': t('common.close') }, text: '×', on: { click: close } })),
    h('div', { className: 'dialog-body' }, body),
  );
  dlg.addEventListener('close', () => {
    dlg.remove();
    onClose?.();
  });
  document.body.append(dlg);
  dlg.showModal();
  return { dialog: dlg, close };
}

// pretty shows JSON indented, cut at max characters.
export function pretty(v, max = 20000) {
  let s;
  try {
    s = JSON.stringify(v, null, 2);
  } catch {
    s = String(v);
  }
  if (s && s.length > max) s = s.slice(0, max) + '\n… ' + t('common.truncated', { n: fmtNumber(s.length) });
  return h('pre', { className: 'json', text: s ?? '' });
}

// setTitle names the browser tab.
export function setTitle(...parts) {
  document.title = [...parts.filter(Boolean), 'Vestigo'].join(' · ');
}

