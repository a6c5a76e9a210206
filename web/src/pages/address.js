// address.js: the address page: totals, tags with their source and
// confidence, the entity the address belongs to, the risk score with its
// factors, and the paginated, sortable history with a CSV export of all of
// it. Pagination and order live in the URL (?offset=, ?newest=1).

import { caseOf } from '../cases/exportdata.js';
import { h, replace } from '../dom.js';
import { get, seg } from '../api.js';
import { t, fmtNumber, tn } from '../i18n.js';
import { setQuery } from '../router.js';
import { openAddToCase } from '../cases/addtocase.js';
import { can } from './session.js';
import {
  pageHeader, section, facts, amount, date, num, badge, blockLink, txLink, link, entityPath, tagsTable, tagChips, table, pager, loading,
  errorBanner, isAbort, fill, exportButtons, btcPlain, safeName, linkButton, button, setTitle, empty,
} from './common.js';

const PAGE = 50;

// addToCaseButton is the "Add to case" button of a page (disabled for
// roles that may not change cases).
export function addToCaseButton(item) {
  const ok = can('write');
  return button(t('common.addToCase'), () => openAddToCase(item), {
    testid: 'add-to-case',
    disabled: !ok,
    title: ok ? undefined : t('common.roleMayNotWrite'),
  });
}

// riskView draws a risk score with its factors and their evidence.
export function riskView(r) {
  const score = r.score ?? 0;
  const level = score >= 70 ? 'danger' : score >= 30 ? 'warn' : 'ok';
  const head = h(
    'div',
    { className: 'risk-head' },
    h('div', { className: ['risk-score', 'risk-' + level], dataset: { testid: 'risk-score' } }, fmtNumber(score, { maximumFractionDigits: 1 })),
    h('div', { className: 'small muted' }, t('risk.explain'), r.index_tip ? [' ', t('risk.atTip', { height: fmtNumber(r.index_tip.height) })] : null),
  );
  const factors = r.factors || [];
  return [
    head,
    factors.length
      ? table(
          [
            {
              label: t('risk.factor'),
              cell: (f) => h('div', {}, h('div', { className: 'factor-name', text: factorName(f.name) }), evidence(f.evidence)),
              sort: (f) => f.name,
            },
            { label: t('risk.weight'), cell: (f) => fmtNumber(f.weight, { maximumFractionDigits: 2 }), sort: (f) => f.weight, num: true },
            { label: t('risk.value'), cell: (f) => fmtNumber(f.value, { maximumFractionDigits: 4 }), sort: (f) => f.value, num: true },
            { label: t('risk.contribution'), cell: (f) => h('strong', { text: fmtNumber(f.contribution, { maximumFractionDigits: 2 }) }), sort: (f) => f.contribution, num: true },
          ],
          factors,
          { testid: 'risk-factors' },
        )
      : empty(t('risk.noFactors')),
  ];
}

// evidence lists a factor's evidence: the first lines, the rest on demand.
function evidence(lines) {
  if (!lines?.length) return null;
  const li = (e) => h('li', { text: e });
  if (lines.length <= 4) return h('ul', { className: 'evidence' }, lines.map(li));
  return h(
    'div',
    {},
    h('ul', { className: 'evidence' }, lines.slice(0, 3).map(li)),
    h('details', { className: 'evidence-more' }, h('summary', { text: t('risk.moreEvidence', { n: fmtNumber(lines.length - 3) }) }), h('ul', { className: 'evidence' }, lines.slice(3).map(li))),
  );
}

function factorName(name) {
  const [kind, what] = String(name).split(':');
  if (kind === 'exposure' && what) return t('risk.exposureTo', { category: what });
  if (kind === 'typology' && what) return t('risk.typology', { typology: what });
  if (name === 'sanctioned') return t('risk.sanctioned');
  return name;
}

