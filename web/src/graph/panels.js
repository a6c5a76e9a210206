// panels.js draws the graph's side panels as DOM (text only, through h()):
// the node list (the accessible way to select nodes), the panel of the
// selected node (facts, tags, paging, note, colour, add to case), the
// results of traces and path searches, the findings (CoinJoins, peel
// chains, sanctioned links), the legend, the shortcut help and the "save
// into which case" dialog.

import { h, replace, clear } from '../dom.js';
import { t, fmtAmount, fmtUnits, fmtDate, fmtNumber, fmtPercent, tn } from '../i18n.js';
import { openAddToCase } from '../cases/addtocase.js';
import { GROUPS, COLOURS, iconURL, groupOf } from './categories.js';
import { short } from './view.js';
import { PAGE } from './loader.js';

const LIST_MAX = 400;

// section returns the host's section of class cls, made on first use in
// the order given.
function section(host, cls, testid, order, title) {
  let s = host.querySelector(':scope > .' + cls);
  if (!s) {
    s = h('section', { class: ['gr-section', cls], dataset: { testid, order: String(order) } });
    const after = [...host.children].find((c) => Number(c.dataset.order) > order);
    host.insertBefore(s, after || null);
  }
  if (title !== undefined) s.setAttribute('aria-label', title);
  return s;
}

function kindName(kind) {
  return kind === 'tx' ? t('graph.kind.tx') : kind === 'entity' ? t('graph.kind.entity') : t('graph.kind.address');
}

function groupName(group) {
  switch (group) {
    case 'sanctioned':
      return t('graph.group.sanctioned');
    case 'abuse':
      return t('graph.group.abuse');
    case 'mixer':
      return t('graph.group.mixer');
    case 'darknet':
      return t('graph.group.darknet');
    case 'gambling':
      return t('graph.group.gambling');
    case 'exchange':
      return t('graph.group.exchange');
    case 'defi':
      return t('graph.group.defi');
    case 'service':
      return t('graph.group.service');
    case 'tagged':
      return t('graph.group.tagged');
    default:
      return t('graph.group.untagged');
  }
}

function reasonName(reason) {
  switch (reason) {
    case 'unspent':
      return t('graph.reason.unspent');
    case 'hop-limit':
      return t('graph.reason.hopLimit');
    case 'outside-window':
      return t('graph.reason.window');
    case 'coinbase':
      return t('graph.reason.coinbase');
    case 'no-address':
      return t('graph.reason.noAddress');
    case 'summarised':
      return t('graph.reason.summarised');
    case 'payment':
      return t('graph.reason.payment');
    case 'held':
      return t('graph.reason.held');
    case 'burnt':
      return t('graph.reason.burnt');
    case 'minted':
      return t('graph.reason.minted');
    case 'unexplained':
      return t('graph.reason.unexplained');
    case 'opening':
      return t('graph.reason.opening');
    case 'withdrawal':
      return t('graph.reason.withdrawal');
    case 'tips':
      return t('graph.reason.tips');
    case '':
      return '';
    default:
      return t('graph.reason.stopped', { category: reason });
  }
}

