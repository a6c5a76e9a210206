// toolbar.js draws the graph's toolbar: the actions on the selected node
// (expand, collapse, hide, remove), the trace (direction, hops, model), the
// path search, the filters (time range, minimum value), grouping by
// entity, layout, save and export (PNG and SVG in the browser; GraphML
// and GEXF of the saved graph, recorded in its case). Every button carries the data-testid
// the end-to-end test uses and names its shortcut in its title.

import { h, replace } from '../dom.js';
import { t } from '../i18n.js';
import { modelName, hopsText } from './panels.js';

/** renderToolbar draws g's toolbar into g.toolbar. */
export function renderToolbar(g) {
  const sel = !!g.selected;
  const btn = (testid, label, title, fn, opts = {}) =>
    h('button', { type: 'button', class: ['gr-btn', opts.primary && 'gr-primary'], title, disabled: opts.disabled, dataset: { testid }, on: { click: fn } }, label);
  const hops = h(
    'select',
    { class: 'gr-select', title: t('graph.trace.hopsTitle'), dataset: { testid: 'graph-trace-hops' }, on: { change: (e) => (g.traceOpts.hops = Number(e.target.value)) } },
    [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 30].map((v) => h('option', { value: String(v), selected: v === g.traceOpts.hops }, hopsText(v))),
  );
  const model = h(
    'select',
    { class: 'gr-select', title: t('graph.trace.modelTitle'), dataset: { testid: 'graph-trace-model' }, on: { change: (e) => (g.traceOpts.model = e.target.value) } },
    ['haircut', 'fifo', 'poison'].map((v) => h('option', { value: v, selected: v === g.traceOpts.model }, modelName(v))),
  );
  // The asset a trace from an EVM address follows: one of its holdings.
  const sn = g.selectedNode?.();
  const info = sn && sn.kind === 'address' ? g.addrInfo.get(sn.ref) : null;
  const asset = info?.evm
    ? h(
        'select',
        { class: 'gr-select', title: t('graph.trace.assetTitle'), dataset: { testid: 'graph-trace-asset' }, on: { change: (e) => (g.traceOpts.asset = e.target.value) } },
        info.holdings.map((x) => h('option', { value: String(x.asset?.id), selected: String(x.asset?.id) === g.traceAsset(sn) }, x.asset?.symbol || '#' + x.asset?.id)),
      )
    : null;
  const pathInput = h('input', {
    type: 'text',
    class: 'gr-input gr-path-input',
    value: g.pathTo,
    placeholder: t('graph.path.placeholder'),
    spellcheck: false,
    autocomplete: 'off',
    dataset: { testid: 'graph-path' },
    attrs: { 'aria-label': t('graph.path.label') },
    on: {
      input: (e) => (g.pathTo = e.target.value),
      keydown: (e) => {
        if (e.key === 'Enter') {
          e.preventDefault();
          g.findPath();
        }
      },
    },
  });
  const dateInput = (key, testid, label) =>
    h('label', { class: 'gr-field' }, h('span', {}, label), h('input', { type: 'date', class: 'gr-input', value: g.filters[key], dataset: { testid }, on: { change: (e) => g.setFilter(key, e.target.value) } }));
  const minInput = h(
    'label',
    { class: 'gr-field' },
    h('span', {}, t('graph.filter.min')),
    h('input', {
      type: 'text',
      inputMode: 'decimal',
      class: 'gr-input gr-min',
      value: g.filters.min,
      placeholder: '0.0',
      dataset: { testid: 'graph-filter-min' },
      on: { change: (e) => g.setFilter('min', e.target.value) },
    }),
    h('span', { class: 'gr-unit' }, 'BTC'),
  );
  const groupToggle = h(
    'label',
    { class: 'gr-check' },
    h('input', { type: 'checkbox', checked: g.group, dataset: { testid: 'graph-group-entities' }, on: { change: (e) => g.setGroup(e.target.checked) } }),
    h('span', {}, t('graph.groupEntities')),
  );
  const filtersOn = g.filters.from || g.filters.to || g.filters.min;
  const row1 = h(
    'div',
    { class: 'gr-row' },
    h(
      'div',
      { class: 'gr-group', attrs: { role: 'group', 'aria-label': t('graph.group.node') } },
      btn('graph-expand-in', '⇠ ' + t('graph.expandIn'), t('graph.expandInTitle') + ' (i)', () => g.expand('in'), { disabled: !sel }),
      btn('graph-expand-out', t('graph.expandOut') + ' ⇢', t('graph.expandOutTitle') + ' (o)', () => g.expand('out'), { disabled: !sel }),
      btn('graph-collapse', t('graph.collapse'), t('graph.collapseTitle') + ' (c)', () => g.collapse(), { disabled: !sel }),
      btn('graph-hide', t('graph.hide'), t('graph.hideTitle') + ' (h)', () => g.hide(), { disabled: !sel }),
      btn('graph-remove', t('graph.remove'), t('graph.removeTitle') + ' (Delete)', () => g.remove(), { disabled: !sel }),
    ),
    h(
      'div',
      { class: 'gr-group', attrs: { role: 'group', 'aria-label': t('graph.group.trace') } },
      btn('graph-trace-forward', t('graph.traceForward'), t('graph.traceForwardTitle') + ' (t)', () => g.startTrace('forward'), { disabled: !sel || !!g.running }),
      btn('graph-trace-backward', t('graph.traceBackward'), t('graph.traceBackwardTitle') + ' (b)', () => g.startTrace('backward'), { disabled: !sel || !!g.running }),
      hops,
      model,
      asset,
    ),
    h(
      'div',
      { class: 'gr-group gr-grow', attrs: { role: 'group', 'aria-label': t('graph.group.path') } },
      pathInput,
      btn('graph-path-go', t('graph.path.go'), t('graph.path.title'), () => g.findPath(), { disabled: !sel }),
    ),
  );
  const row2 = h(
    'div',
    { class: 'gr-row' },
    h(
      'div',
      { class: 'gr-group', attrs: { role: 'group', 'aria-label': t('graph.group.filters') } },
      dateInput('from', 'graph-filter-from', t('graph.filter.from')),
      dateInput('to', 'graph-filter-to', t('graph.filter.to')),
      minInput,
      (g.clearBtn = btn('graph-filter-clear', t('graph.filter.clear'), t('graph.filter.clearTitle'), () => g.clearFilters(), { disabled: !filtersOn })),
    ),
    h('div', { class: 'gr-group' }, groupToggle),
    h(
      'div',
      { class: 'gr-group' },
      btn('graph-relayout', t('graph.relayout'), t('graph.relayoutTitle') + ' (l)', () => g.layout()),
      btn('graph-fit', t('graph.fit'), t('graph.fitTitle') + ' (f)', () => g.fit()),
    ),
    h(
      'div',
      { class: 'gr-group gr-end' },
      btn('graph-save', t('graph.save'), (g.caseId ? t('graph.saveTitle') : t('graph.saveAskTitle')) + ' (s)', () => g.save(), { primary: true }),
      btn('graph-export-png', 'PNG', t('graph.exportPng'), () => g.exportPNG()),
      btn('graph-export-svg', 'SVG', t('graph.exportSvg'), () => g.exportSVG()),
      // The saved graph, exported by the server into its case.
      g.savedAs?.exhibit ? btn('graph-export-graphml', 'GraphML', t('graph.exportGraphml', { id: g.savedAs.exhibit }), () => g.exportSaved('graphml')) : null,
      g.savedAs?.exhibit ? btn('graph-export-gexf', 'GEXF', t('graph.exportGexf', { id: g.savedAs.exhibit }), () => g.exportSaved('gexf')) : null,
      btn('graph-help-button', '?', t('graph.help.title') + ' (?)', () => g.toggleHelp()),
    ),
  );
  replace(g.toolbar, row1, row2);
}