// historyTable fetches every page of an address's history: the export's
// table.
async function historyTable(addr, network, newest, progress) {
  const rows = [];
  let offset = 0;
  let total = null;
  for (;;) {
    const a = await get('/address/' + seg(addr), { network, limit: 1000, offset, newest_first: newest ? 'true' : undefined });
    total = a.tx_count;
    for (const x of a.txs || []) rows.push([x.txid, x.height, x.time, x.received, btcPlain(x.received), x.sent, btcPlain(x.sent), x.balance_after, btcPlain(x.balance_after)]);
    offset += (a.txs || []).length;
    progress(offset, total);
    if (!a.txs?.length || offset >= total) break;
  }
  return {
    name: `address-${safeName(addr)}-history`,
    header: ['txid', 'block_height', 'time_utc', 'received_sats', 'received_btc', 'sent_sats', 'sent_btc', 'balance_after_sats', 'balance_after_btc'],
    rows,
  };
}

// entityCard is what the address page says of its entity.
function entityCard(e, network) {
  const others = (e.tags || []).filter((g) => g.origin !== 'direct');
  return [
    facts([
      [t('entity.id'), link(entityPath(e.cluster_id, network), t('entity.name', { id: fmtNumber(e.cluster_id, { useGrouping: false }) }))],
      [t('entity.size'), tn('entity.addresses', e.size)],
      [t('entity.balance'), amount(e.balance)],
      [t('entity.txCount'), num(e.tx_count)],
      [t('entity.categories'), e.categories?.length ? h('span', {}, e.categories.map((c) => badge(c, 'info'))) : h('span', { className: 'muted', text: '—' })],
      e.sanctioned ? [t('tags.sanctioned'), badge(t('common.yes'), 'danger')] : null,
    ]),
    others.length ? h('div', { className: 'sub-block' }, h('h3', { text: t('entity.otherTags') }), tagChips(others)) : null,
    e.conflicts?.length ? h('div', { className: 'banner banner-warn', text: t('entity.conflicts', { n: fmtNumber(e.conflicts.length) }) }) : null,
  ];
}

// seen is a time with its block below it.
function seen(time, height, net) {
  return h('span', {}, date(time), h('div', { className: 'small' }, blockLink(height, net, t('address.block', { height: fmtNumber(height) }))));
}