// swatch is a small coloured icon of a group (or a node kind), in the
// investigator's colour when the node has one (a checked #rrggbb).
function swatch(group, kind, colour) {
  const el = h('span', { class: 'gr-swatch', attrs: { 'aria-hidden': 'true' } });
  if (kind === 'tx') {
    el.classList.add('gr-swatch-tx');
    el.append(h('img', { src: iconURL('tx', '#37474f'), alt: '' }));
  } else if (kind === 'entity') {
    el.classList.add('gr-swatch-entity');
    el.style.backgroundColor = group && group !== 'untagged' ? COLOURS[group] : COLOURS.entity;
    el.append(h('img', { src: iconURL('entity'), alt: '' }));
  } else {
    el.style.backgroundColor = COLOURS[group || 'untagged'] || COLOURS.untagged;
    el.append(h('img', { src: iconURL(group || 'untagged'), alt: '' }));
  }
  if (colour && /^#[0-9a-fA-F]{6}$/.test(colour) && kind !== 'tx') el.style.backgroundColor = colour;
  return el;
}

function nodeTitle(n) {
  if (n.kind === 'entity') return t('graph.node.entity', { id: n.ref }) + (n.label ? ' · ' + n.label : '');
  return n.label || short(n.ref, 10, 8);
}

function itemLabel(n) {
  if (n.kind === 'entity') return nodeTitle(n);
  if (n.kind === 'tx') return kindName('tx') + (n.time ? ' · ' + fmtDate(n.time, false) : '') + (n.coinjoin ? ' · ' + t('graph.node.coinjoin') : '');
  return n.label || kindName(n.kind);
}

function pagePath(n) {
  const evm = /^evm-(\d+)$/.exec(n.network || '');
  if (evm) return '/address/' + encodeURIComponent(n.ref) + '?chain=' + evm[1];
  if (n.kind === 'tx') return '/tx/' + encodeURIComponent(n.ref);
  if (n.kind === 'entity') return '/entity/' + encodeURIComponent(n.ref) + (n.network ? '?network=' + encodeURIComponent(n.network) : '');
  return '/address/' + encodeURIComponent(n.ref);
}

// --- node list ------------------------------------------------------------

/** renderNodeList lists every node; click, Enter or Space selects one. */
export function renderNodeList(g, host) {
  const s = section(host, 'gr-list-section', 'graph-node-list-section', 1, t('graph.list.title'));
  const active = document.activeElement;
  const focusId = active?.closest?.('.gr-nodelist') ? active.dataset.id : null;
  const filterFocused = active?.classList?.contains('gr-list-filter');
  const nodes = [...g.model.nodes.values()].sort((a, b) => (b.seed ? 1 : 0) - (a.seed ? 1 : 0) || a.order - b.order);
  const q = g.listFilter.trim().toLowerCase();
  const shown = q ? nodes.filter((n) => n.ref.toLowerCase().includes(q) || n.labels.some((l) => l.toLowerCase().includes(q)) || (n.note || '').toLowerCase().includes(q)) : nodes;
  // At most LIST_MAX items are drawn (the filter finds the others); the
  // selected node always is.
  let drawn = shown.slice(0, LIST_MAX);
  const sel = g.selected && shown.find((n) => n.id === g.selected);
  if (sel && !drawn.includes(sel)) drawn = [sel, ...drawn.slice(0, LIST_MAX - 1)];
  const items = drawn.map((n) => {
    const selected = g.selected === n.id;
    return h(
      'li',
      {
        class: ['gr-item', selected && 'gr-item-selected', n.hidden && 'gr-item-hidden'],
        tabIndex: -1,
        title: n.ref,
        dataset: { testid: 'graph-node-item', id: n.id, kind: n.kind, ref: n.ref },
        attrs: { role: 'option', 'aria-selected': selected ? 'true' : 'false' },
        on: {
          click: () => g.select(n.id),
          keydown: (e) => listKey(e, g),
        },
      },
      swatch(n.group, n.kind, n.color),
      h(
        'span',
        { class: 'gr-item-text' },
        h('span', { class: 'gr-item-label' }, itemLabel(n)),
        h('span', { class: 'gr-item-ref' }, n.ref),
      ),
      n.seed ? h('span', { class: 'gr-badge', title: t('graph.list.seedTitle') }, t('graph.list.seed')) : null,
      n.note ? h('span', { class: 'gr-badge gr-badge-note', title: n.note }, '✎') : null,
      n.hidden ? h('span', { class: 'gr-badge', title: t('graph.list.hiddenTitle') }, t('graph.list.hidden')) : null,
    );
  });
  const list = h('ul', { class: 'gr-nodelist', dataset: { testid: 'graph-node-list' }, attrs: { role: 'listbox', 'aria-label': t('graph.list.title') } }, items);
  // One item is reachable with Tab (roving tabindex).
  const current = items.find((li) => li.dataset.id === (focusId || g.selected)) || items[0];
  if (current) current.tabIndex = 0;
  const hiddenCount = nodes.filter((n) => n.hidden).length;
  replace(
    s,
    h('h2', { class: 'gr-h' }, t('graph.list.title'), h('span', { class: 'gr-count' }, fmtNumber(nodes.length))),
    h('input', {
      type: 'search',
      class: 'gr-input gr-list-filter',
      value: g.listFilter,
      placeholder: t('graph.list.filter'),
      dataset: { testid: 'graph-node-filter' },
      attrs: { 'aria-label': t('graph.list.filter') },
      on: {
        input: (e) => {
          g.listFilter = e.target.value;
          renderNodeList(g, host);
        },
      },
    }),
    nodes.length ? list : h('p', { class: 'gr-hint' }, t('graph.list.empty')),
    shown.length > drawn.length ? h('p', { class: 'gr-hint' }, t('graph.list.more', { count: shown.length - drawn.length })) : null,
    hiddenCount ? h('button', { type: 'button', class: 'gr-btn gr-small', dataset: { testid: 'graph-show-hidden' }, on: { click: () => g.showAll() } }, t('graph.list.showHidden', { count: hiddenCount })) : null,
  );
  if (filterFocused) {
    const f = s.querySelector('.gr-list-filter');
    f.focus();
    f.setSelectionRange(f.value.length, f.value.length);
  } else if (focusId) s.querySelector(`.gr-item[data-id="${CSS.escape(focusId)}"]`)?.focus();
}

function listKey(e, g) {
  const li = e.currentTarget;
  let next = null;
  if (e.key === 'ArrowDown') next = li.nextElementSibling;
  else if (e.key === 'ArrowUp') next = li.previousElementSibling;
  else if (e.key === 'Home') next = li.parentElement.firstElementChild;
  else if (e.key === 'End') next = li.parentElement.lastElementChild;
  else if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    e.stopPropagation();
    g.select(li.dataset.id);
    return;
  }
  if (next) {
    e.preventDefault();
    li.tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  }
}

