// document.js writes the graph as a saved-graph document and reads one
// back. The document is evidence kept in a case as an exhibit
// (media type application/vnd.vestigo.graph+json), so it is versioned and
// self-describing:
//
//   {format: "vestigo-graph", version: 1, created, case, group,
//    nodes: [{id, kind, ref, network, label, labels, category, group,
//             entity, time, coinjoin, seed, origin, via, note, color,
//             hidden, collapsed, marks, x, y}],
//    edges: [{id, kind, source, target, amount, time, txid, hop, marks,
//             evm?: {asset, symbol, decimals, amount, units}}],
//    filters: {from, to, min}, trace: {...} | null}
//
// A document read from the server is untrusted input: readDocument checks
// every field's type, size and shape and refuses the whole document when
// one is wrong, naming what is wrong.
//
// Addresses of EVM chains are address nodes with ref 0x + 40 hex digits
// and network "evm-<chain id>" (each requires the other); their edges are
// flows between two addresses of the same chain with the transaction's
// 0x hash and an evm record whose amount is exact (base units as a string
// of digits, units the same in whole units of decimals); a trace from a
// 0x address keeps its chain id, the asset's symbol and amounts as units.

import { KINDS, EDGE_KINDS, MARKS, nodeId, edgeId, baseToUnits } from './model.js';

export const FORMAT = 'vestigo-graph';
export const VERSION = 1;
export const MEDIA_TYPE = 'application/vnd.vestigo.graph+json';

// Limits of a document.
export const LIMITS = { bytes: 16 << 20, nodes: 5000, edges: 20000, note: 4000, label: 500, labels: 50, dests: 2000 };

const RE = {
  address: /^[A-Za-z0-9_-]{1,130}$/,
  tx: /^[0-9a-f]{64}$/,
  entity: /^[0-9]{1,18}$/,
  network: /^(|mainnet|testnet|testnet4|signet|regtest|evm-[1-9][0-9]{0,18})$/,
  evmAddress: /^0x[0-9a-fA-F]{40}$/,
  evmTx: /^0x[0-9a-f]{64}$/,
  base: /^(0|[1-9][0-9]{0,79})$/,
  units: /^(0|[1-9][0-9]{0,79})(\.[0-9]{0,254}[1-9])?$/,
  color: /^(|#[0-9a-fA-F]{6})$/,
  date: /^(|\d{4}-\d{2}-\d{2})$/,
  time: /^(|\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2}))$/,
  btc: /^(|\d{1,8}(\.\d{0,8})?)$/,
  concept: /^[a-z0-9_]{0,64}$/,
};

// writeDocument makes the document of the model with node positions
// (pos: Map id → {x, y}) and the view's state.
export function writeDocument(model, { pos, filters, group, caseId, trace, now = new Date() }) {
  const nodes = [];
  for (const n of model.nodes.values()) {
    const p = pos.get(n.id) || { x: 0, y: 0 };
    nodes.push({
      id: n.id,
      kind: n.kind,
      ref: n.ref,
      network: n.network,
      label: n.label,
      labels: n.labels,
      category: n.category,
      group: n.group,
      entity: n.entity ? String(n.entity) : '',
      time: n.time,
      coinjoin: n.coinjoin,
      seed: n.seed,
      origin: n.origin || '',
      via: n.via ? String(n.via) : '',
      note: n.note,
      color: n.color,
      hidden: n.hidden,
      collapsed: n.collapsed,
      marks: [...n.marks],
      x: Math.round(p.x * 10) / 10,
      y: Math.round(p.y * 10) / 10,
    });
  }
  const edges = [];
  for (const e of model.edges.values()) {
    const rec = { id: e.id, kind: e.kind, source: e.source, target: e.target, amount: e.amount, time: e.time, txid: e.txid, hop: e.hop, marks: [...e.marks] };
    if (e.evm) rec.evm = { asset: e.evm.asset, symbol: e.evm.symbol, decimals: e.evm.decimals, amount: e.evm.amount, units: e.evm.units };
    edges.push(rec);
  }
  return {
    format: FORMAT,
    version: VERSION,
    created: now.toISOString(),
    case: caseId || null,
    group: !!group,
    filters: { from: filters.from || '', to: filters.to || '', min: filters.min || '' },
    nodes,
    edges,
    trace: trace || null,
  };
}

// DocumentError is a refused document, with the reason.
export class DocumentError extends Error {}

