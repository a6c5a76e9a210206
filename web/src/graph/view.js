// view.js turns the graph model into what Cytoscape draws and keeps the
// drawing in step with it: entities folded or grouped, hidden nodes and
// filtered edges left out, labels formatted for the locale, new nodes
// placed next to the node they came from (so that an expansion does not
// move what the investigator has arranged). It also holds the Cytoscape
// stylesheet: colours and icons by category, findings highlighted.

import { fmtAmount as fmtAmountI18n, fmtUnits as fmtUnitsI18n, fmtDate as fmtDateI18n, t, locale } from '../i18n.js';
import { COLOURS, iconURL } from './categories.js';

// Labels of thousands of edges are formatted on every redraw: the
// formatted amounts and dates are remembered per language.
const memo = new Map();
function remember(kind, v, fn) {
  const key = kind + '|' + locale() + '|' + v;
  let s = memo.get(key);
  if (s === undefined) {
    if (memo.size > 100000) memo.clear();
    s = fn(v);
    memo.set(key, s);
  }
  return s;
}
function fmtAmount(sats) {
  return remember('a', sats, (v) => fmtAmountI18n(v));
}
function fmtUnits(units, symbol) {
  return remember('u' + symbol, units, (v) => fmtUnitsI18n(v, symbol));
}
function fmtDate(iso, withTime) {
  return remember(withTime === false ? 'd' : 't', iso, (v) => fmtDateI18n(v, withTime));
}

// short abbreviates an address or a txid for a label.
export function short(ref, head = 8, tail = 6) {
  const s = String(ref);
  return s.length <= head + tail + 1 ? s : s.slice(0, head) + '…' + s.slice(-tail);
}

function clip(s, n) {
  return s.length > n ? s.slice(0, n - 1) + '…' : s;
}

// btcToSats reads a decimal BTC amount ("0.5", "12.00000001") exactly.
export function btcToSats(s) {
  const m = /^\s*(\d{1,8})(?:[.,](\d{0,8}))?\s*$/.exec(String(s || ''));
  if (!m) return null;
  return Number(BigInt(m[1]) * 100000000n + BigInt((m[2] || '').padEnd(8, '0')));
}

// dayStart and dayEnd are the UTC bounds (ms) of a YYYY-MM-DD day.
export function dayStart(d) {
  const v = d ? Date.parse(d + 'T00:00:00Z') : NaN;
  return Number.isNaN(v) ? null : v;
}
export function dayEnd(d) {
  const v = dayStart(d);
  return v === null ? null : v + 86400000 - 1;
}

// evmWidth is the width of an EVM move: by the number of whole-unit
// digits (the amount's magnitude, read from the exact string).
function evmWidth(ev) {
  const whole = String(ev.units || '0').split('.')[0].replace(/^0+/, '');
  return Math.min(8, 1.5 + whole.length * 0.6);
}

function edgeWidth(sats) {
  if (!sats) return 1;
  const l = Math.log10(sats);
  return Math.max(1, Math.min(7, 1 + (l - 5) * 1.2));
}

/**
 * computeView returns {nodes, edges, drawnOf} for Cytoscape: element
 * definitions and, per model node, the id it is drawn as (itself, or the
 * entity it is folded into; absent when not drawn).
 *   state.group: group addresses into their entities
 *   state.filters: {from, to (ms or null), min (sats or null)}
 *   state.entityInfo(id): {label, group, size} of an entity, if known
 */