// --- the selected node -------------------------------------------------------

/** renderPanel shows the selected node: facts, tags, paging, note, colour. */
export function renderPanel(g, host) {
  const s = section(host, 'gr-panel-section', 'graph-node-panel', 1, t('graph.panel.title'));
  const n = g.selectedNode();
  // Do not pull the note or the colour out from under the user's hands.
  if (n && s.dataset.node === n.id && s.contains(document.activeElement) && document.activeElement.matches('textarea, input')) return;
  s.dataset.node = n ? n.id : '';
  if (!n) {
    replace(s, h('h2', { class: 'gr-h' }, t('graph.panel.title')), h('p', { class: 'gr-hint' }, t('graph.panel.none')));
    return;
  }
  const facts = [];
  const fact = (k, v) => v !== undefined && v !== null && v !== '' && facts.push(h('dt', {}, k), h('dd', {}, v));
  if (n.kind === 'address' && g.addrInfo.get(n.ref)?.evm) {
    // An EVM address: its chain, kind and every asset it holds.
    const a = g.addrInfo.get(n.ref);
    fact(t('graph.fact.chain'), `${a.chain} (${a.chainId})`);
    fact(t('graph.fact.kind'), a.contract ? t('graph.fact.contract') : t('graph.fact.account'));
    for (const x of a.holdings) fact(t('graph.fact.holding', { asset: x.asset?.symbol || '#' + x.asset?.id }), fmtUnits(x.balance_units, x.asset?.symbol || ''));
    fact(t('graph.fact.ledgerEntries'), fmtNumber(a.lines));
    fact(t('graph.fact.firstSeen'), fmtDate(a.first));
  } else if (n.kind === 'address') {
    const a = g.addrInfo.get(n.ref);
    if (a) {
      fact(t('graph.fact.balance'), fmtAmount(a.balance));
      fact(t('graph.fact.received'), fmtAmount(a.received));
      fact(t('graph.fact.sent'), fmtAmount(a.sent));
      fact(t('graph.fact.txCount'), fmtNumber(a.txCount));
      fact(t('graph.fact.firstSeen'), fmtDate(a.first));
      fact(t('graph.fact.lastSeen'), fmtDate(a.last));
    }
    if (n.entity) fact(t('graph.fact.entity'), h('button', { type: 'button', class: 'gr-link', on: { click: () => g.opts.navigate('/entity/' + encodeURIComponent(n.entity)) } }, t('graph.node.entity', { id: n.entity })));
  } else if (n.kind === 'tx') {
    const txv = g.loader.txValue(n.ref);
    fact(t('graph.fact.time'), fmtDate(n.time));
    if (txv) {
      fact(t('graph.fact.block'), fmtNumber(txv.block_height));
      fact(t('graph.fact.inputs'), fmtNumber(txv.inputs?.length ?? 0));
      fact(t('graph.fact.outputs'), fmtNumber(txv.outputs?.length ?? 0));
      fact(t('graph.fact.value'), fmtAmount(txv.output_value));
      fact(t('graph.fact.fee'), fmtAmount(txv.fee));
      const cj = txv.coinjoin;
      if (cj) fact(t('graph.fact.coinjoin'), cj.is_coinjoin ? t('graph.coinjoin.yes', { confidence: fmtPercent(cj.confidence || 0, 0) }) : t('graph.coinjoin.no'));
    } else if (n.coinjoin) fact(t('graph.fact.coinjoin'), t('graph.coinjoin.flag'));
  } else {
    const e = g.entityInfo.get(n.ref);
    if (e) {
      fact(t('graph.fact.size'), fmtNumber(e.size));
      fact(t('graph.fact.balance'), fmtAmount(e.balance));
      fact(t('graph.fact.received'), fmtAmount(e.received));
      fact(t('graph.fact.sent'), fmtAmount(e.sent));
      fact(t('graph.fact.txCount'), fmtNumber(e.txCount));
    }
  }

  const tags = n.kind === 'address' ? g.tagDetails?.get(n.ref) : null;
  const tagList = tags?.length
    ? h(
        'ul',
        { class: 'gr-tags' },
        tags.slice(0, 20).map((tg) =>
          h(
            'li',
            { class: 'gr-tag' },
            h('span', { class: 'gr-tag-label' }, tg.label || '—'),
            h('span', { class: 'gr-tag-meta' }, [tg.category, tg.abuse].filter(Boolean).join(', ') + (tg.origin === 'cluster' ? ' · ' + t('graph.tag.cluster') : '')),
            h('span', { class: 'gr-tag-meta' }, t('graph.tag.source', { source: tg.source || '—', confidence: tg.confidence_name || String(tg.confidence ?? '') })),
          ),
        ),
      )
    : n.labels.length
      ? h('ul', { class: 'gr-tags' }, n.labels.map((l) => h('li', { class: 'gr-tag' }, h('span', { class: 'gr-tag-label' }, l))))
      : h('p', { class: 'gr-hint' }, t('graph.panel.noTags'));

  const paging = [];
  for (const dir of ['in', 'out']) {
    const st = g.pages.get(n.id + '|' + dir);
    if (!st || st.total === null) continue;
    const read = n.kind === 'entity' ? st.members : st.offset;
    const params = { read: fmtNumber(Math.min(read, st.total)), total: fmtNumber(st.total) };
    const what =
      n.kind === 'address'
        ? t('graph.page.history', params)
        : n.kind === 'tx'
          ? dir === 'in'
            ? t('graph.page.inputs', params)
            : t('graph.page.outputs', params)
          : t('graph.page.members', params);
    paging.push(
      h(
        'div',
        { class: 'gr-paging' },
        h('span', {}, (dir === 'in' ? '⇠ ' : '⇢ ') + what),
        st.done && !st.pending?.length
          ? h('span', { class: 'gr-hint' }, t('graph.page.all'))
          : h('button', { type: 'button', class: 'gr-btn gr-small', dataset: { testid: 'graph-more-' + dir }, on: { click: () => g.expand(dir) } }, t('graph.page.more', { n: PAGE })),
      ),
    );
  }

  const note = h('textarea', {
    class: 'gr-input gr-note',
    rows: 3,
    maxLength: 4000,
    value: n.note || '',
    placeholder: t('graph.note.placeholder'),
    dataset: { testid: 'graph-node-note' },
    attrs: { 'aria-label': t('graph.note.label') },
    on: { input: (e) => g.setNote(n, e.target.value) },
  });
  const colour = h('input', {
    type: 'color',
    class: 'gr-colour',
    value: n.color || '#1976d2',
    dataset: { testid: 'graph-node-color' },
    attrs: { 'aria-label': t('graph.colour.label') },
    on: { change: (e) => g.setColour(n, e.target.value) },
  });
  const path = pagePath(n);
  replace(
    s,
    h('h2', { class: 'gr-h' }, t('graph.panel.title')),
    h('div', { class: 'gr-node-head' }, swatch(n.group, n.kind, n.color), h('div', {}, h('div', { class: 'gr-kind' }, kindName(n.kind) + (n.group && n.group !== 'untagged' ? ' · ' + groupName(n.group) : '')), h('div', { class: 'gr-node-title' }, nodeTitle(n)))),
    h('div', { class: 'gr-ref' }, h('code', { class: 'gr-code' }, n.ref)),
    h(
      'div',
      { class: 'gr-actions' },
      h(
        'a',
        {
          href: path,
          class: 'gr-btn gr-small',
          dataset: { testid: 'graph-node-open' },
          on: {
            click: (e) => {
              if (e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
              e.preventDefault();
              g.opts.navigate(path);
            },
          },
        },
        n.kind === 'tx' ? t('graph.panel.openTx') : n.kind === 'entity' ? t('graph.panel.openEntity') : t('graph.panel.openAddress'),
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'gr-btn gr-small',
          dataset: { testid: 'graph-add-to-case' },
          on: { click: () => openAddToCase({ kind: n.kind, ref: n.kind === 'entity' ? 'entity:' + n.ref : n.ref, network: n.network || undefined, label: n.label || n.labels[0] || '' }) },
        },
        t('graph.panel.addToCase'),
      ),
      n.hidden ? h('button', { type: 'button', class: 'gr-btn gr-small', on: { click: () => g.select(n.id) } }, t('graph.panel.show')) : null,
    ),
    n.kind === 'entity'
      ? h(
          'label',
          { class: 'gr-check' },
          h('input', { type: 'checkbox', checked: !!n.collapsed, dataset: { testid: 'graph-entity-fold' }, on: { change: (e) => g.fold(n, e.target.checked) } }),
          h('span', {}, t('graph.panel.fold')),
        )
      : null,
    facts.length ? h('dl', { class: 'gr-facts' }, facts) : null,
    paging,
    h('h3', { class: 'gr-h3' }, n.kind === 'address' ? t('graph.panel.tags') : n.kind === 'entity' ? t('graph.panel.entityTags') : t('graph.panel.txTags')),
    tagList,
    h('h3', { class: 'gr-h3' }, t('graph.note.label')),
    note,
    h(
      'div',
      { class: 'gr-colour-row' },
      h('label', { class: 'gr-field' }, h('span', {}, t('graph.colour.label')), colour),
      n.color ? h('button', { type: 'button', class: 'gr-btn gr-small', on: { click: () => g.setColour(n, '') } }, t('graph.colour.reset')) : null,
    ),
  );
}

