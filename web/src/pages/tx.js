// tx.js: the transaction page: header facts, the CoinJoin verdict with
// the detectors that fired, tags of the addresses involved, inputs with
// their sources and outputs with their spends and change verdicts, and a
// CSV export of both.

import { caseOf } from '../cases/exportdata.js';
import { h, replace } from '../dom.js';
import { get, post, seg } from '../api.js';
import { t, fmtNumber, fmtPercent } from '../i18n.js';
import {
  pageHeader, section, facts, amount, date, num, badge, blockLink, txLink, addrLink, tagsTable, tagChips, table, loading, errorBanner,
  isAbort, exportButtons, btcPlain, linkButton, setTitle, yesNo, empty, addressPath,
} from './common.js';
import { addToCaseButton } from './address.js';

function verdictName(v) {
  switch (v) {
    case 'change':
      return t('tx.verdictChange');
    case 'payment':
      return t('tx.verdictPayment');
    case 'unknown':
      return t('tx.verdictUnknown');
  }
  return v || '';
}

// changeCell shows an output's change verdict, its confidence and the
// heuristics behind it.
function changeCell(c) {
  if (!c) return h('span', { className: 'muted', text: t('tx.noVerdict') });
  const kind = c.verdict === 'change' ? 'warn' : c.verdict === 'payment' ? 'info' : 'plain';
  return h(
    'div',
    { className: 'verdict' },
    badge(verdictName(c.verdict), kind),
    c.verdict !== 'unknown' ? h('span', { className: 'small', text: ' ' + fmtPercent(c.confidence ?? 0, 0) }) : null,
    c.heuristics?.length ? h('div', { className: 'small muted', text: c.heuristics.join(', ') }) : null,
  );
}

// coinjoinView shows the CoinJoin verdict of the transaction.
function coinjoinView(cj) {
  if (!cj) return empty(t('tx.noCoinjoin'));
  const findings = (list, title) =>
    list?.length
      ? h(
          'div',
          { className: 'sub-block' },
          h('h3', { text: title }),
          table(
            [
              { label: t('tx.detector'), cell: (f) => h('span', { className: 'mono', text: f.name }) },
              { label: t('tx.confidence'), cell: (f) => fmtPercent(f.confidence ?? 0, 0), num: true },
              { label: t('tx.reason'), cell: (f) => f.reason || '' },
            ],
            list,
          ),
        )
      : null;
  return [
    h(
      'div',
      { className: 'cj-verdict', dataset: { testid: 'coinjoin-verdict' } },
      cj.is_coinjoin ? badge(t('tx.isCoinjoin'), 'danger') : badge(t('tx.notCoinjoin'), 'ok'),
      cj.protocol ? [' ', badge(cj.protocol, 'info')] : null,
      cj.tx0 ? [' ', badge(t('tx.tx0'), 'warn')] : null,
      h('span', { className: 'small', text: ' ' + t('tx.cjConfidence', { p: fmtPercent(cj.confidence ?? 0, 0) }) }),
    ),
    findings(cj.detectors, t('tx.detectors')),
    findings(cj.vetoes, t('tx.vetoes')),
  ];
}

// involvedTags lists the tags of the addresses of a transaction: the
// address involved, then each tag (a cluster tag names the tagged member).
function involvedTags(tags, net) {
  return tagsTable(tags, {
    first: { label: t('tx.address'), cell: (g) => addrLink(g.involved, net), sort: (g) => g.involved, className: 'col-hash' },
    origin: true,
    originCell: (g) =>
      g.origin === 'direct'
        ? t('tags.direct')
        : h('span', {}, t('tags.cluster'), ' · ', h('a', { href: addressPath(g.address, net), className: 'mono', title: g.address, text: g.address.slice(0, 10) + '…' + g.address.slice(-6) })),
    testid: 'tags-table',
    empty: t('tx.noTags'),
  });
}