export function computeView(model, state) {
  const { group, filters } = state;
  const filtering = filters.from !== null || filters.to !== null || (filters.min !== null && filters.min > 0);
  const inTime = (iso) => {
    if (!iso) return true;
    const ms = Date.parse(iso);
    if (Number.isNaN(ms)) return true;
    return (filters.from === null || ms >= filters.from) && (filters.to === null || ms <= filters.to);
  };

  // Where each model node is drawn. A grouped entity gets a box when it
  // is a node of the graph or holds two drawn addresses or more.
  const drawnOf = new Map();
  const parentOf = new Map();
  const compounds = new Map();
  const members = new Map();
  if (group) {
    for (const n of model.nodes.values()) {
      if (n.kind === 'address' && n.entity && !n.hidden) members.set(n.entity, (members.get(n.entity) || 0) + 1);
    }
  }
  for (const n of model.nodes.values()) {
    if (n.hidden) continue;
    if (n.kind === 'tx' && !inTime(n.time)) continue;
    if (n.kind !== 'address' || !n.entity) {
      drawnOf.set(n.id, n.id);
      continue;
    }
    const eid = 'e:' + n.entity;
    const ent = model.nodes.get(eid);
    if (ent?.hidden) {
      drawnOf.set(n.id, n.id);
      continue;
    }
    const info = state.entityInfo(n.entity);
    if (group && (ent || (info && info.size > 1 && members.get(n.entity) > 1))) {
      if (ent?.collapsed) {
        drawnOf.set(n.id, eid);
      } else {
        drawnOf.set(n.id, n.id);
        parentOf.set(n.id, eid);
      }
      compounds.set(eid, n.entity);
    } else if (!group && ent && n.via === n.entity) {
      drawnOf.set(n.id, eid);
    } else {
      drawnOf.set(n.id, n.id);
    }
  }
  for (const [eid] of compounds) if (!drawnOf.has(eid)) drawnOf.set(eid, eid);

  // Edges between drawn nodes, within the filters, merged where folding
  // made two the same.
  const edges = new Map();
  const degree = new Map();
  for (const e of model.edges.values()) {
    const s = drawnOf.get(e.source);
    const d = drawnOf.get(e.target);
    if (!s || !d || s === d) continue;
    if (!inTime(e.time)) continue;
    // The minimum is in bitcoin: EVM moves (another unit) are not cut.
    if (filters.min !== null && !e.evm && e.amount < filters.min) continue;
    // EVM moves are never merged (their amounts are exact strings).
    const key = e.evm ? e.id : `${e.kind}|${s}|${d}|${e.txid}`;
    let v = edges.get(key);
    if (!v) {
      v = { id: key, kind: e.kind, source: s, target: d, amount: 0, time: e.time, txid: e.txid, marks: new Set(), evm: e.evm };
      edges.set(key, v);
    }
    v.amount += e.amount;
    for (const m of e.marks) v.marks.add(m);
    degree.set(s, (degree.get(s) || 0) + 1);
    degree.set(d, (degree.get(d) || 0) + 1);
  }

  // With a filter on, nodes left without an edge are left out (the seeds
  // and grouped entities stay).
  if (filtering) {
    const parents = new Set(parentOf.values());
    for (const [id, drawn] of drawnOf) {
      if (id !== drawn) continue;
      const n = model.nodes.get(id);
      if (n?.seed || compounds.has(id) || parents.has(id) || degree.get(id)) continue;
      drawnOf.delete(id);
    }
    for (const [id, drawn] of drawnOf) if (!drawnOf.has(drawn)) drawnOf.delete(id);
  }

  const nodes = [];
  const hasChild = new Set();
  for (const [id, p] of parentOf) if (drawnOf.get(id) === id && drawnOf.has(p)) hasChild.add(p);
  for (const [id, drawn] of drawnOf) {
    if (id !== drawn) continue;
    const n = model.nodes.get(id);
    const entityRef = compounds.get(id) ?? (n?.kind === 'entity' ? n.ref : null);
    nodes.push(nodeElement(id, n, entityRef, hasChild.has(id), parentOf.get(id), state));
  }
  const edgeEls = [];
  for (const e of edges.values()) {
    if (!drawnOf.has(e.source) || !drawnOf.has(e.target)) continue;
    edgeEls.push(edgeElement(e, model));
  }
  return { nodes, edges: edgeEls, drawnOf };
}