// hopsText is "N hops" (1 hop).
export function hopsText(n) {
  return tn('graph.trace.hops', n);
}

// modelName names a taint model.
export function modelName(m) {
  if (m === 'fifo') return t('graph.model.fifo');
  if (m === 'poison') return t('graph.model.poison');
  return t('graph.model.haircut');
}

function summary(tr) {
  const p = { from: short(tr.from, 14, 8), model: modelName(tr.model), hops: hopsText(tr.hops), count: fmtNumber(tr.destinations.length), txs: fmtNumber(tr.txs_read) };
  return tr.direction === 'backward' ? t('graph.results.summaryBackward', p) : t('graph.results.summaryForward', p);
}

// --- results -------------------------------------------------------------------

/** renderResults lists a trace's destinations and a path search's paths. */
export function renderResults(g, host) {
  const s = section(host, 'gr-results-section', 'graph-results', 2, t('graph.results.title'));
  const parts = [h('h2', { class: 'gr-h' }, t('graph.results.title'))];
  const tr = g.trace;
  if (!tr && !g.paths) parts.push(h('p', { class: 'gr-hint' }, t('graph.results.none')));
  if (tr) {
    parts.push(
      h(
        'p',
        { class: 'gr-summary' },
        summary(tr),
        tr.source ? ' ' + t('graph.results.source', { amount: fmtAmount(tr.source) }) : '',
        tr.chain_id && tr.source_units ? ' ' + t('graph.results.source', { amount: fmtUnits(tr.source_units, tr.symbol) }) : '',
      ),
    );
    if (tr.summarised) parts.push(h('p', { class: 'gr-warn' }, t('graph.results.summarised')));
    if (tr.omitted) parts.push(h('p', { class: 'gr-warn' }, t('graph.results.omitted', { count: fmtNumber(tr.omitted) })));
    const rows = tr.destinations.map((d) => {
      const id = 'a:' + d.address;
      const group = d.category ? groupOf(d.category) : 'untagged';
      return h(
        'tr',
        { class: [d.stopped && 'gr-row-stop', g.selected === id && 'gr-row-selected'], dataset: { testid: 'graph-result-row', address: d.address } },
        h(
          'td',
          { class: 'gr-td-addr' },
          h('button', { type: 'button', class: 'gr-link gr-mono', title: d.address, on: { click: () => g.select(id) } }, d.address),
          d.labels.length ? h('div', { class: 'gr-result-labels' }, d.labels.join(' · ')) : null,
        ),
        h(
          'td',
          {},
          d.category ? h('span', { class: 'gr-cat' }, swatch(group, 'address'), d.category) : h('span', { class: 'gr-sub' }, '—'),
          h('div', { class: 'gr-reason' }, reasonName(d.reason)),
          h('div', { class: 'gr-sub' }, d.hops === 1 ? t('graph.results.hop1') : t('graph.results.hops', { n: d.hops })),
        ),
        h('td', { class: 'gr-num' }, tr.chain_id ? fmtUnits(d.units, tr.symbol) : fmtAmount(d.amount), h('div', { class: 'gr-sub' }, fmtPercent(d.share, 1))),
      );
    });
    parts.push(
      h(
        'div',
        { class: 'gr-table-wrap' },
        h(
          'table',
          { class: 'gr-table' },
          h('colgroup', {}, h('col', { class: 'gr-col-addr' }), h('col', { class: 'gr-col-cat' }), h('col', { class: 'gr-col-amount' })),
          h('thead', {}, h('tr', {}, h('th', {}, t('graph.results.address')), h('th', {}, t('graph.results.category'), ' · ', t('graph.results.reason')), h('th', { class: 'gr-num' }, t('graph.results.amount')))),
          h('tbody', {}, rows),
        ),
      ),
    );
  }
  if (g.paths) {
    const p = g.paths;
    parts.push(h('h3', { class: 'gr-h3' }, t('graph.paths.title', { to: short(p.to, 12, 8) })));
    if (!p.paths.length) parts.push(h('p', { class: 'gr-hint' }, t('graph.msg.noPath', { hops: hopsText(p.maxHops ?? 6) })));
    p.paths.forEach((path, i) => {
      parts.push(
        h(
          'div',
          { class: 'gr-path', dataset: { testid: 'graph-path-result' } },
          h('div', { class: 'gr-path-head' }, t('graph.paths.path', { n: i + 1, hops: hopsText(path.hops ?? path.steps?.length ?? 0) })),
          h(
            'ol',
            { class: 'gr-steps' },
            (path.steps || []).map((st) =>
              h(
                'li',
                {},
                h('button', { type: 'button', class: 'gr-link gr-mono', title: st.from, on: { click: () => g.select('a:' + st.from) } }, short(st.from, 8, 6)),
                ' → ',
                h('button', { type: 'button', class: 'gr-link gr-mono', title: st.to, on: { click: () => g.select('a:' + st.to) } }, short(st.to, 8, 6)),
                h('span', { class: 'gr-sub' }, ' ' + (st.evm ? fmtUnits(st.evm.units, st.evm.symbol) : fmtAmount(st.amount))),
              ),
            ),
          ),
        ),
      );
    });
  }
  replace(s, parts);
}