// txPage draws /tx/{txid}.
export async function txPage(view, ctx) {
  const txid = ctx.params.txid;
  const network = ctx.query.get('network') || undefined;
  setTitle(txid.slice(0, 16) + '…', t('kind.tx'));
  const header = pageHeader({
    kind: t('kind.tx'),
    title: txid,
    mono: true,
    actions: [
      linkButton(t('common.openGraph'), '/graph?tx=' + encodeURIComponent(txid) + (network ? '&network=' + encodeURIComponent(network) : ''), { testid: 'open-graph' }),
      addToCaseButton({ kind: 'tx', ref: txid, network, label: '' }),
    ],
  });
  view.append(header);
  const status = h('div', {}, loading());
  view.append(status);
  let tx;
  try {
    tx = await get('/tx/' + seg(txid), { network }, { signal: ctx.signal });
  } catch (e) {
    if (isAbort(e)) return;
    header.querySelector('.page-actions')?.remove();
    replace(status, errorBanner(e));
    return;
  }
  status.remove();
  const net = tx.ledger?.network;
  // Tags of the addresses involved: one screening of all of them (direct
  // and cluster tags), drawn beside the addresses when it answers.
  // A table redrawn (sorted, paged) makes new slots: the ones still in the
  // page are kept, and the tags once known are drawn at once.
  const chipSlots = new Map(); // address → [span]
  const knownTags = new Map(); // address → tags, once screened
  const chipsFor = (a) => {
    const span = h('span', { className: 'chip-slot' });
    if (a) {
      if (knownTags.has(a)) replace(span, tagChips(knownTags.get(a)));
      else chipSlots.set(a, [...(chipSlots.get(a) || []).filter((s) => s.isConnected), span]);
    }
    return span;
  };

  const head = section(t('tx.facts'));
  const feeRate = tx.vsize ? Number(tx.fee) / tx.vsize : 0;
  head.body.append(
    facts([
      [t('tx.block'), h('span', {}, blockLink(tx.block_height, net), ' ', h('span', { className: 'small muted', text: t('tx.position', { n: fmtNumber(tx.position) }) }))],
      [t('tx.time'), date(tx.time)],
      [t('tx.network'), badge(`${tx.ledger?.chain ?? 'btc'} ${net ?? ''}`, 'info')],
      [t('tx.fee'), tx.coinbase ? '—' : h('span', {}, amount(tx.fee), ' ', h('span', { className: 'small muted', text: t('tx.feeRate', { rate: fmtNumber(feeRate, { maximumFractionDigits: 2 }) }) }))],
      [t('tx.inputValue'), amount(tx.input_value)],
      [t('tx.outputValue'), amount(tx.output_value)],
      [t('tx.size'), t('tx.sizes', { size: fmtNumber(tx.size), vsize: fmtNumber(tx.vsize), weight: fmtNumber(tx.weight) })],
      [t('tx.counts'), t('tx.inOut', { inputs: fmtNumber(tx.inputs?.length ?? 0), outputs: fmtNumber(tx.outputs?.length ?? 0) })],
      [t('tx.version'), String(tx.version)],
      [t('tx.locktime'), String(tx.locktime)],
      tx.coinbase ? [t('tx.coinbase'), badge(yesNo(true), 'info')] : null,
    ]),
  );
  const cj = section(t('tx.coinjoin'));
  replace(cj.body, coinjoinView(tx.coinjoin));
  view.append(h('div', { className: 'grid-2' }, head, cj));

  if (tx.tags?.length) {
    const own = section(t('tx.ownTags'));
    own.body.append(tagsTable(tx.tags, { network: net, testid: 'tx-tags-table' }));
    view.append(own);
  }
  const tg = section(t('tx.tags'));

  const bothTable = () => {
    const rows = [];
    for (const i of tx.inputs || [])
      rows.push(['input', i.n, i.address || (tx.coinbase ? 'coinbase' : ''), i.script_type || '', i.value, btcPlain(i.value), i.prev_txid || '', i.prev_txid ? i.prev_vout : '', '', '', '']);
    for (const o of tx.outputs || [])
      rows.push(['output', o.n, o.address || (o.data ? 'OP_RETURN ' + o.data : ''), o.script_type || '', o.value, btcPlain(o.value), '', '', o.spent_by_txid || '', o.change?.verdict || '', o.change?.confidence ?? '']);
    return { name: `tx-${txid}`, header: ['side', 'n', 'address', 'script_type', 'value_sats', 'value_btc', 'prev_txid', 'prev_vout', 'spent_by_txid', 'change_verdict', 'change_confidence'], rows };
  };

  header.querySelector('.page-actions').append(exportButtons(async () => bothTable(), { caseId: caseOf(ctx.query) }));
  const ins = section(t('tx.inputs', { n: fmtNumber(tx.inputs?.length ?? 0) }));
  ins.body.append(
    table(
      [
        { label: '#', cell: (i) => num(i.n), sort: (i) => i.n, num: true, className: 'col-narrow' },
        {
          label: t('tx.source'),
          cell: (i) => (i.prev_txid ? h('span', {}, txLink(i.prev_txid, network, i.prev_txid.slice(0, 16) + '…:' + i.prev_vout)) : badge(t('tx.coinbase'), 'info')),
          sort: (i) => i.prev_txid,
          className: 'col-src',
        },
        { label: t('tx.address'), cell: (i) => h('span', {}, addrLink(i.address, network), chipsFor(i.address)), sort: (i) => i.address, className: 'col-hash' },
        { label: t('tx.scriptType'), cell: (i) => i.script_type || '', sort: (i) => i.script_type },
        { label: t('tx.value'), cell: (i) => amount(i.value), sort: (i) => i.value, num: true },
      ],
      tx.inputs || [],
      { testid: 'inputs-table', pageSize: 100 },
    ),
  );
  const outs = section(t('tx.outputs', { n: fmtNumber(tx.outputs?.length ?? 0) }));
  outs.body.append(
    table(
      [
        { label: '#', cell: (o) => num(o.n), sort: (o) => o.n, num: true, className: 'col-narrow' },
        {
          label: t('tx.address'),
          cell: (o) => (o.address ? h('span', {}, addrLink(o.address, network), chipsFor(o.address)) : h('span', { className: 'mono small', text: o.data ? 'OP_RETURN ' + o.data : '—' })),
          sort: (o) => o.address,
          className: 'col-hash',
        },
        { label: t('tx.scriptType'), cell: (o) => o.script_type || '', sort: (o) => o.script_type },
        { label: t('tx.value'), cell: (o) => amount(o.value), sort: (o) => o.value, num: true },
        {
          label: t('tx.spentBy'),
          cell: (o) => (o.spent_by_txid ? txLink(o.spent_by_txid, network, o.spent_by_txid.slice(0, 16) + '…') : o.address ? badge(t('tx.unspent'), 'ok') : ''),
          sort: (o) => o.spent_by_txid || '',
        },
        { label: t('tx.change'), cell: (o) => changeCell(o.change), sort: (o) => o.change?.verdict || '' },
      ],
      tx.outputs || [],
      { testid: 'outputs-table', pageSize: 100 },
    ),
  );
  view.append(ins, outs, tg);

  const addrs = [...new Set([...(tx.inputs || []), ...(tx.outputs || [])].map((x) => x.address).filter(Boolean))].slice(0, 10000);
  if (!addrs.length) {
    tg.body.append(empty(t('tags.none')));
    return;
  }
  tg.body.append(loading());
  try {
    const sc = await post('/screen', { addresses: addrs, network: net });
    if (ctx.signal.aborted) return;
    const all = [];
    for (const r of sc.results || []) {
      const tags = [...(r.direct_tags || []), ...(r.cluster_tags || [])];
      all.push(...tags.map((g) => ({ ...g, address: g.address || r.address, involved: r.address })));
      knownTags.set(r.address, tags);
      for (const slot of chipSlots.get(r.address) || []) replace(slot, tagChips(tags));
      chipSlots.delete(r.address);
    }
    replace(tg.body, involvedTags(all, net));
  } catch (e) {
    if (!isAbort(e)) replace(tg.body, errorBanner(e));
  }
}