function fail(msg) {
  throw new DocumentError(msg);
}

function isObj(v) {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function str(v, where, max, re) {
  if (typeof v !== 'string') fail(`${where}: not a string`);
  if (v.length > max) fail(`${where}: longer than ${max} characters`);
  if (re && !re.test(v)) fail(`${where}: malformed`);
  return v;
}

function bool(v, where) {
  if (typeof v !== 'boolean') fail(`${where}: not true or false`);
  return v;
}

function int(v, where, max = Number.MAX_SAFE_INTEGER) {
  if (!Number.isSafeInteger(v) || v < 0 || v > max) fail(`${where}: not a whole number from 0 to ${max}`);
  return v;
}

function coord(v, where) {
  if (typeof v !== 'number' || !Number.isFinite(v) || Math.abs(v) > 1e7) fail(`${where}: not a coordinate`);
  return v;
}

function marks(v, where) {
  if (!Array.isArray(v) || v.length > MARKS.length) fail(`${where}: not a list of marks`);
  for (const m of v) if (!MARKS.includes(m)) fail(`${where}: unknown mark`);
  return v;
}

function onlyKeys(o, keys, where) {
  for (const k of Object.keys(o)) if (!keys.includes(k)) fail(`${where}: unknown field ${JSON.stringify(k.slice(0, 40))}`);
}

const NODE_KEYS = ['id', 'kind', 'ref', 'network', 'label', 'labels', 'category', 'group', 'entity', 'time', 'coinjoin', 'seed', 'origin', 'via', 'note', 'color', 'hidden', 'collapsed', 'marks', 'x', 'y'];
const EDGE_KEYS = ['id', 'kind', 'source', 'target', 'amount', 'time', 'txid', 'hop', 'marks', 'evm'];
const DOC_KEYS = ['format', 'version', 'created', 'case', 'group', 'filters', 'nodes', 'edges', 'trace'];
const GROUP_RE = /^(|sanctioned|abuse|mixer|darknet|gambling|exchange|defi|service|tagged|untagged)$/;

// readDocument parses and checks a saved graph (text) and returns
// {nodes, edges, filters, group, trace, created}: plain checked records.
export function readDocument(text) {
  if (typeof text !== 'string') fail('not text');
  if (text.length > LIMITS.bytes) fail('larger than the limit of a saved graph');
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    fail('not JSON');
  }
  if (!isObj(doc)) fail('not a JSON object');
  if (doc.format !== FORMAT) fail('not a Vestigo graph (format)');
  if (doc.version !== VERSION) fail(`version ${String(doc.version).slice(0, 10)} is not supported (expected ${VERSION})`);
  onlyKeys(doc, DOC_KEYS, 'document');
  str(doc.created, 'created', 40, RE.time);
  if (doc.case !== null && doc.case !== undefined) int(doc.case, 'case');
  const group = doc.group === undefined ? false : bool(doc.group, 'group');
  const filters = { from: '', to: '', min: '' };
  if (doc.filters !== undefined) {
    if (!isObj(doc.filters)) fail('filters: not an object');
    onlyKeys(doc.filters, ['from', 'to', 'min'], 'filters');
    filters.from = str(doc.filters.from ?? '', 'filters.from', 10, RE.date);
    filters.to = str(doc.filters.to ?? '', 'filters.to', 10, RE.date);
    filters.min = str(doc.filters.min ?? '', 'filters.min', 20, RE.btc);
  }
  if (!Array.isArray(doc.nodes)) fail('nodes: not a list');
  if (!Array.isArray(doc.edges)) fail('edges: not a list');
  if (doc.nodes.length > LIMITS.nodes) fail(`more than ${LIMITS.nodes} nodes`);
  if (doc.edges.length > LIMITS.edges) fail(`more than ${LIMITS.edges} edges`);
  const ids = new Set();
  const networkOf = new Map();
  const nodes = doc.nodes.map((n, i) => {
    const w = `node ${i + 1}`;
    if (!isObj(n)) fail(`${w}: not an object`);
    onlyKeys(n, NODE_KEYS, w);
    if (!KINDS.includes(n.kind)) fail(`${w}: unknown kind`);
    const ref = str(n.ref, `${w}.ref`, 130, RE[n.kind]);
    const network = str(n.network ?? '', `${w}.network`, 23, RE.network);
    const evm = network.startsWith('evm-');
    if (evm && (n.kind !== 'address' || !RE.evmAddress.test(ref))) fail(`${w}: a node of an EVM chain is a 0x address`);
    if (!evm && /^0x/i.test(ref)) fail(`${w}: a 0x address needs its EVM chain (network evm-<chain id>)`);
    const id = str(n.id, `${w}.id`, 140);
    if (id !== nodeId(n.kind, ref)) fail(`${w}: id does not match its kind and ref`);
    if (ids.has(id)) fail(`${w}: duplicate id`);
    ids.add(id);
    networkOf.set(id, network);
    const labels = n.labels ?? [];
    if (!Array.isArray(labels) || labels.length > LIMITS.labels) fail(`${w}.labels: not a list of at most ${LIMITS.labels}`);
    labels.forEach((l, j) => str(l, `${w}.labels[${j}]`, LIMITS.label));
    return {
      kind: n.kind,
      ref,
      network,
      label: str(n.label ?? '', `${w}.label`, LIMITS.label),
      labels,
      category: str(n.category ?? '', `${w}.category`, 64, RE.concept),
      group: str(n.group ?? '', `${w}.group`, 20, GROUP_RE),
      entity: str(n.entity ?? '', `${w}.entity`, 18, /^[0-9]{0,18}$/),
      time: str(n.time ?? '', `${w}.time`, 40, RE.time),
      coinjoin: bool(n.coinjoin ?? false, `${w}.coinjoin`),
      seed: bool(n.seed ?? false, `${w}.seed`),
      origin: str(n.origin ?? '', `${w}.origin`, 140),
      via: str(n.via ?? '', `${w}.via`, 18, /^[0-9]{0,18}$/),
      note: str(n.note ?? '', `${w}.note`, LIMITS.note),
      color: str(n.color ?? '', `${w}.color`, 7, RE.color),
      hidden: bool(n.hidden ?? false, `${w}.hidden`),
      collapsed: bool(n.collapsed ?? false, `${w}.collapsed`),
      marks: marks(n.marks ?? [], `${w}.marks`),
      x: coord(n.x ?? 0, `${w}.x`),
      y: coord(n.y ?? 0, `${w}.y`),
    };
  });
  for (const n of nodes) if (n.origin && !ids.has(n.origin)) n.origin = '';
  const eids = new Set();
  const edges = doc.edges.map((e, i) => {
    const w = `edge ${i + 1}`;
    if (!isObj(e)) fail(`${w}: not an object`);
    onlyKeys(e, EDGE_KEYS, w);
    if (!EDGE_KINDS.includes(e.kind)) fail(`${w}: unknown kind`);
    const source = str(e.source, `${w}.source`, 140);
    const target = str(e.target, `${w}.target`, 140);
    if (!ids.has(source) || !ids.has(target)) fail(`${w}: joins a node the document lacks`);
    const net = networkOf.get(source);
    const evmEdge = net.startsWith('evm-');
    if (evmEdge !== networkOf.get(target).startsWith('evm-') || (evmEdge && net !== networkOf.get(target))) fail(`${w}: joins nodes of different chains`);
    const txid = str(e.txid ?? '', `${w}.txid`, 66, evmEdge ? /^(|0x[0-9a-f]{64})$/ : /^(|[0-9a-f]{64})$/);
    if (evmEdge !== (e.evm !== undefined)) fail(`${w}: ${evmEdge ? 'an EVM edge lacks its asset and amount' : 'only an edge between EVM addresses has an EVM amount'}`);
    if (evmEdge && e.kind !== 'flow') fail(`${w}: an EVM edge is a flow`);
    const rec = {
      kind: e.kind,
      source,
      target,
      amount: int(e.amount ?? 0, `${w}.amount`),
      time: str(e.time ?? '', `${w}.time`, 40, RE.time),
      txid,
      hop: int(e.hop ?? 0, `${w}.hop`, 1000),
      marks: marks(e.marks ?? [], `${w}.marks`),
    };
    if (evmEdge) {
      if (rec.amount !== 0) fail(`${w}.amount: an EVM edge's amount is in its evm record`);
      rec.evm = evmAmount(e.evm, `${w}.evm`);
    }
    const id = str(e.id, `${w}.id`, 400);
    if (id !== edgeId(rec)) fail(`${w}: id does not match the edge`);
    if (eids.has(id)) fail(`${w}: duplicate id`);
    eids.add(id);
    rec.id = id;
    return rec;
  });
  const trace = doc.trace === undefined || doc.trace === null ? null : readTrace(doc.trace);
  return { nodes, edges, filters, group, trace, created: doc.created };
}