// --- findings -------------------------------------------------------------------

/** renderFindings lists CoinJoins, peel chains and sanctioned addresses. */
export function renderFindings(g, host) {
  const s = section(host, 'gr-findings-section', 'graph-findings', 3, t('graph.findings.title'));
  const coinjoins = [...g.model.nodes.values()].filter((n) => n.kind === 'tx' && n.coinjoin);
  const cjOnEdges = [...g.coinjoinTxids].filter((id) => !g.model.nodes.has('t:' + id));
  const sanctioned = [...g.model.nodes.values()].filter((n) => n.group === 'sanctioned');
  const parts = [h('h2', { class: 'gr-h' }, t('graph.findings.title'))];
  if (!coinjoins.length && !cjOnEdges.length && !g.peels.length && !sanctioned.length) parts.push(h('p', { class: 'gr-hint' }, t('graph.findings.none')));
  const item = (cls, testid, title, detail, onClick, extra) =>
    h('li', { class: ['gr-finding', cls], dataset: { testid } }, h('button', { type: 'button', class: 'gr-link', on: { click: onClick } }, title), detail ? h('div', { class: 'gr-sub' }, detail) : null, extra || null);
  if (sanctioned.length) {
    parts.push(h('h3', { class: 'gr-h3' }, t('graph.findings.sanctioned', { count: sanctioned.length })));
    parts.push(
      h(
        'ul',
        { class: 'gr-findings' },
        sanctioned.map((n) => item('gr-f-sanctioned', 'graph-finding-sanctioned', n.label || short(n.ref), t('graph.findings.links', { count: g.model.edgesOf(n.id).length, ref: short(n.ref, 10, 6) }), () => g.select(n.id))),
      ),
    );
  }
  if (coinjoins.length || cjOnEdges.length) {
    parts.push(h('h3', { class: 'gr-h3' }, t('graph.findings.coinjoins', { count: coinjoins.length + cjOnEdges.length })));
    parts.push(
      h(
        'ul',
        { class: 'gr-findings' },
        coinjoins.map((n) => item('gr-f-coinjoin', 'graph-finding-coinjoin', short(n.ref, 10, 6), fmtDate(n.time), () => g.select(n.id))),
        cjOnEdges.map((id) => item('gr-f-coinjoin', 'graph-finding-coinjoin', short(id, 10, 6), t('graph.findings.onTrace'), () => g.opts.navigate('/tx/' + encodeURIComponent(id)))),
      ),
    );
  }
  if (g.peels.length) {
    parts.push(h('h3', { class: 'gr-h3' }, t('graph.findings.peels', { count: g.peels.length })));
    parts.push(
      h(
        'ul',
        { class: 'gr-findings' },
        g.peels.map((p) => {
          const onEdges = new Set([...g.model.edges.values()].map((e) => e.txid));
          const drawn = p.txids.filter((id) => g.model.nodes.has('t:' + id) || onEdges.has(id)).length;
          return item(
            'gr-f-peel',
            'graph-finding-peel',
            t('graph.findings.peel', { hops: p.txids.length, from: short(p.from, 8, 6) }),
            t('graph.findings.peelDetail', { peeled: fmtAmount(p.params?.peeled_sats ?? 0), rest: fmtAmount(p.params?.remainder_sats ?? 0), confidence: fmtPercent(p.confidence || 0, 0) }),
            () => (g.model.nodes.has('a:' + p.from) ? g.select('a:' + p.from) : null),
            drawn < p.txids.length
              ? h('button', { type: 'button', class: 'gr-btn gr-small', dataset: { testid: 'graph-draw-peel' }, on: { click: () => g.drawPeel(p) } }, t('graph.findings.draw', { drawn, total: p.txids.length }))
              : h('div', { class: 'gr-sub' }, t('graph.findings.drawn')),
          );
        }),
      ),
    );
  }
  replace(s, parts);
}

