// block.js: the block page: header facts, links to the previous and next
// blocks, and its transactions (GET /block/{b}?txids=true) paginated in the
// browser, with a CSV export.

import { caseOf } from '../cases/exportdata.js';
import { h, replace } from '../dom.js';
import { get, seg } from '../api.js';
import { t, fmtNumber } from '../i18n.js';
import { pageHeader, section, facts, amount, date, num, badge, blockLink, txLink, table, loading, errorBanner, isAbort, exportButtons, setTitle, linkButton, blockPath } from './common.js';

// blockPage draws /block/{height|hash}.
export async function blockPage(view, ctx) {
  const ref = ctx.params.block;
  const network = ctx.query.get('network') || undefined;
  setTitle(t('block.titleOf', { block: ref }));
  const status = h('div', {}, loading());
  view.append(status);
  let b;
  try {
    b = await get('/block/' + seg(ref), { network, txids: 'true' }, { signal: ctx.signal });
  } catch (e) {
    if (isAbort(e)) return;
    view.prepend(pageHeader({ kind: t('kind.block'), title: ref, mono: !/^\d+$/.test(ref) }));
    replace(status, errorBanner(e));
    return;
  }
  status.remove();
  const net = b.ledger?.network;
  setTitle(t('block.titleOf', { block: fmtNumber(b.height) }));
  view.append(
    pageHeader({
      kind: t('kind.block'),
      title: t('block.heading', { height: fmtNumber(b.height) }),
      sub: h('span', { className: 'mono small', text: b.hash }),
      actions: [
        b.height > 0 ? linkButton('← ' + t('block.prev'), blockPath(b.height - 1, network), { testid: 'block-prev' }) : null,
        b.next_hash ? linkButton(t('block.next') + ' →', blockPath(b.height + 1, network), { testid: 'block-next' }) : null,
      ].filter(Boolean),
    }),
  );
  const head = section(t('block.facts'));
  head.body.append(
    facts([
      [t('block.height'), num(b.height)],
      [t('block.time'), date(b.time)],
      [t('block.network'), badge(`${b.ledger?.chain ?? 'btc'} ${net ?? ''}`, 'info')],
      [t('block.txCount'), num(b.tx_count)],
      [t('block.fees'), amount(b.fees)],
      [t('block.subsidy'), amount(b.subsidy)],
      [t('block.size'), t('block.sizes', { size: fmtNumber(b.size), stripped: fmtNumber(b.stripped_size), weight: fmtNumber(b.weight) })],
      [t('block.version'), h('span', { className: 'mono', text: '0x' + (b.version >>> 0).toString(16).padStart(8, '0') })],
      [t('block.bitsNonce'), h('span', { className: 'mono', text: `0x${(b.bits >>> 0).toString(16)} / ${b.nonce}` })],
      [t('block.prevHash'), b.prev_hash && b.height > 0 ? blockLink(b.prev_hash, network, b.prev_hash) : '—', 'wide'],
      [t('block.nextHash'), b.next_hash ? blockLink(b.next_hash, network, b.next_hash) : h('span', { className: 'muted', text: t('block.tip') }), 'wide'],
      [t('block.merkle'), h('span', { className: 'mono', text: b.merkle_root }), 'wide'],
    ]),
  );
  head.querySelectorAll('.fact dd a').forEach((a) => a.classList.add('mono'));
  view.append(head);

  const rows = (b.txids || []).map((txid, i) => ({ i, txid }));
  const txs = section(t('block.txs', { n: fmtNumber(b.tx_count) }), {
    extra: exportButtons(async () => ({ name: `block-${b.height}-txids`, header: ['block_height', 'block_hash', 'position', 'txid'], rows: rows.map((r) => [b.height, b.hash, r.i, r.txid]) }), { caseId: caseOf(ctx.query) }),
  });
  txs.body.append(
    table(
      [
        { label: t('block.position'), cell: (r) => num(r.i), sort: (r) => r.i, num: true, className: 'col-narrow' },
        { label: t('block.txid'), cell: (r) => h('span', {}, txLink(r.txid, network), r.i === 0 ? [' ', badge(t('tx.coinbase'), 'info')] : null), sort: (r) => r.txid, className: 'col-hash' },
      ],
      rows,
      { testid: 'block-txs', pageSize: 50 },
    ),
  );
  view.append(txs);
}