function nodeElement(id, n, entityRef, isParent, parent, state) {
  const classes = [];
  let kind = n ? n.kind : 'entity';
  let display;
  let colour;
  let icon;
  let grp = n?.group || '';
  if (kind === 'entity') {
    const info = state.entityInfo(entityRef) || {};
    grp = grp || info.group || '';
    const name = n?.label || info.label || '';
    display = t('graph.node.entity', { id: entityRef }) + (name ? '\n' + clip(name, 34) : '');
    colour = grp && grp !== 'untagged' ? COLOURS[grp] : COLOURS.entity;
    icon = iconURL('entity');
    if (isParent) classes.push('compound');
  } else if (kind === 'tx') {
    display = short(n.ref, 8, 4) + (n.time ? '\n' + fmtDate(n.time, false) : '');
    if (n.coinjoin) display += '\n' + t('graph.node.coinjoin');
    colour = COLOURS.tx;
    icon = iconURL('tx', '#37474f');
  } else {
    grp = grp || 'untagged';
    const name = n.label || n.labels[0] || '';
    display = (name ? clip(name, 30) + '\n' : '') + short(n.ref, 8, 6);
    if (name) classes.push('labelled');
    colour = COLOURS[grp] || COLOURS.untagged;
    icon = iconURL(grp);
  }
  if (n?.note) display += ' ✎';
  if (n?.color) {
    colour = n.color;
    classes.push('custom');
  }
  classes.push('k-' + kind);
  if (grp) classes.push('g-' + grp);
  if (n) for (const m of n.marks) classes.push('m-' + m);
  if (n?.coinjoin) classes.push('m-coinjoin');
  if (grp === 'sanctioned') classes.push('m-sanctioned');
  if (n?.note) classes.push('note');
  const data = { id, kind, display, colour, icon };
  if (parent) data.parent = parent;
  return { group: 'nodes', data, classes: classes.join(' ') };
}

function edgeElement(e, model) {
  const classes = ['e-' + e.kind];
  for (const m of e.marks) classes.push('m-' + m);
  const src = model.nodes.get(e.source);
  const dst = model.nodes.get(e.target);
  if (src?.group === 'sanctioned' || dst?.group === 'sanctioned') classes.push('m-sanctioned');
  const txNode = e.txid ? model.nodes.get('t:' + e.txid) : null;
  if (txNode?.coinjoin || src?.coinjoin || dst?.coinjoin) classes.push('m-coinjoin');
  let label = e.evm ? fmtUnits(e.evm.units, e.evm.symbol) : fmtAmount(e.amount);
  if (e.kind === 'flow' && e.txid) label += '\n' + t('graph.edge.tx', { txid: short(e.txid, 8, 4) });
  const time = e.time || txNode?.time;
  if (time) label += '\n' + fmtDate(time, false);
  return {
    group: 'edges',
    data: { id: e.id, source: e.source, target: e.target, elabel: label, w: e.evm ? evmWidth(e.evm) : edgeWidth(e.amount) },
    classes: classes.join(' '),
  };
}

/**
 * syncCy makes cy draw view: removes what left, adds what came (at the
 * positions in pos), updates labels and classes. Returns the ids of the
 * nodes added.
 */