// --- legend, help --------------------------------------------------------------------

/** renderLegend explains colours, icons and highlights. */
export function renderLegend(g, host) {
  const s = section(host, 'gr-legend-section', 'graph-legend', 2, t('graph.legend.title'));
  const open = s.querySelector('details')?.open ?? true;
  const groups = GROUPS.map((grp) => h('li', {}, swatch(grp, 'address'), groupName(grp)));
  const marks = [
    ['gr-mk-tx', t('graph.kind.tx'), swatch('', 'tx')],
    ['gr-mk-entity', t('graph.kind.entity'), swatch('', 'entity')],
    ['gr-mk-coinjoin', t('graph.legend.coinjoin')],
    ['gr-mk-peel', t('graph.legend.peel')],
    ['gr-mk-sanctioned', t('graph.legend.sanctioned')],
    ['gr-mk-dest', t('graph.legend.dest')],
    ['gr-mk-stop', t('graph.legend.stop')],
    ['gr-mk-path', t('graph.legend.path')],
    ['gr-mk-source', t('graph.legend.source')],
    ['gr-mk-note', t('graph.legend.note')],
  ].map(([cls, label, icon]) => h('li', {}, icon || h('span', { class: ['gr-mark', cls], attrs: { 'aria-hidden': 'true' } }, cls === 'gr-mk-note' ? '✎' : ''), label));
  replace(
    s,
    h(
      'details',
      { open },
      h('summary', { class: 'gr-h' }, t('graph.legend.title')),
      h('ul', { class: 'gr-legend' }, groups),
      h('ul', { class: 'gr-legend' }, marks),
    ),
  );
}

