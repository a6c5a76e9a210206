// model.js is the fund-flow graph as data, independent of its drawing:
// nodes (addresses, transactions, entities) and edges (an address paying
// into a transaction, a transaction paying an address, and address →
// address flows found by a trace or a path search), each with what the
// investigator added (notes, colours, hidden) and where it came from (the
// node it was expanded from). Addresses of EVM chains are address nodes
// too (ref 0x…, network "evm-<chain id>"); their edges carry an evm record
// {asset, symbol, decimals, amount, units} with the exact amount. Cytoscape draws a view computed from it
// (view.js); a saved graph is this model written as a versioned document
// (document.js).

// nodeId makes the id of a node of kind with ref.
export function nodeId(kind, ref) {
  return (kind === 'tx' ? 't:' : kind === 'entity' ? 'e:' : 'a:') + ref;
}

// KINDS of nodes and EDGE_KINDS of edges.
export const KINDS = ['address', 'tx', 'entity'];
export const EDGE_KINDS = ['in', 'out', 'flow'];

// MARKS a node or an edge may carry (findings and results).
export const MARKS = ['dest', 'stop', 'source', 'peel', 'path', 'trace', 'coinjoin', 'sanctioned'];

/** GraphModel holds the nodes and edges and tells listeners of changes. */
export class GraphModel {
  constructor() {
    this.nodes = new Map();
    this.edges = new Map();
    this.version = 0;
  }

  // addNode adds a node (or merges facts into an existing one) and
  // returns it with a flag saying whether it is new.
  addNode(n) {
    const id = nodeId(n.kind, n.ref);
    let node = this.nodes.get(id);
    if (node) {
      for (const k of ['network', 'time', 'label', 'category', 'group']) if (!node[k] && n[k]) node[k] = n[k];
      if (n.labels?.length && !node.labels.length) node.labels = n.labels.slice();
      if (n.entity && !node.entity) node.entity = n.entity;
      if (n.coinjoin) node.coinjoin = true;
      if (n.seed) node.seed = true;
      if (n.via && !node.via) node.via = n.via;
      this.version++;
      return { node, added: false };
    }
    node = {
      id,
      kind: n.kind,
      ref: String(n.ref),
      network: n.network || '',
      label: n.label || '',
      labels: n.labels ? n.labels.slice() : [],
      category: n.category || '',
      group: n.group || '',
      entity: n.entity || null,
      time: n.time || '',
      coinjoin: !!n.coinjoin,
      seed: !!n.seed,
      origin: n.origin || null,
      via: n.via || null,
      note: n.note || '',
      color: n.color || '',
      hidden: !!n.hidden,
      collapsed: !!n.collapsed,
      marks: new Set(n.marks || []),
      order: this.nodes.size,
    };
    this.nodes.set(id, node);
    this.version++;
    return { node, added: true };
  }

  // addEdge adds an edge; an existing one with the same id keeps its
  // amount unless the new one says more (a trace and an expansion can
  // draw the same payment).
  addEdge(e) {
    const id = e.id || edgeId(e);
    let edge = this.edges.get(id);
    if (edge) {
      for (const m of e.marks || []) edge.marks.add(m);
      if (!edge.time && e.time) edge.time = e.time;
      this.version++;
      return { edge, added: false };
    }
    if (!this.nodes.has(e.source) || !this.nodes.has(e.target)) return { edge: null, added: false };
    edge = {
      id,
      kind: e.kind,
      source: e.source,
      target: e.target,
      amount: Number(e.amount) || 0,
      time: e.time || '',
      txid: e.txid || '',
      hop: e.hop || 0,
      origin: e.origin || null,
      marks: new Set(e.marks || []),
    };
    // An EVM move keeps its asset and its exact amount (a decimal string
    // of base units and of whole units): amount stays 0, satoshis only.
    if (e.evm) edge.evm = { ...e.evm };
    this.edges.set(id, edge);
    this.version++;
    return { edge, added: true };
  }

  // removeNode deletes a node and its edges.
  removeNode(id) {
    if (!this.nodes.delete(id)) return false;
    for (const [eid, e] of this.edges) if (e.source === id || e.target === id) this.edges.delete(eid);
    for (const n of this.nodes.values()) {
      if (n.origin === id) n.origin = null;
    }
    this.version++;
    return true;
  }

  // edgesOf lists the edges touching a node.
  edgesOf(id) {
    const out = [];
    for (const e of this.edges.values()) if (e.source === id || e.target === id) out.push(e);
    return out;
  }

  // neighbours lists the ids of the nodes an edge joins to id.
  neighbours(id) {
    const s = new Set();
    for (const e of this.edges.values()) {
      if (e.source === id) s.add(e.target);
      else if (e.target === id) s.add(e.source);
    }
    return s;
  }

  // collapsible returns the nodes a collapse of id removes: those expanded
  // from it (not seeds) that join nothing but id and each other.
  collapsible(id) {
    const set = new Set();
    for (const n of this.nodes.values()) if (n.origin === id && !n.seed && n.id !== id) set.add(n.id);
    let changed = true;
    while (changed) {
      changed = false;
      for (const nid of set) {
        for (const m of this.neighbours(nid)) {
          if (m !== id && !set.has(m)) {
            set.delete(nid);
            changed = true;
            break;
          }
        }
      }
    }
    return [...set];
  }

  // clearMarks removes a mark from every node and edge.
  clearMarks(...marks) {
    for (const n of this.nodes.values()) for (const m of marks) n.marks.delete(m);
    for (const e of this.edges.values()) for (const m of marks) e.marks.delete(m);
    this.version++;
  }

  // touch records a change made directly to a node or an edge.
  touch() {
    this.version++;
  }
}

// edgeId is the id of an edge: its kind, ends and transaction.
// An EVM move adds its asset (one transaction may move several assets
// between the same two addresses).
export function edgeId(e) {
  const base = `${e.kind}|${e.source}|${e.target}|${e.txid || ''}`;
  return e.evm ? `${base}|${e.evm.asset}` : base;
}

// baseToUnits turns base units (a string of digits) into whole units of
// decimals, exactly, without trailing zeros ("1500000", 6 → "1.5").
export function baseToUnits(base, decimals) {
  const s = String(base ?? '');
  if (!/^\d+$/.test(s)) return '';
  const d = Number(decimals) || 0;
  if (d === 0) return s.replace(/^0+(?=\d)/, '');
  const padded = s.padStart(d + 1, '0');
  const whole = padded.slice(0, -d).replace(/^0+(?=\d)/, '');
  const frac = padded.slice(-d).replace(/0+$/, '');
  return frac ? whole + '.' + frac : whole;
}