export function syncCy(cy, view, pos) {
  const added = [];
  cy.batch(() => {
    const wantN = new Map(view.nodes.map((n) => [n.data.id, n]));
    const wantE = new Map(view.edges.map((e) => [e.data.id, e]));
    cy.edges().forEach((e) => {
      if (!wantE.has(e.id())) e.remove();
    });
    const parents = new Set(view.nodes.filter((n) => n.data.parent).map((n) => n.data.parent));
    // Parents first, so that children can move into them.
    for (const id of parents) {
      const def = wantN.get(id);
      if (def && cy.getElementById(id).empty()) {
        cy.add({ ...def, position: { ...(pos.get(id) || { x: 0, y: 0 }) } });
        added.push(id);
      }
    }
    cy.nodes().forEach((el) => {
      if (el.removed()) return;
      const def = wantN.get(el.id());
      const want = def?.data.parent ?? null;
      const have = el.data('parent') ?? null;
      if (def && want !== have) el.move({ parent: want });
    });
    cy.nodes().forEach((el) => {
      if (!el.removed() && !wantN.has(el.id())) {
        el.children().move({ parent: null });
        el.remove();
      }
    });
    // Elements are touched only when what they show changed (restyling
    // thousands of elements on every redraw is what makes big graphs slow).
    const sig = (def) => JSON.stringify([def.data, def.classes]);
    for (const def of view.nodes) {
      const el = cy.getElementById(def.data.id);
      if (el.empty()) {
        cy.add({ ...def, position: { ...(pos.get(def.data.id) || { x: 0, y: 0 }) } }).scratch('_vgsig', sig(def));
        added.push(def.data.id);
      } else if (el.scratch('_vgsig') !== sig(def)) {
        el.data(def.data);
        el.classes(def.classes);
        el.scratch('_vgsig', sig(def));
      }
    }
    for (const def of view.edges) {
      const el = cy.getElementById(def.data.id);
      if (el.empty()) cy.add(def).scratch('_vgsig', sig(def));
      else if (el.scratch('_vgsig') !== sig(def)) {
        el.data(def.data);
        el.classes(def.classes);
        el.scratch('_vgsig', sig(def));
      }
    }
  });
  return added;
}

/**
 * place gives positions to new model nodes, walking the graph outward
 * from anchor: each new node goes into a column beside the node it was
 * reached from (to the right of what paid it, to the left of what it
 * paid), siblings stacked, below anything already there. Nodes already
 * placed never move.
 */
export function place(model, pos, newIds, anchorId, dir = 1, DX = 210, DY = 74) {
  const fresh = new Set(newIds.filter((id) => !pos.has(id)));
  if (!fresh.size) return;
  const adj = new Map();
  const link = (a, b, side) => {
    if (!adj.has(a)) adj.set(a, []);
    adj.get(a).push({ id: b, side });
  };
  for (const e of model.edges.values()) {
    link(e.source, e.target, 1);
    link(e.target, e.source, -1);
  }
  const taken = [...pos.values()];
  const clash = (x, y0, k) => taken.some((p) => Math.abs(p.x - x) < DX * 0.6 && p.y > y0 - DY * 0.8 && p.y < y0 + (k - 1) * DY + DY * 0.8);
  const put = (parent, side, ids) => {
    const a = pos.get(parent);
    const x = a.x + side * DX;
    let y0 = a.y - ((ids.length - 1) * DY) / 2;
    for (let i = 0; i < 400 && clash(x, y0, ids.length); i++) y0 += DY;
    ids.forEach((id, i) => {
      const p = { x, y: y0 + i * DY };
      pos.set(id, p);
      taken.push(p);
    });
  };
  if (!pos.has(anchorId)) {
    // No anchor: start from a placed neighbour of a new node, else below
    // everything.
    const start = [...fresh].find((id) => (adj.get(id) || []).some((l) => pos.has(l.id)));
    anchorId = start ? (adj.get(start) || []).find((l) => pos.has(l.id)).id : null;
    if (!anchorId) {
      const first = [...fresh][0];
      pos.set(first, firstFree(pos));
      taken.push(pos.get(first));
      anchorId = first;
    }
  }
  const seen = new Set([anchorId]);
  let level = [anchorId];
  while (level.length) {
    const next = [];
    for (const id of level) {
      const groups = { 1: [], '-1': [] };
      for (const l of adj.get(id) || []) {
        if (seen.has(l.id)) continue;
        seen.add(l.id);
        next.push(l.id);
        if (fresh.has(l.id) && !pos.has(l.id)) groups[l.side].push(l.id);
      }
      if (groups[1].length) put(id, 1, groups[1]);
      if (groups[-1].length) put(id, -1, groups[-1]);
    }
    level = next;
  }
  // New nodes joined to nothing placed: a column beside the anchor.
  const rest = [...fresh].filter((id) => !pos.has(id));
  if (rest.length) put(anchorId, dir, rest);
}