/** renderHelp lists the keyboard shortcuts. */
export function renderHelp(g) {
  const keys = [
    ['i', t('graph.expandInTitle')],
    ['o', t('graph.expandOutTitle')],
    ['t', t('graph.traceForwardTitle')],
    ['b', t('graph.traceBackwardTitle')],
    ['c', t('graph.collapseTitle')],
    ['h', t('graph.hideTitle')],
    ['Delete', t('graph.removeTitle')],
    ['f', t('graph.fitTitle')],
    ['l', t('graph.relayoutTitle')],
    ['s', t('graph.saveTitle')],
    ['Esc', t('graph.help.escape')],
    ['?', t('graph.help.toggle')],
  ];
  replace(
    g.helpBox,
    h('div', { class: 'gr-help-head' }, h('h2', { class: 'gr-h' }, t('graph.help.title')), h('button', { type: 'button', class: 'gr-btn gr-small', on: { click: () => (g.helpBox.hidden = true) } }, t('graph.close'))),
    h('p', { class: 'gr-hint' }, t('graph.help.intro')),
    h('table', { class: 'gr-keys' }, h('tbody', {}, keys.map(([k, v]) => h('tr', {}, h('td', {}, h('kbd', {}, k)), h('td', {}, v))))),
    h('p', { class: 'gr-hint' }, t('graph.help.mouse')),
  );
}