// evmAmount checks an EVM edge's asset and exact amount.
function evmAmount(v, where) {
  if (!isObj(v)) fail(`${where}: not an object`);
  onlyKeys(v, ['asset', 'symbol', 'decimals', 'amount', 'units'], where);
  const rec = {
    asset: int(v.asset, `${where}.asset`, 0xffffffff),
    symbol: str(v.symbol ?? '', `${where}.symbol`, 64),
    decimals: int(v.decimals, `${where}.decimals`, 255),
    amount: str(v.amount, `${where}.amount`, 80, RE.base),
    units: str(v.units, `${where}.units`, 336, RE.units),
  };
  if (baseToUnits(rec.amount, rec.decimals) !== rec.units) fail(`${where}: units do not match the amount and decimals`);
  return rec;
}

// readTrace checks the trace summary kept with a graph (the results panel).
function readTrace(t) {
  if (!isObj(t)) fail('trace: not an object');
  onlyKeys(t, ['from', 'direction', 'model', 'hops', 'source', 'txs_read', 'summarised', 'destinations', 'chain_id', 'symbol', 'source_units'], 'trace');
  const chainId = t.chain_id === undefined ? 0 : int(t.chain_id, 'trace.chain_id');
  const out = {
    from: str(t.from ?? '', 'trace.from', 200),
    direction: str(t.direction ?? '', 'trace.direction', 10, /^(forward|backward)$/),
    model: str(t.model ?? '', 'trace.model', 10, /^(haircut|fifo|poison)$/),
    hops: int(t.hops ?? 0, 'trace.hops', 1000),
    source: int(t.source ?? 0, 'trace.source'),
    txs_read: int(t.txs_read ?? 0, 'trace.txs_read'),
    summarised: bool(t.summarised ?? false, 'trace.summarised'),
    destinations: [],
  };
  if (chainId) {
    if (!RE.evmAddress.test(out.from)) fail('trace.from: an EVM trace starts at a 0x address');
    if (out.source !== 0) fail('trace.source: an EVM trace keeps its amounts as units');
    out.chain_id = chainId;
    out.symbol = str(t.symbol ?? '', 'trace.symbol', 64);
    out.source_units = str(t.source_units ?? '0', 'trace.source_units', 336, RE.units);
  } else if (t.symbol !== undefined || t.source_units !== undefined) fail('trace: symbol and source_units are for EVM traces');
  if (!Array.isArray(t.destinations) || t.destinations.length > LIMITS.dests) fail('trace.destinations: not a list');
  out.destinations = t.destinations.map((d, i) => {
    const w = `trace.destinations[${i}]`;
    if (!isObj(d)) fail(`${w}: not an object`);
    onlyKeys(d, ['address', 'labels', 'category', 'amount', 'share', 'hops', 'reason', 'stopped', 'units'], w);
    if (chainId && (!RE.evmAddress.test(String(d.address)) || d.amount !== 0 || typeof d.units !== 'string')) fail(`${w}: an EVM destination is a 0x address with its amount as units`);
    if (!chainId && d.units !== undefined) fail(`${w}: units are for EVM traces`);
    const labels = d.labels ?? [];
    if (!Array.isArray(labels) || labels.length > LIMITS.labels) fail(`${w}.labels: not a list`);
    labels.forEach((l, j) => str(l, `${w}.labels[${j}]`, LIMITS.label));
    if (typeof d.share !== 'number' || !(d.share >= 0 && d.share <= 1)) fail(`${w}.share: not a share`);
    const rec = {
      address: str(d.address, `${w}.address`, 130, RE.address),
      labels,
      category: str(d.category ?? '', `${w}.category`, 64, RE.concept),
      amount: int(d.amount ?? 0, `${w}.amount`),
      share: d.share,
      hops: int(d.hops ?? 0, `${w}.hops`, 1000),
      reason: str(d.reason ?? '', `${w}.reason`, 40, /^[a-z0-9_-]*$/),
      stopped: bool(d.stopped ?? false, `${w}.stopped`),
    };
    if (chainId) rec.units = str(d.units, `${w}.units`, 336, RE.units);
    return rec;
  });
  return out;
}