// addressPage draws /address/{addr}.
export async function addressPage(view, ctx) {
  const addr = ctx.params.addr;
  const network = ctx.query.get('network') || undefined;
  let offset = Math.max(0, parseInt(ctx.query.get('offset') || '0', 10) || 0);
  let newest = ctx.query.get('newest') === '1';
  let sort = null;
  setTitle(addr, t('kind.address'));
  const signal = ctx.signal;

  const header = pageHeader({
    kind: t('kind.address'),
    title: addr,
    mono: true,
    actions: [
      linkButton(t('common.openGraph'), '/graph?address=' + encodeURIComponent(addr) + (network ? '&network=' + encodeURIComponent(network) : ''), { testid: 'open-graph' }),
      addToCaseButton({ kind: 'address', ref: addr, network, label: '' }),
    ],
  });
  view.append(header);
  const status = h('div', {}, loading());
  view.append(status);

  const first = get('/address/' + seg(addr), { network, limit: PAGE, offset, newest_first: newest ? 'true' : undefined }, { signal });
  let a;
  try {
    a = await first;
  } catch (e) {
    if (isAbort(e)) return;
    header.querySelector('.page-actions')?.remove();
    replace(status, errorBanner(e));
    return;
  }
  const net = a.ledger?.network;
  const sub = header.querySelector('.page-title');
  sub.append(h('div', { className: 'page-sub' }, badge(`${a.ledger?.chain ?? 'btc'} ${net ?? ''}`, 'info'), ' ', badge(a.script_type || '', 'plain')));
  status.remove();

  const summary = section(t('address.summary'));
  summary.body.append(
    facts([
      [t('address.balance'), amount(a.balance, 'big')],
      [t('address.received'), amount(a.total_received)],
      [t('address.sent'), amount(a.total_sent)],
      [t('address.txCount'), num(a.tx_count)],
      [t('address.unspent'), num(a.unspent_count)],
      [t('address.firstSeen'), a.tx_count ? seen(a.first_seen, a.first_seen_height, net) : '—'],
      [t('address.lastSeen'), a.tx_count ? seen(a.last_seen, a.last_seen_height, net) : '—'],
    ]),
  );
  const risk = section(t('risk.title'));
  const tags = section(t('tags.title'));
  const ent = section(t('entity.title'));
  view.append(h('div', { className: 'grid-2' }, summary, risk), h('div', { className: 'grid-2 grid-wide-left' }, tags, ent));

  fill(tags.body, get('/tags/' + seg(addr), { network }, { signal }), (list) => tagsTable(list, { origin: true, address: (list || []).some((g) => g.address && g.address !== addr), network: net, testid: 'tags-table' }));
  fill(ent.body, get('/cluster/' + seg(addr), { network, limit: 1 }, { signal }), (e) => entityCard(e, net));
  fill(risk.body, get('/risk/' + seg(addr), { network }, { signal }), riskView);

  // History: the page of the first answer, then pages on demand.
  const hist = section(t('address.history'), {
    testid: 'history-section',
    extra: [
      h('label', { className: 'check' }, h('input', { type: 'checkbox', checked: newest, dataset: { testid: 'newest-first' }, on: { change: (ev) => { newest = ev.target.checked; offset = 0; load(); } } }), t('address.newestFirst')),
      exportButtons((progress) => historyTable(addr, network, newest, progress), { caseId: caseOf(ctx.query) }),
    ],
  });
  view.append(hist);
  let busy = false;

  function drawHistory(page) {
    const cols = [
      { label: t('address.time'), cell: (x) => date(x.time), sort: (x) => x.time },
      { label: t('address.height'), cell: (x) => blockLink(x.height, net), sort: (x) => x.height, num: true },
      { label: t('address.txid'), cell: (x) => txLink(x.txid, network), sort: (x) => x.txid, className: 'col-hash' },
      { label: t('address.receivedCol'), cell: (x) => (x.received ? amount(x.received, 'in') : ''), sort: (x) => x.received, num: true },
      { label: t('address.sentCol'), cell: (x) => (x.sent ? amount(x.sent, 'out') : ''), sort: (x) => x.sent, num: true },
      { label: t('address.balanceAfter'), cell: (x) => amount(x.balance_after), sort: (x) => x.balance_after, num: true },
    ];
    replace(
      hist.body,
      table(cols, page.txs || [], { testid: 'history-table', sort, onSort: (s) => (sort = s), empty: t('address.noHistory') }),
      pager({ offset, limit: PAGE, total: page.tx_count, busy, testid: 'history', onChange: (o) => { offset = o; load(); } }),
    );
  }

  // Each load supersedes the one before: its request is aborted and a
  // late answer of it never draws over a newer one.
  let loadCtrl = null;
  async function load() {
    loadCtrl?.abort();
    const ctrl = new AbortController();
    loadCtrl = ctrl;
    signal.addEventListener('abort', () => ctrl.abort(), { once: true });
    busy = true;
    setQuery({ offset: offset || null, newest: newest ? '1' : null });
    hist.body.classList.add('busy');
    try {
      const page = await get('/address/' + seg(addr), { network, limit: PAGE, offset, newest_first: newest ? 'true' : undefined }, { signal: ctrl.signal });
      if (ctrl !== loadCtrl) return;
      busy = false;
      drawHistory(page);
    } catch (e) {
      if (ctrl !== loadCtrl || isAbort(e)) return;
      busy = false;
      replace(hist.body, errorBanner(e));
    } finally {
      if (ctrl === loadCtrl) hist.body.classList.remove('busy');
    }
  }
  drawHistory(a);
}