// --- which case -------------------------------------------------------------------------

/** pickCase asks which open case to save into; resolves to its id or null. */
export function pickCase(g) {
  return new Promise((resolve) => {
    const select = h('select', { class: 'gr-select', dataset: { testid: 'graph-save-case' }, attrs: { 'aria-label': t('graph.saveDialog.case') } }, h('option', { value: '' }, t('graph.loading')));
    const error = h('p', { class: 'gr-error', hidden: true });
    const ok = h('button', { type: 'submit', class: 'gr-btn gr-primary', disabled: true, dataset: { testid: 'graph-save-confirm' } }, t('graph.save'));
    const cancel = h('button', { type: 'button', class: 'gr-btn', on: { click: () => dlg.close('') } }, t('graph.cancel'));
    const form = h(
      'form',
      { method: 'dialog', on: { submit: (e) => (e.preventDefault(), dlg.close(select.value)) } },
      h('h2', { class: 'gr-h' }, t('graph.saveDialog.title')),
      h('p', { class: 'gr-hint' }, t('graph.saveDialog.intro')),
      h('label', { class: 'gr-field gr-field-block' }, h('span', {}, t('graph.saveDialog.case')), select),
      error,
      h('div', { class: 'gr-dialog-actions' }, cancel, ok),
    );
    const dlg = h('dialog', { class: 'gr-dialog', dataset: { testid: 'graph-save-dialog' } }, form);
    dlg.addEventListener('close', () => {
      g.dialog = null;
      dlg.remove();
      const v = dlg.returnValue;
      resolve(v && /^\d+$/.test(v) ? Number(v) : null);
    });
    g.root.append(dlg);
    g.dialog = dlg;
    dlg.showModal();
    g.loader
      .cases()
      .then((cases) => {
        const open = (Array.isArray(cases) ? cases : []).filter((c) => c.status !== 'closed');
        clear(select);
        if (!open.length) {
          error.hidden = false;
          replace(error, t('graph.saveDialog.noCases'));
          return;
        }
        for (const c of open) select.append(h('option', { value: String(c.id) }, `${c.reference} · ${c.title}`));
        ok.disabled = false;
        select.focus();
      })
      .catch((e) => {
        error.hidden = false;
        replace(error, t('graph.error.generic', { message: e.message }));
      });
  });
}