/**
 * layered lays big graphs out left to right in linear time (dagre's
 * crossing reduction takes minutes on thousands of nodes): each node's
 * column is the longest chain of payments leading to it, nodes in a
 * column are ordered by the rows of what paid them. Returns id → {x, y}.
 */
export function layered(nodeIds, edges, DX = 210, DY = 60) {
  const ids = [...nodeIds];
  const index = new Map(ids.map((id, i) => [id, i]));
  const out = ids.map(() => []);
  const inc = ids.map(() => []);
  for (const e of edges) {
    const a = index.get(e.source);
    const b = index.get(e.target);
    if (a === undefined || b === undefined || a === b) continue;
    out[a].push(b);
    inc[b].push(a);
  }
  // Ranks along a topological order (Kahn); what cycles leave unranked
  // takes the column after its ranked predecessors.
  const rank = new Array(ids.length).fill(-1);
  const indeg = inc.map((l) => l.length);
  const queue = [];
  indeg.forEach((d, i) => {
    if (d === 0) {
      queue.push(i);
      rank[i] = 0;
    }
  });
  for (let q = 0; q < queue.length; q++) {
    const u = queue[q];
    for (const v of out[u]) {
      rank[v] = Math.max(rank[v], rank[u] + 1);
      if (--indeg[v] === 0) queue.push(v);
    }
  }
  let left = rank.filter((r) => r < 0).length;
  while (left > 0) {
    let progressed = false;
    for (let i = 0; i < ids.length; i++) {
      if (rank[i] >= 0) continue;
      let r = -1;
      for (const p of inc[i]) if (rank[p] >= 0) r = Math.max(r, rank[p] + 1);
      if (r >= 0) {
        rank[i] = r;
        left--;
        progressed = true;
      }
    }
    if (!progressed) {
      rank[rank.indexOf(-1)] = 0;
      left--;
    }
  }
  const columns = new Map();
  ids.forEach((_, i) => {
    const r = Math.max(0, rank[i]);
    if (!columns.has(r)) columns.set(r, []);
    columns.get(r).push(i);
  });
  const row = new Array(ids.length).fill(0);
  const pos = new Map();
  for (const r of [...columns.keys()].sort((a, b) => a - b)) {
    const col = columns.get(r);
    const bary = (i) => (inc[i].length ? inc[i].reduce((s, p) => s + row[p], 0) / inc[i].length : row[i]);
    col.sort((a, b) => bary(a) - bary(b));
    col.forEach((i, k) => {
      row[i] = k;
      pos.set(ids[i], { x: r * DX, y: (k - (col.length - 1) / 2) * DY });
    });
  }
  return pos;
}

function firstFree(pos) {
  let maxY = 0;
  let any = false;
  for (const p of pos.values()) {
    any = true;
    maxY = Math.max(maxY, p.y);
  }
  return { x: 0, y: any ? maxY + 120 : 0 };
}

