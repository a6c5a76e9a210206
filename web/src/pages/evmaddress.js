// evmaddress.js: the page of a 0x address on an EVM chain: what it is
// (account or contract, its creator), its holdings per asset, its tags,
// a sanctions banner, and its ledger (every entry of every asset, or of
// one, with the balance after it) paged, with a CSV export of all of it.
// Amounts are the API's exact decimal strings. Paging, order and the asset
// filter live in the URL (?offset=, ?newest=1, ?asset=ID).

import { caseOf } from '../cases/exportdata.js';
import { h, replace } from '../dom.js';
import { get, seg } from '../api.js';
import { t, fmtNumber } from '../i18n.js';
import { setQuery } from '../router.js';
import { pageHeader, section, facts, date, num, badge, tagsTable, table, pager, loading, errorBanner, isAbort, exportButtons, safeName, linkButton, setTitle, notice } from './common.js';
import { addToCaseButton } from './address.js';
import { chainParam, networkOf, evmAddrLink, evmTxLink, shortHex, units, assetName, assetCell } from './evm.js';

const PAGE = 50;

// moveKind names a ledger entry's kind.
export function moveKind(kind) {
  const key = 'evm.kind.' + kind;
  const s = t(key);
  return s === key ? kind : s;
}

// positionCell shows where an entry is: its block and time.
function positionCell(p) {
  if (!p) return '—';
  return h('span', {}, date(p.time), h('div', { className: 'small', text: t('address.block', { height: fmtNumber(p.height) }) }));
}

// ledgerTable fetches every page of the ledger (with the page's asset
// filter): the export's table; amounts are the exact strings of the API.
async function ledgerTable(addr, chain, asset, newest, progress) {
  const rows = [];
  let offset = 0;
  for (;;) {
    const a = await get('/address/' + seg(addr), { chain_id: chain, asset, limit: 1000, offset, newest_first: newest ? 'true' : undefined });
    const lines = a.ledger || [];
    for (const x of lines) {
      rows.push([x.height, x.time, x.tx || x.slot, x.kind, x.direction, x.counterparty || '', x.asset?.symbol || '', x.asset?.contract || '', x.amount, x.amount_units, x.balance_after, x.balance_after_units]);
    }
    offset += lines.length;
    progress(offset, a.total_lines);
    if (!lines.length || offset >= a.total_lines) break;
  }
  return {
    name: `address-${safeName(addr)}-ledger`,
    header: ['block_height', 'time_utc', 'tx', 'kind', 'direction', 'counterparty', 'asset', 'asset_contract', 'amount_base_units', 'amount', 'balance_after_base_units', 'balance_after'],
    rows,
  };
}

