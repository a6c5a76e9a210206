// evmtx.js: the page of a 0x transaction on an EVM chain: its facts
// (status, block, from → to or the contract it created, value, fee with
// the burnt base fee and the tip), every move of value it made (fee,
// value, internal calls, token transfers), its DEX swaps, the contracts it
// created and the tags of every address it touched. Amounts are the API's
// exact decimal strings.

import { caseOf } from '../cases/exportdata.js';
import { h } from '../dom.js';
import { get, seg } from '../api.js';
import { t, fmtNumber, fmtUnits } from '../i18n.js';
import { pageHeader, section, facts, date, num, badge, tagsTable, table, loading, errorBanner, isAbort, linkButton, setTitle, empty, exportButtons, safeName } from './common.js';
import { addToCaseButton } from './address.js';
import { moveKind } from './evmaddress.js';
import { chainParam, networkOf, evmAddrLink, shortHex, units, assetCell, assetName, baseToUnits } from './evm.js';

function statusBadge(s) {
  if (s === 'success') return badge(t('evm.statusSuccess'), 'ok');
  if (s === 'failed') return badge(t('evm.statusFailed'), 'danger');
  return badge(s || '—', 'plain');
}

// evmTxPage draws /tx/0x… (?chain=N chooses among EVM chains).
export async function evmTxPage(view, ctx) {
  const hash = ctx.params.txid;
  setTitle(hash.slice(0, 18) + '…', t('kind.tx'));
  const status = h('div', {}, loading());
  view.append(status);
  let tx;
  try {
    tx = await get('/tx/' + seg(hash), { chain_id: chainParam(ctx.query) }, { signal: ctx.signal });
  } catch (e) {
    if (isAbort(e)) return;
    view.prepend(pageHeader({ kind: t('kind.tx'), title: hash, mono: true }));
    status.replaceWith(errorBanner(e));
    return;
  }
  status.remove();
  const chain = String(tx.chain_id);
  const ref = tx.tx || hash;
  // The native coin: the asset of the fee and value moves.
  const native = (tx.moves || []).find((m) => m.asset?.id === 0)?.asset || null;
  const sym = native?.symbol || '';
  const dec = native?.decimals ?? 18;
  const wei = (v) => units(baseToUnits(v || '0', dec), v || '0', sym);

  view.append(
    pageHeader({
      kind: t('kind.tx'),
      title: ref,
      mono: true,
      sub: [badge(t('evm.chain', { name: tx.chain, id: chain }), 'info'), ' ', statusBadge(tx.status)],
      actions: [
        linkButton(t('common.openGraph'), '/graph?address=' + encodeURIComponent(tx.from) + '&network=' + encodeURIComponent(networkOf(chain)), { testid: 'open-graph' }),
        addToCaseButton({ kind: 'tx', ref, network: chain, label: '' }),
      ],
    }),
  );

  const main = section(t('evm.txSummary'));
  main.body.append(
    facts([
      [t('evm.status'), statusBadge(tx.status)],
      [t('address.height'), num(tx.height)],
      [t('address.time'), date(tx.time)],
      [t('evm.index'), tx.index >= 0 ? num(tx.index) : '—'],
      [t('evm.from'), evmAddrLink(tx.from, chain), 'wide'],
      tx.to ? [t('evm.to'), evmAddrLink(tx.to, chain), 'wide'] : null,
      tx.created ? [t('evm.createdContract'), evmAddrLink(tx.created, chain), 'wide'] : null,
      [t('evm.value'), units(tx.value_units, tx.value, sym, 'big')],
      [t('evm.fee'), units(tx.fee_units, tx.fee, sym)],
      [t('evm.burnt'), wei(tx.burnt)],
      [t('evm.tip'), wei(tx.tip)],
      [t('evm.gasUsed'), num(tx.gas_used)],
      [t('evm.nonce'), num(tx.nonce)],
      tx.selector ? [t('evm.selector'), h('span', { className: 'mono', text: tx.selector })] : null,
    ]),
  );
  view.append(main);

  const moves = tx.moves || [];
  const mv = section(t('evm.moves'), {
    testid: 'moves-section',
    extra: exportButtons(
      async () => ({
        name: `tx-${safeName(ref)}-moves`,
        header: ['seq', 'kind', 'asset', 'asset_contract', 'from', 'to', 'amount_base_units', 'amount', 'frame', 'log_index'],
        rows: moves.map((m) => [m.seq, m.kind, m.asset?.symbol || '', m.asset?.contract || '', m.from || '', m.to || '', m.amount, m.amount_units, m.frame || '', m.log_index ?? '']),
      }),
      { caseId: caseOf(ctx.query) },
    ),
  });
  mv.body.append(
    table(
      [
        { label: '#', cell: (m) => num(m.seq), sort: (m) => m.seq, num: true },
        { label: t('evm.kindCol'), cell: (m) => moveKind(m.kind), sort: (m) => m.kind },
        { label: t('evm.asset'), cell: (m) => assetCell(m.asset, chain), sort: (m) => assetName(m.asset) },
        { label: t('evm.from'), cell: (m) => evmAddrLink(m.from, chain, m.from ? shortHex(m.from) : undefined), sort: (m) => m.from, className: 'col-hash' },
        { label: t('evm.to'), cell: (m) => evmAddrLink(m.to, chain, m.to ? shortHex(m.to) : undefined), sort: (m) => m.to, className: 'col-hash' },
        { label: t('evm.amount'), cell: (m) => units(m.amount_units, m.amount, m.asset?.symbol), num: true },
        { label: t('evm.where'), cell: (m) => (m.log_index !== undefined && m.log_index !== null ? t('evm.logIndex', { n: fmtNumber(m.log_index) }) : m.frame ? h('span', { className: 'mono small', text: m.frame }) : '') },
      ],
      moves,
      { testid: 'moves-table', empty: t('evm.noMoves') },
    ),
  );
  view.append(mv);

  if (tx.swaps?.length) {
    const sw = section(t('evm.swaps'), { testid: 'swaps-section' });
    sw.body.append(
      table(
        [
          { label: t('evm.pool'), cell: (s) => evmAddrLink(s.pool, chain, shortHex(s.pool)), className: 'col-hash' },
          { label: t('evm.version'), cell: (s) => s.version },
          { label: t('evm.sender'), cell: (s) => evmAddrLink(s.sender, chain, shortHex(s.sender)), className: 'col-hash' },
          { label: t('evm.recipient'), cell: (s) => evmAddrLink(s.recipient, chain, shortHex(s.recipient)), className: 'col-hash' },
          { label: t('evm.swapAmounts'), cell: (s) => h('span', { className: 'small', title: t('evm.swapAmountsHint') }, (s.amounts || []).map((x) => fmtUnits(x)).join(' · ')) },
          { label: t('evm.logIndexCol'), cell: (s) => num(s.log_index), num: true },
        ],
        tx.swaps,
        { testid: 'swaps-table' },
      ),
    );
    view.append(sw);
  }

  const created = tx.contracts_created || [];
  const cc = section(t('evm.contractsCreated'));
  cc.body.append(created.length ? h('ul', { className: 'plain-list' }, created.map((c) => h('li', {}, evmAddrLink(c, chain)))) : empty(t('evm.noContractsCreated')));

  // Tags of the touched addresses, each row naming its address.
  const rows = [];
  for (const [addr, list] of Object.entries(tx.tags || {})) for (const g of list || []) rows.push({ ...g, involved: addr });
  rows.sort((x, y) => x.involved.localeCompare(y.involved) || String(x.label).localeCompare(String(y.label)));
  const tg = section(t('tags.title'));
  tg.body.append(
    tagsTable(rows, {
      first: { label: t('tx.address'), cell: (g) => evmAddrLink(g.involved, chain, shortHex(g.involved)), sort: (g) => g.involved, className: 'col-hash' },
      testid: 'tags-table',
      empty: t('tx.noTags'),
    }),
  );
  view.append(h('div', { className: 'grid-2 grid-wide-left' }, tg, cc));
}