// STYLE is the Cytoscape stylesheet.
export function stylesheet() {
  return [
    {
      selector: 'node',
      style: {
        width: 34,
        height: 34,
        shape: 'ellipse',
        'background-color': 'data(colour)',
        'background-image': 'data(icon)',
        'background-width': '62%',
        'background-height': '62%',
        'background-clip': 'none',
        'border-width': 1.5,
        'border-color': '#37474f',
        label: 'data(display)',
        'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
        'font-size': 10,
        color: '#1f2a30',
        'text-valign': 'bottom',
        'text-halign': 'center',
        'text-margin-y': 4,
        'text-wrap': 'wrap',
        'text-max-width': 170,
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.85,
        'text-background-padding': 1,
        'min-zoomed-font-size': 6,
      },
    },
    { selector: 'node.labelled', style: { 'font-size': 12, 'font-weight': 600, 'min-zoomed-font-size': 5 } },
    { selector: 'node.k-tx', style: { shape: 'round-rectangle', width: 30, height: 22, 'border-color': '#78909c', 'font-size': 9, color: '#37474f' } },
    { selector: 'node.k-entity', style: { shape: 'round-hexagon', width: 42, height: 38 } },
    {
      selector: 'node.compound',
      style: {
        shape: 'round-rectangle',
        'background-opacity': 0.07,
        'background-image': 'none',
        'border-style': 'dashed',
        'border-width': 1.5,
        'border-color': 'data(colour)',
        'text-valign': 'top',
        'text-margin-y': -3,
        padding: 14,
        'font-weight': 'bold',
      },
    },
    { selector: 'node.custom', style: { 'border-color': '#263238', 'border-width': 2.5 } },
    { selector: 'node.note', style: { 'font-style': 'italic' } },
    { selector: 'node.m-coinjoin', style: { 'border-color': '#6a1b9a', 'border-style': 'dashed', 'border-width': 3, 'background-color': '#f3e5f5' } },
    { selector: 'node.m-peel', style: { 'border-color': '#ef6c00', 'border-width': 4 } },
    { selector: 'node.m-path', style: { 'border-color': '#0277bd', 'border-width': 4 } },
    { selector: 'node.m-source', style: { 'border-color': '#1b5e20', 'border-width': 4 } },
    { selector: 'node.m-dest', style: { 'border-color': '#111111', 'border-width': 4 } },
    { selector: 'node.m-stop', style: { 'border-color': '#111111', 'border-width': 6, 'border-style': 'double' } },
    { selector: 'node.m-sanctioned', style: { 'border-color': '#b71c1c', 'border-width': 5, 'border-style': 'solid' } },
    {
      selector: 'node:selected',
      style: { 'overlay-color': '#1976d2', 'overlay-opacity': 0.18, 'overlay-padding': 7, 'border-color': '#0d47a1' },
    },
    { selector: 'node.compound:selected', style: { 'overlay-opacity': 0.05, 'border-width': 3, 'border-style': 'solid', 'border-color': '#0d47a1' } },
    {
      selector: 'edge',
      style: {
        width: 'data(w)',
        'curve-style': 'bezier',
        'line-color': '#9aa9b1',
        'target-arrow-color': '#9aa9b1',
        'target-arrow-shape': 'triangle',
        'arrow-scale': 0.9,
        label: 'data(elabel)',
        'font-size': 8,
        'font-family': 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
        color: '#37474f',
        'text-wrap': 'wrap',
        'text-background-color': '#ffffff',
        'text-background-opacity': 0.9,
        'text-background-padding': 1,
        'min-zoomed-font-size': 7,
      },
    },
    { selector: 'edge.e-flow', style: { 'line-color': '#607d8b', 'target-arrow-color': '#607d8b' } },
    { selector: 'edge.m-trace', style: { 'line-color': '#5c6bc0', 'target-arrow-color': '#5c6bc0' } },
    { selector: 'edge.m-peel', style: { 'line-color': '#ef6c00', 'target-arrow-color': '#ef6c00' } },
    { selector: 'edge.m-coinjoin', style: { 'line-style': 'dashed', 'line-color': '#8e24aa', 'target-arrow-color': '#8e24aa' } },
    { selector: 'edge.m-path', style: { 'line-color': '#0277bd', 'target-arrow-color': '#0277bd', 'z-index': 10 } },
    { selector: 'edge.m-sanctioned', style: { 'line-color': '#c62828', 'target-arrow-color': '#c62828' } },
    { selector: 'edge:selected', style: { 'overlay-color': '#1976d2', 'overlay-opacity': 0.15 } },
  ];
}