// evmAddressPage draws /address/0x… (?chain=N chooses among EVM chains).
export async function evmAddressPage(view, ctx) {
  const addr = ctx.params.addr;
  let chain = chainParam(ctx.query);
  let offset = Math.max(0, parseInt(ctx.query.get('offset') || '0', 10) || 0);
  let newest = ctx.query.get('newest') === '1';
  let asset = /^\d{1,10}$/.test(ctx.query.get('asset') || '') ? ctx.query.get('asset') : '';
  const signal = ctx.signal;
  setTitle(addr, t('kind.address'));

  const status = h('div', {}, loading());
  view.append(status);
  let a;
  try {
    a = await get('/address/' + seg(addr), { chain_id: chain, asset: asset || undefined, limit: PAGE, offset, newest_first: newest ? 'true' : undefined }, { signal });
  } catch (e) {
    if (isAbort(e)) return;
    view.prepend(pageHeader({ kind: t('kind.address'), title: addr, mono: true }));
    replace(status, errorBanner(e));
    return;
  }
  chain = String(a.chain_id);
  const network = networkOf(chain);
  status.remove();
  setTitle(a.address, t('kind.address'));

  view.append(
    pageHeader({
      kind: a.contract ? t('evm.contract') : t('evm.account'),
      title: a.address,
      mono: true,
      sub: [badge(t('evm.chain', { name: a.chain, id: chain }), 'info'), ' ', badge(a.contract ? t('evm.contract') : t('evm.account'), 'plain')],
      actions: [
        linkButton(t('common.openGraph'), '/graph?address=' + encodeURIComponent(a.address) + '&network=' + encodeURIComponent(network), { testid: 'open-graph' }),
        addToCaseButton({ kind: 'address', ref: a.address, network: chain, label: '' }),
      ],
    }),
  );
  if (a.sanctioned) view.append(h('div', { className: 'banner banner-error', attrs: { role: 'alert' }, dataset: { testid: 'sanctioned-banner' }, text: t('evm.sanctioned') }));
  if (a.incomplete) view.append(h('div', { dataset: { testid: 'incomplete-note' } }, notice(t('evm.incomplete', { reason: a.incomplete }))));
  if (a.conflicts?.length) view.append(h('div', { className: 'banner banner-warn', text: t('entity.conflicts', { n: fmtNumber(a.conflicts.length) }) }));

  const summary = section(t('address.summary'));
  summary.body.append(
    facts([
      [t('evm.chainLabel'), `${a.chain} (${chain})`],
      [t('evm.type'), a.contract ? t('evm.contract') : t('evm.account')],
      a.creator ? [t('evm.creator'), evmAddrLink(a.creator, chain)] : null,
      a.created_at ? [t('evm.createdIn'), a.created_at.tx ? evmTxLink(a.created_at.tx, chain, shortHex(a.created_at.tx)) : positionCell(a.created_at)] : null,
      [t('address.firstSeen'), positionCell(a.first_seen)],
      [t('evm.ledgerEntries'), num(Number(a.total_lines))],
      a.categories?.length ? [t('entity.categories'), h('span', {}, a.categories.map((c) => badge(c, 'info')))] : null,
    ]),
  );
  const tags = section(t('tags.title'));
  tags.body.append(tagsTable(a.tags || [], { testid: 'tags-table' }));
  view.append(h('div', { className: 'grid-2 grid-wide-left' }, summary, tags));

  const holdings = a.holdings || [];
  const hold = section(t('evm.holdings'), { testid: 'holdings-section' });
  hold.body.append(
    table(
      [
        { label: t('evm.asset'), cell: (x) => assetCell(x.asset, chain), sort: (x) => assetName(x.asset) },
        { label: t('address.balance'), cell: (x) => units(x.balance_units, x.balance, x.asset.symbol, 'big'), num: true },
        { label: t('address.received'), cell: (x) => units(x.received_units, x.received, x.asset.symbol, 'in'), num: true },
        { label: t('address.sent'), cell: (x) => units(x.sent_units, x.sent, x.asset.symbol, 'out'), num: true },
        { label: t('evm.entries'), cell: (x) => num(x.entries), sort: (x) => x.entries, num: true },
        { label: t('address.lastSeen'), cell: (x) => positionCell(x.last), sort: (x) => x.last?.height },
      ],
      holdings,
      { testid: 'holdings-table', empty: t('evm.noHoldings') },
    ),
  );
  view.append(hold);

  const assetSelect = h(
    'select',
    {
      dataset: { testid: 'ledger-asset' },
      attrs: { 'aria-label': t('evm.assetFilter') },
      on: {
        change: (ev) => {
          asset = ev.target.value;
          offset = 0;
          load();
        },
      },
    },
    h('option', { value: '', selected: asset === '', text: t('evm.allAssets') }),
    holdings.map((x) => h('option', { value: String(x.asset.id), selected: asset === String(x.asset.id), text: assetName(x.asset) + (x.asset.contract ? ' · ' + shortHex(x.asset.contract, 8, 4) : '') })),
  );
  const ledger = section(t('evm.ledger'), {
    testid: 'ledger-section',
    extra: [
      h('label', { className: 'check' }, t('evm.assetFilter'), ' ', assetSelect),
      h('label', { className: 'check' }, h('input', { type: 'checkbox', checked: newest, dataset: { testid: 'newest-first' }, on: { change: (ev) => { newest = ev.target.checked; offset = 0; load(); } } }), t('address.newestFirst')),
      exportButtons((progress) => ledgerTable(a.address, chain, asset || undefined, newest, progress), { caseId: caseOf(ctx.query) }),
    ],
  });
  view.append(ledger);
  let busy = false;

  function drawLedger(page) {
    const cols = [
      { label: t('address.height'), cell: (x) => num(x.height), sort: (x) => x.height, num: true },
      { label: t('address.time'), cell: (x) => date(x.time), sort: (x) => x.time },
      { label: t('evm.tx'), cell: (x) => (x.tx ? evmTxLink(x.tx, chain, shortHex(x.tx)) : h('span', { className: 'muted', text: x.slot === 'opening' ? t('evm.slotOpening') : t('evm.slotBlockEnd') })), className: 'col-hash' },
      { label: t('evm.kindCol'), cell: (x) => moveKind(x.kind), sort: (x) => x.kind },
      { label: t('evm.direction'), cell: (x) => (x.direction === 'in' ? badge(t('evm.in'), 'ok') : badge(t('evm.out'), 'warn')), sort: (x) => x.direction },
      { label: t('evm.counterparty'), cell: (x) => evmAddrLink(x.counterparty, chain, x.counterparty ? shortHex(x.counterparty) : undefined), sort: (x) => x.counterparty, className: 'col-hash' },
      { label: t('evm.amount'), cell: (x) => units(x.amount_units, x.amount, x.asset?.symbol, x.direction === 'in' ? 'in' : 'out'), num: true },
      { label: t('address.balanceAfter'), cell: (x) => units(x.balance_after_units, x.balance_after, x.asset?.symbol), num: true },
    ];
    replace(
      ledger.body,
      table(cols, page.ledger || [], { testid: 'ledger-table', empty: t('address.noHistory') }),
      pager({ offset, limit: PAGE, total: Number(page.total_lines), busy, testid: 'ledger', onChange: (o) => { offset = o; load(); } }),
    );
  }

  // Each load supersedes the one before (see address.js).
  let loadCtrl = null;
  async function load() {
    loadCtrl?.abort();
    const ctrl = new AbortController();
    loadCtrl = ctrl;
    signal.addEventListener('abort', () => ctrl.abort(), { once: true });
    busy = true;
    setQuery({ offset: offset || null, newest: newest ? '1' : null, asset: asset || null, chain });
    ledger.body.classList.add('busy');
    try {
      const page = await get('/address/' + seg(a.address), { chain_id: chain, asset: asset || undefined, limit: PAGE, offset, newest_first: newest ? 'true' : undefined }, { signal: ctrl.signal });
      if (ctrl !== loadCtrl) return;
      busy = false;
      drawLedger(page);
    } catch (e) {
      if (ctrl !== loadCtrl || isAbort(e)) return;
      busy = false;
      replace(ledger.body, errorBanner(e));
    } finally {
      if (ctrl === loadCtrl) ledger.body.classList.remove('busy');
    }
  }
  drawLedger(a);
}
