// graph.js is the fund-flow graph of the workspace: Cytoscape.js drawing
// addresses, transactions and entities left to right (sources on the
// left, destinations on the right), with expansion page by page, traces
// streamed from the server with their progress (and a Cancel), path
// searches, findings (CoinJoins, peel chains, sanctioned links), notes and
// colours on nodes, filters, saving into a case as an exhibit and export
// as PNG or SVG, and (once saved into a case) of the saved graph as
// GraphML or GEXF, recorded as exhibits of the case.
//
//   mountGraph(container, {seeds, caseId, exhibitId, navigate}) → {destroy()}
//
// The canvas is not accessible by itself, so every node is also listed in
// the node list, which selects nodes by click or keyboard; every action is
// a button as well as a shortcut.

import cytoscape from 'cytoscape';
import dagre from 'cytoscape-dagre';
import svgExport from 'cytoscape-svg';
import { h, replace, clear, download } from '../dom.js';
import { seg, stream, get, upload, ApiError } from '../api.js';
import { recordExport } from '../cases/exports.js';
import { t, fmtDate, fmtNumber, locale, onLocaleChange } from '../i18n.js';
import { GraphModel, baseToUnits } from './model.js';
import { Loader, PAGE } from './loader.js';
import { computeView, syncCy, place, layered, stylesheet, btcToSats, dayStart, dayEnd } from './view.js';
import { summariseTags, groupOf } from './categories.js';
import { writeDocument, readDocument, MEDIA_TYPE, LIMITS, DocumentError } from './document.js';
import { renderNodeList, renderPanel, renderResults, renderFindings, renderLegend, renderHelp, pickCase, hopsText } from './panels.js';
import { renderToolbar } from './toolbar.js';
import './graph.css';

// isEVM tells a 0x address or transaction hash (of an EVM chain).
const isEVM = (s) => /^0x[0-9a-fA-F]+$/.test(String(s || ''));
// chainOf is the chain id of an "evm-N" network ('' for any other).
const chainOf = (network) => (/^evm-([1-9]\d{0,18})$/.exec(network || '') || [])[1] || '';
const RE_UNITS = /^(0|[1-9]\d{0,79})(\.\d{0,254}[1-9])?$/;

// evmOf is an edge's EVM record: the asset and the exact amount (base
// units, and whole units made from them digit by digit).
function evmOf(asset, amount) {
  const dec = Math.min(255, Number(asset?.decimals) || 0);
  const base = /^\d{1,80}$/.test(String(amount ?? '')) ? String(amount).replace(/^0+(?=\d)/, '') : '0';
  return { asset: Number(asset?.id) || 0, symbol: String(asset?.symbol || '').slice(0, 64), decimals: dec, amount: base, units: baseToUnits(base, dec) };
}

let registered = false;
function register() {
  if (registered) return;
  cytoscape.use(dagre);
  cytoscape.use(svgExport);
  registered = true;
}

// Cytoscape puts an inline <style> into the page unless an element with
// this id exists; the strict Content-Security-Policy refuses inline
// styles, so the placeholder is made first and graph.css holds the rule.
const CY_STYLESHEET_ID = '__________cytoscape_stylesheet';

const TRACE_EDGE_LIMIT = 400;
// BIG_CHANGE new nodes or more are laid out with the whole graph.
const BIG_CHANGE = 60;
const COINJOIN_CHECKS = 120;
// SCREEN_BATCH addresses are screened per request.
const SCREEN_BATCH = 500;
// Beyond DAGRE_LIMIT drawn nodes the layout is the linear-time layered
// one (dagre's crossing reduction is far too slow there).
const DAGRE_LIMIT = 250;

/**
 * mountGraph draws the graph in container and returns {destroy()}.
 *   seeds: [{kind: 'address'|'tx'|'entity', ref}] drawn first
 *   caseId: the case the graph belongs to ("Save" saves into it)
 *   exhibitId: a saved graph of that case to open instead of seeds
 *   navigate(path): opens a workspace page (/address/A, /tx/T, /entity/ID)
 */
export function mountGraph(container, { seeds = [], caseId = null, exhibitId = null, navigate = () => {} } = {}) {
  register();
  const g = new Graph(container, { seeds, caseId, exhibitId, navigate });
  g.start();
  return { destroy: () => g.destroy() };
}

class Graph {
  constructor(container, opts) {
    this.container = container;
    this.opts = opts;
    this.caseId = opts.caseId ? Number(opts.caseId) : null;
    this.model = new GraphModel();
    this.loader = new Loader();
    this.pos = new Map();
    this.pages = new Map();
    this.entityInfo = new Map();
    this.addrInfo = new Map();
    this.tagsDone = new Set();
    this.tagDetails = new Map();
    this.patternsDone = new Set();
    this.peels = [];
    this.coinjoinTxids = new Set();
    this.group = false;
    this.filters = { from: '', to: '', min: '' };
    this.traceOpts = { hops: 6, model: 'haircut', asset: '' };
    this.pathTo = '';
    this.selected = null;
    this.trace = null; // the last trace's summary
    this.paths = null; // the last path search
    this.running = null; // {close(), progress} of a trace in progress
    this.busy = 0;
    this.destroyed = false;
    this.listFilter = '';
    this.refreshQueued = false;
  }

  // --- set-up ------------------------------------------------------------

  start() {
    if (!document.getElementById(CY_STYLESHEET_ID)) {
      document.head.append(h('meta', { id: CY_STYLESHEET_ID, name: 'vestigo-cytoscape-style', content: 'in graph.css' }));
    }
    this.root = h('div', { class: 'gr-root', dataset: { testid: 'graph' } });
    this.toolbar = h('div', { class: 'gr-toolbar', attrs: { role: 'toolbar' } });
    this.left = h('aside', { class: 'gr-left' });
    this.right = h('aside', { class: 'gr-right' });
    this.cyBox = h('div', { class: 'gr-cy' });
    this.canvas = h('div', { class: 'gr-canvas', tabIndex: 0, dataset: { testid: 'graph-canvas' }, attrs: { role: 'application', 'aria-roledescription': 'graph' } }, this.cyBox);
    this.progressBox = h('div', { class: 'gr-progress', hidden: true, dataset: { testid: 'graph-progress' }, attrs: { role: 'group' } });
    this.statusBox = h('div', { class: 'gr-status', attrs: { role: 'status', 'aria-live': 'polite' } });
    this.tip = h('div', { class: 'gr-tip', hidden: true });
    this.helpBox = h('div', { class: 'gr-help', hidden: true, dataset: { testid: 'graph-help' } });
    this.emptyBox = h('div', { class: 'gr-empty', hidden: true });
    const centre = h('div', { class: 'gr-centre' }, this.canvas, this.progressBox, this.emptyBox, this.tip, this.helpBox, this.statusBox);
    this.root.append(this.toolbar, h('div', { class: 'gr-body' }, this.left, centre, this.right));
    replace(this.container, this.root);
    this.fitHeight = () => {
      const top = this.root.getBoundingClientRect().top + window.scrollY;
      this.root.style.height = Math.max(520, window.innerHeight - top) + 'px';
      this.cy?.resize();
    };
    this.fitHeight();
    window.addEventListener('resize', this.fitHeight);

    this.cy = cytoscape({
      container: this.cyBox,
      style: stylesheet(),
      minZoom: 0.05,
      maxZoom: 3,
      boxSelectionEnabled: false,
      selectionType: 'single',
    });
    this.cy.on('select', 'node', (ev) => {
      if (!this.quiet) this.onSelect(ev.target.id());
    });
    this.cy.on('unselect', 'node', () => {
      if (this.quiet) return;
      setTimeout(() => {
        if (this.cy && this.cy.$('node:selected').empty() && this.selected) {
          this.selected = null;
          this.renderChrome();
        }
      }, 0);
    });
    this.cy.on('tap', () => this.canvas.focus({ preventScroll: true }));
    this.cy.on('dbltap', 'node', (ev) => {
      this.select(ev.target.id());
      this.expand('out');
    });
    this.cy.on('dragfree', 'node', (ev) => {
      ev.target.descendants().union(ev.target).forEach((n) => {
        if (!n.isParent()) this.pos.set(n.id(), { ...n.position() });
      });
    });
    this.cy.on('mouseover', 'node', (ev) => this.showTip(ev.target));
    this.cy.on('mouseout', 'node', () => (this.tip.hidden = true));
    this.cy.on('pan zoom', () => (this.tip.hidden = true));

    this.onHide = () => this.keep();
    window.addEventListener('pagehide', this.onHide);
    this.onKey = (e) => this.keydown(e);
    this.root.addEventListener('keydown', this.onKey);
    this.offLocale = onLocaleChange(() => {
      if (typeof this.message?.text !== 'function') this.message = null;
      this.renderChrome();
      this.refresh();
    });
    this.renderChrome();
    this.load().catch((e) => this.fail(e));
  }

  destroy() {
    if (this.destroyed) return;
    this.keep();
    this.destroyed = true;
    window.removeEventListener('pagehide', this.onHide);
    this.running?.close();
    this.running = null;
    clearInterval(this.tick);
    this.loader.destroy();
    window.removeEventListener('resize', this.fitHeight);
    this.root.removeEventListener('keydown', this.onKey);
    this.offLocale?.();
    this.cy?.destroy();
    this.cy = null;
    clear(this.container);
  }

  // load draws the saved graph or the seeds.
  async load(fresh = false) {
    try {
      this.userId = (await get('/me', undefined, { signal: this.loader.ac.signal }))?.user_id ?? null;
    } catch {
      this.userId = null;
    }
    if (this.destroyed) return;
    // A saved graph of the case (opened, or restored as it was left in
    // this tab) exports as GraphML or GEXF through the server.
    if (this.opts.exhibitId && this.caseId) this.savedAs = { caseId: this.caseId, exhibit: Number(this.opts.exhibitId), name: '' };
    if (!fresh && this.restore()) return;
    if (this.opts.exhibitId && this.caseId) {
      await this.work(() => this.openSaved(this.caseId, this.opts.exhibitId));
      return;
    }
    const seeds = (this.opts.seeds || []).slice(0, 200);
    if (!seeds.length) {
      this.refresh();
      return;
    }
    await this.work(async () => {
      // A seed that cannot be drawn is reported; the others still are.
      // Address seeds are asked for together (their first history page).
      const failed = [];
      await Promise.all(seeds.filter((s) => s.kind === 'address').map((s) => this.addressPage(String(s.ref || '').trim(), 0, s.network).catch(() => null)));
      for (const s of seeds) {
        const ref = String(s.ref || '').trim();
        if (!ref) continue;
        try {
          if (s.kind === 'tx') {
            const txid = ref.toLowerCase();
            await this.loader.tx(txid, s.network);
            const n = this.model.addNode({ kind: 'tx', ref: txid, seed: true }).node;
            await this.expandTx(n, 'in');
            await this.expandTx(n, 'out');
          } else if (s.kind === 'entity') {
            await this.addEntitySeed(ref, s.network);
          } else {
            const a = await this.addressPage(ref, 0, s.network);
            // An EVM address is drawn in its checksummed form.
            const n = this.model.addNode({ kind: 'address', ref: isEVM(ref) ? a.address : ref, seed: true, network: s.network || '' }).node;
            this.noteAddress(n, a);
          }
        } catch (e) {
          if (e?.name === 'AbortError') throw e;
          failed.push(`${ref.slice(0, 70)} (${e?.message || e})`);
        }
      }
      if (failed.length) this.say(t('graph.error.seeds', { list: failed.join('; ') }), true);
      this.layout();
      this.refresh();
      this.fit();
      for (const n of this.model.nodes.values()) if (n.seed && n.kind === 'address') this.findPatterns(n);
      const first = [...this.model.nodes.values()].find((n) => n.seed);
      if (first && seeds.length === 1) this.select(first.id);
    });
  }

  // sessionKey names this graph in the tab's session storage: the same
  // user opening the same graph (after visiting an address page, or on a
  // reload) finds it as it was left.
  sessionKey() {
    if (this.userId === null || this.userId === undefined) return null;
    const seeds = (this.opts.seeds || []).map((s) => `${s.kind}:${s.ref}`).sort();
    return 'vestigo.graph.v1:' + JSON.stringify([this.userId, this.caseId, this.opts.exhibitId || null, seeds]);
  }

  // keep writes the graph into the session storage (nothing when empty).
  keep() {
    const key = this.sessionKey();
    if (!key || !this.cy) return;
    try {
      if (this.model.nodes.size) sessionStorage.setItem(key, JSON.stringify(this.document()));
      else sessionStorage.removeItem(key);
    } catch {
      /* full or disabled: the graph is simply not kept */
    }
  }

  // restore draws the graph kept in the session, if any (checked like a
  // saved graph).
  restore() {
    const key = this.sessionKey();
    let text = null;
    try {
      text = key ? sessionStorage.getItem(key) : null;
    } catch {
      return false;
    }
    if (!text) return false;
    try {
      this.applyDocument(readDocument(text));
    } catch {
      try {
        sessionStorage.removeItem(key);
      } catch {
        /* ignore */
      }
      return false;
    }
    this.say(() => t('graph.msg.restored'), false, { label: () => t('graph.startOver'), testid: 'graph-reset', fn: () => this.reset() });
    return true;
  }

  // reset forgets the graph of this session and draws the seeds again.
  reset() {
    const key = this.sessionKey();
    try {
      if (key) sessionStorage.removeItem(key);
    } catch {
      /* ignore */
    }
    this.cancelTrace(true);
    this.model = new GraphModel();
    this.pos = new Map();
    this.pages = new Map();
    this.peels = [];
    this.trace = null;
    this.paths = null;
    this.selected = null;
    this.filters = { from: '', to: '', min: '' };
    this.group = false;
    this.message = null;
    this.cy.elements().remove();
    this.renderChrome();
    this.load(true).catch((e) => this.fail(e));
  }

  // addEntitySeed resolves an entity reference (an id, entity:ID or
  // entity:ADDRESS) and adds the entity.
  async addEntitySeed(ref, network) {
    let id = ref.replace(/^entity:/, '');
    if (!/^\d+$/.test(id)) {
      const c = await this.loader.cluster(id, network);
      id = String(c.cluster_id);
    }
    const e = await this.loader.entity(id, 0, network);
    const info = this.noteEntity(e);
    this.model.addNode({ kind: 'entity', ref: id, seed: true, label: info.label, labels: info.labels, group: info.group, category: info.category, network: e.ledger?.network || network || '' });
  }

  // noteEntity keeps what an entity (cluster) answer says about it.
  noteEntity(c) {
    const id = String(c.cluster_id);
    const sum = summariseTags(c.tags);
    const info = {
      id,
      size: c.size || 0,
      label: sum.labels[0] || '',
      labels: sum.labels,
      group: sum.group === 'untagged' ? '' : sum.group,
      category: sum.category,
      received: c.total_received,
      sent: c.total_sent,
      balance: c.balance,
      txCount: c.tx_count,
      categories: c.categories || [],
    };
    this.entityInfo.set(id, info);
    return info;
  }

  // --- running work --------------------------------------------------------

  // work runs fn with the busy indicator and reports its error.
  async work(fn) {
    this.busy++;
    this.renderStatus();
    try {
      return await fn();
    } catch (e) {
      if (e?.name !== 'AbortError') this.fail(e);
    } finally {
      this.busy--;
      if (!this.destroyed) this.renderStatus();
    }
  }

  fail(e) {
    if (this.destroyed || e?.name === 'AbortError') return;
    let msg;
    if (e instanceof DocumentError) msg = t('graph.error.document', { reason: e.message });
    else if (e instanceof ApiError && e.status === 404) msg = t('graph.error.notFound', { message: e.message });
    else msg = t('graph.error.generic', { message: e?.message || String(e) });
    this.say(msg, true);
  }

  // say shows a message in the status line (with an optional action
  // button {label, testid, fn}); a message given as a function is
  // translated again when the language changes.
  say(msg, error = false, action = null) {
    this.message = { text: msg, error, action };
    this.renderStatus();
  }

  // --- selection -----------------------------------------------------------

  onSelect(id) {
    if (this.selected === id) return;
    this.selected = id;
    this.renderChrome();
    this.loadDetails(id);
  }

  // select selects a node (from the list, a result or a finding) and
  // brings it into view.
  select(id) {
    if (!this.cy) return;
    const n = this.model.nodes.get(id);
    if (n?.hidden) {
      n.hidden = false;
      this.model.touch();
      this.refresh();
    }
    let el = this.cy.getElementById(id);
    if (el.empty() && n?.entity) el = this.cy.getElementById('e:' + n.entity);
    this.selected = id;
    this.quiet = true;
    this.cy.$(':selected').unselect();
    if (el.nonempty()) el.select();
    this.quiet = false;
    if (el.nonempty()) {
      const bb = this.cy.extent();
      const p = el.position();
      if (p.x < bb.x1 || p.x > bb.x2 || p.y < bb.y1 || p.y > bb.y2) this.cy.animate({ center: { eles: el }, duration: 200 });
    }
    this.renderChrome();
    this.loadDetails(id);
  }

  selectedNode() {
    return this.selected ? this.model.nodes.get(this.selected) || this.derivedEntity(this.selected) : null;
  }

  // derivedEntity is the model-less node of an entity drawn only because
  // addresses are grouped into it.
  derivedEntity(id) {
    if (!id.startsWith('e:')) return null;
    const ref = id.slice(2);
    const info = this.entityInfo.get(ref) || {};
    return { id, kind: 'entity', ref, network: '', label: info.label || '', labels: info.labels || [], group: info.group || '', category: info.category || '', marks: new Set(), note: '', color: '', derived: true };
  }

  // ensureEntity makes a grouped entity a node of the model (to expand,
  // fold, annotate it).
  ensureEntity(node) {
    if (!node?.derived) return node;
    const { node: n } = this.model.addNode({ kind: 'entity', ref: node.ref, label: node.label, labels: node.labels, group: node.group, category: node.category });
    return n;
  }

  // loadDetails fetches what the node panel shows of a node.
  async loadDetails(id) {
    const n = this.selectedNode();
    if (!n || n.id !== id) return;
    try {
      if (n.kind === 'address' && !this.addrInfo.has(n.ref)) {
        const a = await this.addressPage(n.ref, 0, n.network);
        this.noteAddress(n, a);
      } else if (n.kind === 'tx') {
        await this.loader.tx(n.ref, n.network);
      } else if (n.kind === 'entity' && !this.entityInfo.get(n.ref)?.txCount) {
        this.noteEntity(await this.loader.entity(n.ref, 0, n.network));
      }
      if (n.kind === 'address') await this.loadAttribution();
    } catch (e) {
      this.fail(e);
      return;
    }
    if (this.selected === id && !this.destroyed) {
      this.renderPanel();
      // The trace's asset picker lists an EVM address's holdings.
      if (n.kind === 'address' && isEVM(n.ref)) this.renderToolbar();
    }
  }

  // addressPage is a page of an address's history: a Bitcoin address's
  // transactions, or an EVM address's ledger with its holdings.
  addressPage(ref, offset, network) {
    if (isEVM(ref)) return this.loader.ledger(ref, offset, chainOf(network));
    return this.loader.history(ref, offset, network);
  }

  noteAddress(n, a) {
    if (a && a.chain_id !== undefined && Array.isArray(a.holdings)) {
      if (!n.network) n.network = 'evm-' + a.chain_id;
      this.addrInfo.set(n.ref, { evm: true, chainId: String(a.chain_id), chain: a.chain, contract: !!a.contract, holdings: a.holdings, lines: Number(a.total_lines) || 0, first: a.first_seen?.time });
      return;
    }
    if (!n.network && a.ledger?.network) n.network = a.ledger.network;
    this.addrInfo.set(n.ref, {
      balance: a.balance,
      received: a.total_received,
      sent: a.total_sent,
      txCount: a.tx_count,
      first: a.first_seen,
      last: a.last_seen,
      scriptType: a.script_type,
    });
  }

  // --- drawing -------------------------------------------------------------

  viewState() {
    return {
      group: this.group,
      filters: {
        from: dayStart(this.filters.from),
        to: dayEnd(this.filters.to),
        min: this.filters.min ? btcToSats(this.filters.min) : null,
      },
      entityInfo: (id) => this.entityInfo.get(String(id)),
    };
  }

  // refresh redraws the graph from the model and updates the lists.
  refresh() {
    if (!this.cy || this.destroyed) return;
    this.markFindings();
    const view = computeView(this.model, this.viewState());
    // Give a place to nodes that have none yet (beside a neighbour).
    for (const def of view.nodes) {
      const id = def.data.id;
      if (this.pos.has(id) || this.cy.getElementById(id).nonempty()) continue;
      const nb = [...this.model.neighbours(id)].find((m) => this.pos.has(m));
      if (nb) place(this.model, this.pos, [id], nb, 1);
      else if (!id.startsWith('e:') || !def.data.parent) place(this.model, this.pos, [id], '', 1);
    }
    syncCy(this.cy, view, this.pos);
    this.cy.nodes().forEach((n) => {
      if (!n.isParent()) this.pos.set(n.id(), { ...n.position() });
    });
    if (this.selected) {
      const el = this.cy.getElementById(this.selected);
      if (el.nonempty() && !el.selected()) el.select();
    }
    this.emptyBox.hidden = this.model.nodes.size > 0 || this.busy > 0;
    if (!this.emptyBox.hidden) replace(this.emptyBox, t('graph.empty'));
    this.renderNodeList();
    this.renderFindings();
    this.renderPanel();
    this.renderResults();
    this.renderLegend();
    this.renderStatus();
    this.loadAttribution();
  }

  // layout runs the left-to-right layout over everything drawn.
  layout() {
    if (!this.cy) return;
    syncCy(this.cy, computeView(this.model, this.viewState()), this.pos);
    const leaves = this.cy.nodes().filter((n) => !n.isParent());
    if (leaves.length > DAGRE_LIMIT) {
      const at = layered(
        leaves.map((n) => n.id()),
        this.cy.edges().map((e) => ({ source: e.source().id(), target: e.target().id() })),
      );
      this.cy.batch(() => leaves.forEach((n) => n.position(at.get(n.id()))));
      leaves.forEach((n) => this.pos.set(n.id(), { ...n.position() }));
      this.fit();
      return;
    }
    this.cy
      .layout({
        name: 'dagre',
        rankDir: 'LR',
        nodeSep: 26,
        rankSep: 110,
        edgeSep: 10,
        ranker: 'network-simplex',
        fit: false,
        animate: false,
        nodeDimensionsIncludeLabels: true,
      })
      .run();
    this.cy.nodes().forEach((n) => {
      if (!n.isParent()) this.pos.set(n.id(), { ...n.position() });
    });
    this.fit();
  }

  // placeNew positions new nodes beside anchor, then redraws.
  placeNew(ids, anchor, dir) {
    if (ids.length > BIG_CHANGE) {
      // Too many to slot in beside the anchor: lay everything out again.
      this.refresh();
      this.layout();
      return;
    }
    place(this.model, this.pos, ids, anchor, dir);
    this.refresh();
    this.reveal([anchor, ...ids]);
  }

  // reveal brings ids into view: the whole graph when it fits at a
  // readable zoom, else the nodes themselves.
  reveal(ids) {
    const all = this.cy.elements();
    if (all.empty()) return;
    const bb = all.boundingBox();
    const w = this.cyBox.clientWidth - 80;
    const hgt = this.cyBox.clientHeight - 80;
    const z = Math.min(w / Math.max(bb.w, 1), hgt / Math.max(bb.h, 1));
    if (z >= 0.6) {
      this.fit();
      return;
    }
    const els = this.cy.collection();
    for (const id of ids) els.merge(this.cy.getElementById(id));
    if (els.empty()) return;
    const b = els.boundingBox();
    const ext = this.cy.extent();
    if (b.x1 < ext.x1 || b.x2 > ext.x2 || b.y1 < ext.y1 || b.y2 > ext.y2) this.cy.fit(els.union(this.cy.$(':selected')), 50);
  }

  showTip(el) {
    const n = this.model.nodes.get(el.id());
    if (!n?.note) {
      this.tip.hidden = true;
      return;
    }
    const p = el.renderedPosition();
    replace(this.tip, n.note);
    this.tip.style.left = Math.round(p.x + 18) + 'px';
    this.tip.style.top = Math.round(p.y - 10) + 'px';
    this.tip.hidden = false;
  }

  // --- tags, entities, findings ---------------------------------------------

  // loadAttribution screens, in batches and once, the address nodes
  // whose tags and entity are not known yet (POST /screen answers for a
  // list: direct and cluster tags, cluster id and size, sanctioned), then
  // redraws. Resolves when every batch has answered.
  loadAttribution() {
    const todo = [];
    for (const n of this.model.nodes.values()) {
      if (n.kind !== 'address' || this.tagsDone.has(n.ref)) continue;
      this.tagsDone.add(n.ref);
      todo.push(n);
    }
    if (!todo.length) return Promise.resolve();
    const byNetwork = new Map();
    for (const n of todo) {
      // 0x addresses are screened across the EVM chains (no network).
      const k = n.network?.startsWith('evm-') ? '' : n.network || '';
      if (!byNetwork.has(k)) byNetwork.set(k, []);
      byNetwork.get(k).push(n.ref);
    }
    const jobs = [];
    for (const [network, refs] of byNetwork) {
      for (let i = 0; i < refs.length; i += SCREEN_BATCH) {
        const batch = refs.slice(i, i + SCREEN_BATCH);
        jobs.push(
          this.loader
            .screen(batch, network)
            .then((res) => this.noteScreening(res))
            .catch((e) => {
              if (!this.destroyed && e?.name !== 'AbortError') this.fail(e);
            }),
        );
      }
    }
    return Promise.all(jobs).then(() => {
      if (this.destroyed) return;
      this.model.touch();
      this.queueRefresh();
    });
  }

  // noteScreening keeps what a screening says of each address.
  noteScreening(res) {
    if (this.destroyed) return;
    for (const r of Array.isArray(res?.results) ? res.results : []) {
      if (!r?.valid) continue;
      const node = this.model.nodes.get('a:' + r.input);
      if (!node) continue;
      const tags = [...(r.direct_tags || []), ...(r.cluster_tags || [])];
      this.tagDetails.set(node.ref, tags);
      const s = summariseTags(tags);
      if (s.labels.length) {
        node.labels = s.labels;
        node.label = s.labels[0];
      }
      if (r.sanctioned) {
        s.group = 'sanctioned';
        s.category = 'sanctioned';
      }
      if (s.group !== 'untagged' || !node.group) {
        node.group = s.group;
        node.category = s.category;
      }
      if (r.cluster_id) {
        const id = String(r.cluster_id);
        node.entity = id;
        if (!this.entityInfo.has(id)) {
          const clusterLabels = summariseTags(r.cluster_tags || []).labels;
          this.entityInfo.set(id, { id, size: r.cluster_size || 0, label: clusterLabels[0] || s.labels[0] || '', labels: s.labels, group: s.group === 'untagged' ? '' : s.group, category: s.category });
        }
      }
    }
  }

  // queueRefresh redraws once after a burst of answers.
  queueRefresh() {
    if (this.refreshQueued || this.bulk) return;
    this.refreshQueued = true;
    setTimeout(() => {
      this.refreshQueued = false;
      this.refresh();
    }, 60);
  }

  // findPatterns asks for the typologies of an address (peel chains are
  // drawn as findings).
  findPatterns(n) {
    if (!n || n.kind !== 'address' || isEVM(n.ref) || this.patternsDone.has(n.ref)) return;
    this.patternsDone.add(n.ref);
    this.loader
      .patterns(n.ref, n.network)
      .then((list) => {
        let found = false;
        for (const p of Array.isArray(list) ? list : []) {
          if (p?.type !== 'peel_chain' || !Array.isArray(p.txids)) continue;
          const key = p.txids.join(',');
          if (this.peels.some((x) => x.key === key)) continue;
          this.peels.push({ key, from: n.ref, network: n.network, txids: p.txids.slice(0, 200), addresses: (p.addresses || []).slice(0, 200), confidence: p.confidence, explanation: String(p.explanation || ''), params: p.params || {} });
          found = true;
        }
        if (found) this.queueRefresh();
      })
      .catch(() => {
        /* typologies are an extra: a refusal leaves the findings as they are */
      });
  }

  // markFindings marks peel-chain transactions and their edges.
  markFindings() {
    const peelTx = new Set(this.peels.flatMap((p) => p.txids));
    for (const n of this.model.nodes.values()) {
      if (n.kind === 'tx') {
        if (peelTx.has(n.ref)) n.marks.add('peel');
        else n.marks.delete('peel');
        if (this.coinjoinTxids.has(n.ref)) n.coinjoin = true;
      }
    }
    for (const e of this.model.edges.values()) {
      if (e.txid && peelTx.has(e.txid)) e.marks.add('peel');
      if (e.txid && this.coinjoinTxids.has(e.txid)) e.marks.add('coinjoin');
    }
  }

  // --- expansion -------------------------------------------------------------

  // page returns the paging state of a node in one direction.
  page(id, dir) {
    const key = id + '|' + dir;
    if (!this.pages.has(key)) this.pages.set(key, { offset: 0, total: null, done: false, pending: [], members: 0 });
    return this.pages.get(key);
  }

  // expand draws the next page of what paid into (dir "in") or out of
  // (dir "out") the selected node.
  async expand(dir) {
    let n = this.selectedNode();
    if (!n) return this.say(t('graph.msg.selectFirst'));
    n = this.ensureEntity(n);
    await this.work(async () => {
      let added = [];
      this.loadFailures = 0;
      if (n.kind === 'address') added = await this.expandAddress(n, dir);
      else if (n.kind === 'tx') added = await this.expandTx(n, dir);
      else added = await this.expandEntity(n, dir);
      if (n.kind === 'address') this.findPatterns(n);
      // Typologies of what the expansion found (peel chains start there).
      for (const id of added.slice(0, PAGE)) if (id.startsWith('a:')) this.findPatterns(this.model.nodes.get(id));
      this.placeNew(added, n.id, dir === 'out' ? 1 : -1);
      const st = this.page(n.id, dir);
      if (this.loadFailures) this.say(t('graph.msg.loadFailed', { count: this.loadFailures }), true);
      else if (!added.length) this.say(st.done ? t('graph.msg.nothingMore') : t('graph.msg.nothingNew'));
      else this.say(t('graph.msg.added', { count: added.length }));
    });
  }

  // expandAddress draws the transactions of the next history page that
  // spent from (out) or paid (in) the address, and their counterparties.
  async expandAddress(n, dir) {
    if (isEVM(n.ref)) return this.expandEVM(n, dir);
    const st = this.page(n.id, dir);
    if (st.done) return [];
    const entries = [];
    // A page may hold no transaction of this direction: read on, a few
    // pages at most per click.
    for (let i = 0; i < 5 && !st.done && !entries.length; i++) {
      const a = await this.loader.history(n.ref, st.offset, n.network);
      this.noteAddress(n, a);
      st.total = a.tx_count;
      const txs = Array.isArray(a.txs) ? a.txs : [];
      st.offset += txs.length;
      st.done = !txs.length || st.offset >= a.tx_count;
      for (const x of txs) if ((dir === 'out' ? x.sent : x.received) > 0) entries.push(x);
    }
    const added = [];
    const txs = [];
    for (const x of entries.slice(0, PAGE)) {
      const r = this.model.addNode({ kind: 'tx', ref: x.txid, time: x.time, network: n.network, origin: n.id });
      if (r.added) added.push(r.node.id);
      if (dir === 'out') this.model.addEdge({ kind: 'in', source: n.id, target: r.node.id, amount: x.sent, time: x.time, txid: x.txid, origin: n.id });
      else this.model.addEdge({ kind: 'out', source: r.node.id, target: n.id, amount: x.received, time: x.time, txid: x.txid, origin: n.id });
      txs.push(x.txid);
    }
    added.push(...(await this.drawCounterparties(txs, dir, n.id, n.network)));
    return added;
  }

  // expandEVM draws the counterparties of the next ledger page of an EVM
  // address: who it paid (out) or who paid it (in), an edge per move
  // labelled with its exact amount, asset and date. Entries without a
  // counterparty (fees, withdrawals) draw nothing.
  async expandEVM(n, dir) {
    const st = this.page(n.id, dir);
    if (st.done) return [];
    const lines = [];
    for (let i = 0; i < 5 && !st.done && !lines.length; i++) {
      const a = await this.loader.ledger(n.ref, st.offset, chainOf(n.network));
      this.noteAddress(n, a);
      st.total = Number(a.total_lines) || 0;
      const page = Array.isArray(a.ledger) ? a.ledger : [];
      st.offset += page.length;
      st.done = !page.length || st.offset >= st.total;
      for (const x of page) if (x.direction === dir && x.counterparty && x.counterparty !== n.ref) lines.push(x);
    }
    const added = [];
    for (const x of lines) {
      const r = this.model.addNode({ kind: 'address', ref: x.counterparty, network: n.network, origin: n.id });
      if (r.added) added.push(r.node.id);
      const [source, target] = dir === 'out' ? [n.id, r.node.id] : [r.node.id, n.id];
      this.model.addEdge({ kind: 'flow', source, target, amount: 0, time: x.time, txid: x.tx || '', origin: n.id, evm: evmOf(x.asset, x.amount) });
    }
    return added;
  }

  // drawCounterparties fetches transactions and draws who they paid (out)
  // or who paid them (in), the largest first, at most PAGE in all.
  async drawCounterparties(txids, dir, origin, network) {
    const details = await Promise.all(txids.map((id) => this.loader.tx(id, network).catch((e) => {
      if (e?.name !== 'AbortError') this.loadFailures = (this.loadFailures || 0) + 1;
      return null;
    })));
    const lists = [];
    details.forEach((tx) => {
      if (!tx) return;
      this.noteTx(tx);
      lists.push({ tx, parts: this.parties(tx, dir).filter((p) => !this.hasFlow(tx.txid, p.address, dir)) });
    });
    const added = [];
    let budget = PAGE;
    for (let round = 0; budget > 0; round++) {
      let any = false;
      for (const l of lists) {
        const p = l.parts[round];
        if (!p || budget <= 0) continue;
        any = true;
        budget--;
        added.push(...this.drawParty(l.tx, p, dir, origin));
      }
      if (!any) break;
    }
    return added;
  }

  // parties groups a transaction's inputs (in) or outputs (out) by
  // address, largest first.
  parties(tx, dir) {
    const list = dir === 'out' ? tx.outputs : tx.inputs;
    const by = new Map();
    for (const io of Array.isArray(list) ? list : []) {
      if (!io || !io.address) continue;
      const p = by.get(io.address) || { address: io.address, amount: 0 };
      p.amount += Number(io.value) || 0;
      by.set(io.address, p);
    }
    return [...by.values()].sort((a, b) => b.amount - a.amount);
  }

  hasFlow(txid, address, dir) {
    const e = dir === 'out' ? `out|t:${txid}|a:${address}|${txid}` : `in|a:${address}|t:${txid}|${txid}`;
    return this.model.edges.has(e);
  }

  drawParty(tx, p, dir, origin) {
    const added = [];
    const network = tx.ledger?.network || '';
    const r = this.model.addNode({ kind: 'address', ref: p.address, network, origin });
    if (r.added) added.push(r.node.id);
    const tid = 't:' + tx.txid;
    if (dir === 'out') this.model.addEdge({ kind: 'out', source: tid, target: r.node.id, amount: p.amount, time: tx.time, txid: tx.txid, origin });
    else this.model.addEdge({ kind: 'in', source: r.node.id, target: tid, amount: p.amount, time: tx.time, txid: tx.txid, origin });
    return added;
  }

  // noteTx keeps what a transaction says: its time, CoinJoin verdict and
  // the tags of its addresses.
  noteTx(tx) {
    const n = this.model.nodes.get('t:' + tx.txid);
    if (n) {
      if (!n.time && tx.time) n.time = tx.time;
      if (!n.network && tx.ledger?.network) n.network = tx.ledger.network;
      if (tx.coinjoin?.is_coinjoin && !n.coinjoin) n.coinjoin = true;
      this.model.touch();
    }
    if (tx.coinjoin?.is_coinjoin) this.coinjoinTxids.add(tx.txid);
  }

  // expandTx draws the next PAGE of a transaction's inputs' or outputs'
  // addresses.
  async expandTx(n, dir) {
    if (!n) return [];
    const tx = await this.loader.tx(n.ref, n.network);
    this.noteTx(tx);
    if (!n.network && tx.ledger?.network) n.network = tx.ledger.network;
    const parts = this.parties(tx, dir);
    const rest = parts.filter((p) => !this.hasFlow(tx.txid, p.address, dir));
    const st = this.page(n.id, dir);
    st.total = parts.length;
    const added = [];
    for (const p of rest.slice(0, PAGE)) added.push(...this.drawParty(tx, p, dir, n.id));
    st.offset = parts.length - rest.length + Math.min(rest.length, PAGE);
    st.done = rest.length <= PAGE;
    return added;
  }

  // expandEntity draws transactions of the entity's addresses: the first
  // history page of PAGE members at a time, at most PAGE transactions per
  // click (the rest wait for the next).
  async expandEntity(n, dir) {
    const st = this.page(n.id, dir);
    const picked = [];
    for (let round = 0; round < 3 && picked.length < PAGE; round++) {
      while (st.pending.length && picked.length < PAGE) picked.push(st.pending.shift());
      if (picked.length >= PAGE || (st.total !== null && st.members >= st.total)) break;
      const e = await this.loader.entity(n.ref, st.members, n.network);
      this.noteEntity(e);
      const members = Array.isArray(e.addresses) ? e.addresses : [];
      st.total = e.size;
      st.members += members.length;
      if (!members.length) st.members = st.total;
      const pages = await Promise.all(members.map((m) => this.loader.history(m, 0, n.network).then((a) => ({ m, a })).catch((e) => {
        if (e?.name !== 'AbortError') this.loadFailures = (this.loadFailures || 0) + 1;
        return null;
      })));
      for (const r of pages) {
        if (!r) continue;
        for (const x of r.a.txs || []) {
          const amount = dir === 'out' ? x.sent : x.received;
          if (amount > 0) st.pending.push({ member: r.m, txid: x.txid, time: x.time, amount });
        }
      }
    }
    st.done = !st.pending.length && st.total !== null && st.members >= st.total;
    const added = [];
    const txids = [];
    for (const p of picked) {
      const m = this.model.addNode({ kind: 'address', ref: p.member, network: n.network, entity: n.ref, via: n.ref, origin: n.id });
      if (m.added) added.push(m.node.id);
      const tx = this.model.addNode({ kind: 'tx', ref: p.txid, time: p.time, network: n.network, origin: n.id });
      if (tx.added) added.push(tx.node.id);
      if (dir === 'out') this.model.addEdge({ kind: 'in', source: m.node.id, target: tx.node.id, amount: p.amount, time: p.time, txid: p.txid, origin: n.id });
      else this.model.addEdge({ kind: 'out', source: tx.node.id, target: m.node.id, amount: p.amount, time: p.time, txid: p.txid, origin: n.id });
      if (!txids.includes(p.txid)) txids.push(p.txid);
    }
    added.push(...(await this.drawCounterparties(txids, dir, n.id, n.network)));
    return added;
  }

  // collapse removes what was expanded from the selected node and joins
  // nothing else.
  collapse() {
    const n = this.selectedNode();
    if (!n) return this.say(t('graph.msg.selectFirst'));
    const gone = this.model.collapsible(n.id);
    for (const id of gone) {
      this.model.removeNode(id);
      this.pos.delete(id);
    }
    this.pages.delete(n.id + '|in');
    this.pages.delete(n.id + '|out');
    this.refresh();
    this.say(gone.length ? t('graph.msg.collapsed', { count: gone.length }) : t('graph.msg.nothingToCollapse'));
  }

  // hide leaves the selected node out of the drawing (the list keeps it).
  hide() {
    const n = this.selectedNode();
    if (!n) return this.say(t('graph.msg.selectFirst'));
    const node = this.ensureEntity(n);
    node.hidden = true;
    this.model.touch();
    this.cy.$(':selected').unselect();
    this.refresh();
    this.say(t('graph.msg.hidden'));
  }

  showAll() {
    for (const n of this.model.nodes.values()) n.hidden = false;
    this.model.touch();
    this.refresh();
  }

  // remove deletes the selected node and its edges.
  remove() {
    const n = this.selectedNode();
    if (!n) return this.say(t('graph.msg.selectFirst'));
    if (n.derived) {
      // A box drawn only by the grouping: take the box away, keep its
      // addresses.
      this.ensureEntity(n).hidden = true;
      this.model.touch();
      this.selected = null;
      this.refresh();
      this.renderChrome();
      return;
    }
    this.model.removeNode(n.id);
    this.pos.delete(n.id);
    this.pages.delete(n.id + '|in');
    this.pages.delete(n.id + '|out');
    this.selected = null;
    this.refresh();
    this.renderChrome();
  }

  // setGroup groups addresses into their entities (or stops) and lays
  // the graph out again once every entity is known.
  async setGroup(on) {
    this.group = !!on;
    this.renderToolbar();
    if (this.group) {
      this.bulk = true;
      try {
        await this.work(() => this.loadAttribution());
      } finally {
        this.bulk = false;
      }
    }
    this.refresh();
    this.layout();
  }

  // fold shows an entity as one node (true) or as the box of its
  // addresses.
  fold(n, on) {
    const node = this.ensureEntity(n);
    node.collapsed = !!on;
    this.model.touch();
    this.refresh();
  }

  // --- trace and path --------------------------------------------------------

  // traceFrom is the API's "from" of a node.
  fromRef(n) {
    if (n.kind === 'entity') return 'entity:' + n.ref;
    return n.ref;
  }

  // startTrace follows the funds from the selected node, showing the
  // server's progress; Cancel (or Escape) closes the stream, which stops
  // the trace on the server.
  startTrace(direction) {
    let n = this.selectedNode();
    if (!n) return this.say(t('graph.msg.selectFirst'));
    n = this.ensureEntity(n);
    this.cancelTrace(true);
    const evm = n.kind === 'address' && isEVM(n.ref);
    const query = evm
      ? { direction, model: this.traceOpts.model, hops: this.traceOpts.hops, chain_id: chainOf(n.network) || undefined, asset: this.traceAsset(n) }
      : { direction, model: this.traceOpts.model, hops: this.traceOpts.hops, network: n.network || undefined };
    const from = this.fromRef(n);
    const run = { progress: null, direction, from, started: performance.now(), node: n.id, fallback: null };
    let gotProgress = false;
    const done = () => {
      if (this.running === run) this.running = null;
      this.renderProgress();
    };
    const handle = stream('/trace/' + seg(from) + '/events', query, {
      progress: (p) => {
        gotProgress = true;
        run.progress = p;
        this.renderProgress();
      },
      result: (res) => {
        done();
        this.drawTrace(res, n, direction);
      },
      error: (err) => {
        if (!gotProgress && /connection/i.test(err?.error || '')) {
          // The stream could not be opened (an older server): ask once.
          this.traceOnce(run, from, query, n, direction);
          return;
        }
        done();
        this.say(t('graph.error.trace', { message: err?.error || '' }), true);
      },
      onclose: () => {
        if (!run.fallback) done();
      },
    });
    run.close = () => {
      handle.close();
      run.fallback?.abort();
    };
    this.running = run;
    this.renderProgress();
    clearInterval(this.tick);
    this.tick = setInterval(() => {
      if (!this.running) clearInterval(this.tick);
      else this.renderProgress();
    }, 250);
  }

  // traceOnce runs the trace as one request (no progress) when the event
  // stream is not available.
  traceOnce(run, from, query, n, direction) {
    const ac = new AbortController();
    run.fallback = ac;
    this.running = run;
    this.renderProgress();
    get('/trace/' + seg(from), query, { signal: ac.signal })
      .then((res) => {
        if (this.running !== run) return;
        this.running = null;
        this.renderProgress();
        this.drawTrace(res, n, direction);
      })
      .catch((e) => {
        if (this.running === run) this.running = null;
        this.renderProgress();
        if (e?.name !== 'AbortError') this.fail(e);
      });
  }

  cancelTrace(quiet = false) {
    if (!this.running) return false;
    const r = this.running;
    this.running = null;
    r.close();
    this.renderProgress();
    if (!quiet) this.say(t('graph.msg.traceCancelled'));
    return true;
  }

  // drawTrace draws a trace result: its edges (address → address, with
  // amount and txid), its destinations and where it stopped.
  drawTrace(res, anchor, direction) {
    if (this.destroyed || !res || typeof res !== 'object') return;
    if (res.chain_id !== undefined && res.params?.asset) return this.drawEVMTrace(res, anchor, direction);
    this.model.clearMarks('dest', 'stop', 'source', 'trace');
    const anchorNode = this.model.nodes.get(anchor.id) || this.ensureEntity(anchor);
    anchorNode.marks.add('source');
    let edges = Array.isArray(res.edges) ? res.edges.filter((e) => e && e.from && e.to) : [];
    const dests = Array.isArray(res.destinations) ? res.destinations : [];
    const stopped = new Set((Array.isArray(res.stopped_at) ? res.stopped_at : []).map((d) => d.address));
    let omitted = 0;
    if (edges.length > TRACE_EDGE_LIMIT) {
      const sorted = [...edges].sort((a, b) => b.amount - a.amount);
      const keep = new Set(sorted.slice(0, TRACE_EDGE_LIMIT));
      omitted = edges.length - keep.size;
      edges = edges.filter((e) => keep.has(e));
    }
    const network = anchorNode.network || res.params?.network || '';
    const added = [];
    const add = (address, extra = {}) => {
      const r = this.model.addNode({ kind: 'address', ref: address, network, origin: anchorNode.id, ...extra });
      if (r.added) added.push(r.node.id);
      return r.node;
    };
    // A trace from an entity starts at its addresses: the payers of the
    // first hop going forward, the payees of the first hop going back.
    const member = anchorNode.kind === 'entity' ? { entity: anchorNode.ref, via: anchorNode.ref } : {};
    for (const e of edges) {
      const first = e.hop === 1;
      const a = anchorNode.kind === 'address' && e.from === anchorNode.ref ? anchorNode : add(e.from, first && direction === 'forward' ? member : {});
      const b = anchorNode.kind === 'address' && e.to === anchorNode.ref ? anchorNode : add(e.to, first && direction !== 'forward' ? member : {});
      this.model.addEdge({ kind: 'flow', source: a.id, target: b.id, amount: e.amount, txid: e.txid, hop: e.hop, marks: ['trace'], origin: anchorNode.id });
    }
    for (const d of dests) {
      if (!d?.address) continue;
      const node = add(d.address);
      node.marks.add('dest');
      if (stopped.has(d.address) || ['exchange', 'mixing_service', 'defi_bridge', 'sanctioned'].includes(d.reason)) node.marks.add('stop');
      if (Array.isArray(d.labels) && d.labels.length) {
        node.labels = d.labels.slice(0, 20).map(String);
        node.label = node.labels[0];
      }
      if (d.category) {
        node.category = d.category;
        node.group = groupOf(d.category);
      }
    }
    this.trace = {
      from: this.fromRef(anchorNode),
      direction,
      model: res.params?.model || this.traceOpts.model,
      hops: Number(res.params?.hops) || this.traceOpts.hops,
      source: Number(res.source) || 0,
      txs_read: Number(res.txs_read) || 0,
      summarised: !!res.summarised,
      destinations: dests.slice(0, LIMITS.dests).map((d) => ({
        address: String(d.address),
        labels: Array.isArray(d.labels) ? d.labels.slice(0, 20).map(String) : [],
        category: String(d.category || ''),
        amount: Number(d.amount) || 0,
        share: Math.min(1, Math.max(0, Number(d.share) || 0)),
        hops: Number(d.hops) || 0,
        reason: String(d.reason || ''),
        stopped: stopped.has(d.address),
      })),
      fees: res.fees_and_rounding,
      dropped: res.dropped_below_min_value,
      omitted,
    };
    for (const e of edges.filter((x) => x.hop === 1).slice(0, PAGE)) {
      this.findPatterns(this.model.nodes.get('a:' + (direction === 'forward' ? e.to : e.from)));
    }
    this.placeNew(added, anchorNode.id, direction === 'forward' ? 1 : -1);
    this.say(t('graph.msg.traceDone', { count: fmtNumber(dests.length), txs: fmtNumber(res.txs_read ?? 0) }));
    this.resultsOpen = true;
    this.renderResults();
    this.right.querySelector('[data-testid="graph-results"]')?.scrollIntoView({ block: 'nearest' });
    this.checkCoinJoins(edges.map((e) => e.txid));
  }

  // drawEVMTrace draws an account trace (from a 0x address): its moves
  // (address → address, with the transaction, the asset and the exact
  // amount), its destinations and where it stopped, styled as Bitcoin's.
  drawEVMTrace(res, anchor, direction) {
    this.model.clearMarks('dest', 'stop', 'source', 'trace');
    const anchorNode = this.model.nodes.get(anchor.id) || anchor;
    anchorNode.marks.add('source');
    const asset = res.params.asset;
    let edges = Array.isArray(res.edges) ? res.edges.filter((e) => e && isEVM(e.from) && isEVM(e.to)) : [];
    const dests = (Array.isArray(res.destinations) ? res.destinations : []).filter((d) => d && isEVM(d.address));
    const stoppedList = (Array.isArray(res.stopped_at) ? res.stopped_at : []).filter((d) => d && isEVM(d.address));
    const stopped = new Set(stoppedList.map((d) => d.address));
    let omitted = 0;
    if (edges.length > TRACE_EDGE_LIMIT) {
      const big = (e) => (/^\d+$/.test(String(e.amount)) ? BigInt(e.amount) : 0n);
      const sorted = [...edges].sort((a, b) => (big(b) > big(a) ? 1 : big(b) < big(a) ? -1 : 0));
      const keep = new Set(sorted.slice(0, TRACE_EDGE_LIMIT));
      omitted = edges.length - keep.size;
      edges = edges.filter((e) => keep.has(e));
    }
    const network = anchorNode.network || 'evm-' + res.chain_id;
    const added = [];
    const add = (address) => {
      if (address === anchorNode.ref) return anchorNode;
      const r = this.model.addNode({ kind: 'address', ref: address, network, origin: anchorNode.id });
      if (r.added) added.push(r.node.id);
      return r.node;
    };
    for (const e of edges) {
      const a = add(e.from);
      const b = add(e.to);
      this.model.addEdge({ kind: 'flow', source: a.id, target: b.id, amount: 0, time: e.time || '', txid: e.tx || '', hop: Number(e.hop) || 0, marks: ['trace'], origin: anchorNode.id, evm: evmOf(asset, e.amount) });
    }
    // Destinations and the tagged addresses the trail stopped at.
    const all = [...dests.map((d) => ({ d, stop: stopped.has(d.address) })), ...stoppedList.filter((d) => !dests.some((x) => x.address === d.address)).map((d) => ({ d, stop: true }))];
    for (const { d, stop } of all) {
      const node = add(d.address);
      node.marks.add('dest');
      if (stop || ['exchange', 'mixing_service', 'defi_bridge', 'sanctioned'].includes(d.reason)) node.marks.add('stop');
      if (Array.isArray(d.labels) && d.labels.length) {
        node.labels = d.labels.slice(0, 20).map(String);
        node.label = node.labels[0];
      }
      if (d.category) {
        node.category = d.category;
        node.group = groupOf(d.category);
      }
    }
    const units = (v) => (RE_UNITS.test(String(v ?? '')) ? String(v) : '0');
    this.trace = {
      from: anchorNode.ref,
      direction,
      model: res.params?.model || this.traceOpts.model,
      hops: Number(res.params?.hops) || this.traceOpts.hops,
      source: 0,
      txs_read: Number(res.entries_read) || 0,
      summarised: !!res.summarised,
      chain_id: Number(res.chain_id),
      symbol: String(asset.symbol || ''),
      source_units: units(res.source_units),
      destinations: all.slice(0, LIMITS.dests).map(({ d, stop }) => ({
        address: String(d.address),
        labels: Array.isArray(d.labels) ? d.labels.slice(0, 20).map(String) : [],
        category: String(d.category || ''),
        amount: 0,
        units: units(d.amount_units),
        share: Math.min(1, Math.max(0, Number(d.share) || 0)),
        hops: Number(d.hops) || 0,
        reason: String(d.reason || ''),
        stopped: stop,
      })),
      omitted,
    };
    this.placeNew(added, anchorNode.id, direction === 'forward' ? 1 : -1);
    this.say(t('graph.msg.traceDone', { count: fmtNumber(all.length), txs: fmtNumber(res.entries_read ?? 0) }));
    this.resultsOpen = true;
    this.renderResults();
    this.right.querySelector('[data-testid="graph-results"]')?.scrollIntoView({ block: 'nearest' });
  }

  // traceAsset is the asset a trace from an EVM node follows: the one
  // picked in the toolbar when the node holds it, else its native coin.
  traceAsset(n) {
    const holdings = this.addrInfo.get(n.ref)?.holdings || [];
    const picked = this.traceOpts.asset;
    if (picked !== '' && holdings.some((h) => String(h.asset?.id) === picked)) return picked;
    return '0';
  }

  // checkCoinJoins reads the transactions of trace edges (a bounded
  // number) to mark CoinJoins and to date the edges.
  checkCoinJoins(txids) {
    const list = [...new Set(txids.filter((id) => id && !isEVM(id)))].slice(0, COINJOIN_CHECKS);
    Promise.all(
      list.map((id) =>
        this.loader
          .tx(id)
          .then((tx) => {
            this.noteTx(tx);
            for (const e of this.model.edges.values()) if (e.txid === id && !e.time) e.time = tx.time;
          })
          .catch(() => null),
      ),
    ).then(() => {
      this.model.touch();
      this.queueRefresh();
    });
  }

  // findPath draws the shortest money paths from the selected node to the
  // address typed in.
  async findPath() {
    let n = this.selectedNode();
    if (!n) return this.say(t('graph.msg.selectFirst'));
    const to = this.pathTo.trim();
    if (!to) return this.say(t('graph.msg.pathTarget'));
    if (!/^[A-Za-z0-9:_-]{1,140}$/.test(to)) return this.say(t('graph.msg.pathBad'), true);
    n = this.ensureEntity(n);
    if (n.kind === 'address' && isEVM(n.ref)) return this.findEVMPath(n, to);
    await this.work(async () => {
      const res = await this.loader.path(this.fromRef(n), to, n.network || undefined);
      this.model.clearMarks('path');
      const paths = Array.isArray(res.paths) ? res.paths.slice(0, 20) : [];
      const added = [];
      const network = n.network || '';
      for (const p of paths) {
        for (const s of Array.isArray(p.steps) ? p.steps : []) {
          const a = n.kind === 'address' && s.from === n.ref ? n : this.addPathNode(s.from, network, n.id, added);
          const b = this.addPathNode(s.to, network, n.id, added);
          a.marks.add('path');
          b.marks.add('path');
          this.model.addEdge({ kind: 'flow', source: a.id, target: b.id, amount: s.amount, txid: s.txid, hop: s.hop, marks: ['path'], origin: n.id });
        }
      }
      this.paths = { from: this.fromRef(n), to, maxHops: res.max_hops, paths, summarised: !!res.summarised };
      this.placeNew(added, n.id, 1);
      this.say(paths.length ? t('graph.msg.pathsFound', { count: paths.length }) : t('graph.msg.noPath', { hops: hopsText(res.max_hops ?? 6) }));
      this.resultsOpen = true;
      this.renderResults();
      this.checkCoinJoins(paths.flatMap((p) => p.txids || []));
    });
  }

  // findEVMPath draws the money paths between two 0x addresses (each
  // path a list of moves with their asset and exact amount).
  async findEVMPath(n, to) {
    if (!isEVM(to)) return this.say(t('graph.msg.pathBad'), true);
    await this.work(async () => {
      const res = await this.loader.path(n.ref, to, undefined, chainOf(n.network));
      this.model.clearMarks('path');
      const added = [];
      const paths = [];
      for (const steps of (Array.isArray(res.paths) ? res.paths : []).slice(0, 20)) {
        if (!Array.isArray(steps)) continue;
        const list = [];
        for (const st of steps) {
          if (!st || !isEVM(st.from) || !isEVM(st.to)) continue;
          const a = st.from === n.ref ? n : this.addPathNode(st.from, n.network, n.id, added);
          const b = st.to === n.ref ? n : this.addPathNode(st.to, n.network, n.id, added);
          a.marks.add('path');
          b.marks.add('path');
          const evm = evmOf(st.asset, st.amount);
          this.model.addEdge({ kind: 'flow', source: a.id, target: b.id, amount: 0, time: st.time || '', txid: st.tx || '', marks: ['path'], origin: n.id, evm });
          list.push({ from: st.from, to: st.to, txid: st.tx || '', amount: 0, evm });
        }
        paths.push({ hops: list.length, steps: list });
      }
      this.paths = { from: n.ref, to, maxHops: this.traceOpts.hops, paths, summarised: !!res.summarised };
      this.placeNew(added, n.id, 1);
      this.say(paths.length ? t('graph.msg.pathsFound', { count: paths.length }) : t('graph.msg.noPath', { hops: hopsText(this.traceOpts.hops) }));
      this.resultsOpen = true;
      this.renderResults();
    });
  }

  addPathNode(address, network, origin, added) {
    const r = this.model.addNode({ kind: 'address', ref: address, network, origin });
    if (r.added) added.push(r.node.id);
    return r.node;
  }

  // drawPeel draws the transactions of a peel chain found by the server.
  async drawPeel(peel) {
    await this.work(async () => {
      const anchor = 'a:' + peel.from;
      const added = [];
      for (const txid of peel.txids.slice(0, 60)) {
        const tx = await this.loader.tx(txid, peel.network);
        const r = this.model.addNode({ kind: 'tx', ref: txid, time: tx.time, network: peel.network, origin: this.model.nodes.has(anchor) ? anchor : null });
        if (r.added) added.push(r.node.id);
        this.noteTx(tx);
        for (const dir of ['in', 'out']) {
          for (const p of this.parties(tx, dir).slice(0, 4)) added.push(...this.drawParty(tx, p, dir, r.node.origin));
        }
      }
      this.placeNew(added, this.model.nodes.has(anchor) ? anchor : added[0], 1);
      this.say(t('graph.msg.added', { count: added.length }));
    });
  }

  // --- notes, colours ---------------------------------------------------------

  setNote(n, text) {
    const node = this.ensureEntity(n);
    node.note = String(text).slice(0, LIMITS.note);
    this.model.touch();
    this.queueRefresh();
  }

  setColour(n, colour) {
    const node = this.ensureEntity(n);
    node.color = /^#[0-9a-fA-F]{6}$/.test(colour) ? colour : '';
    this.model.touch();
    this.refresh();
  }

  // --- save, open, export ---------------------------------------------------------

  document() {
    this.cy.nodes().forEach((n) => {
      if (!n.isParent()) this.pos.set(n.id(), { ...n.position() });
    });
    const trace = this.trace
      ? { from: this.trace.from, direction: this.trace.direction, model: this.trace.model, hops: this.trace.hops, source: this.trace.source, txs_read: this.trace.txs_read, summarised: this.trace.summarised, destinations: this.trace.destinations }
      : null;
    if (trace && this.trace.chain_id) Object.assign(trace, { chain_id: this.trace.chain_id, symbol: this.trace.symbol, source_units: this.trace.source_units });
    return writeDocument(this.model, { pos: this.pos, filters: this.filters, group: this.group, caseId: this.caseId, trace });
  }

  // unselected runs fn with no node selected (an export shows no
  // selection highlight).
  unselected(fn) {
    const sel = this.cy.$(':selected');
    this.quiet = true;
    sel.unselect();
    try {
      return fn();
    } finally {
      sel.select();
      this.quiet = false;
    }
  }

  fileStamp() {
    return new Date().toISOString().slice(0, 16).replace(':', '-');
  }

  // save stores the graph in the case as an exhibit (asking which case
  // when the graph has none).
  async save() {
    if (!this.model.nodes.size) return this.say(t('graph.msg.emptySave'));
    if (!this.caseId) {
      const id = await pickCase(this);
      if (!id) return;
      this.caseId = id;
    }
    await this.work(async () => {
      const text = JSON.stringify(this.document());
      const name = `graph-${this.fileStamp()}.vgraph.json`;
      const ex = await upload(`/cases/${seg(this.caseId)}/exhibits`, { name }, new Blob([text], { type: MEDIA_TYPE }), MEDIA_TYPE);
      this.savedAs = { caseId: this.caseId, exhibit: ex?.id, name };
      this.say(t('graph.msg.saved', { name, id: ex?.id ?? '' }));
      this.renderToolbar();
    });
  }

  // exportSaved asks the server for the saved graph (the exhibit of the
  // last save, or the one opened) as GraphML or GEXF: the file is kept as
  // an exhibit of the case (hashed, time-stamped, audited) and downloads.
  async exportSaved(format) {
    const saved = this.savedAs;
    if (!saved?.exhibit) return this.say(t('graph.msg.saveFirst'));
    await this.work(async () => {
      const ex = await recordExport(saved.caseId, { kind: 'graph', format, exhibit: saved.exhibit });
      this.say(t('graph.msg.exported', { name: ex.name, id: ex.id, sha256: ex.sha256 }));
    });
  }

  // openSaved draws a saved graph (checked strictly: it is untrusted).
  async openSaved(caseId, exhibitId) {
    const text = await this.loader.exhibitText(caseId, exhibitId, LIMITS.bytes);
    const doc = readDocument(text);
    this.applyDocument(doc);
    this.say(t('graph.msg.opened', { created: fmtDate(doc.created) }));
  }

  // applyDocument draws a checked document (see readDocument).
  applyDocument(doc) {
    for (const n of doc.nodes) {
      const { node } = this.model.addNode({ ...n, entity: n.entity || null, via: n.via || null, origin: n.origin || null });
      node.hidden = n.hidden;
      node.collapsed = n.collapsed;
      node.note = n.note;
      node.color = n.color;
      this.pos.set(node.id, { x: n.x, y: n.y });
      if (n.kind === 'tx' && n.coinjoin) this.coinjoinTxids.add(n.ref);
    }
    for (const e of doc.edges) this.model.addEdge(e);
    this.filters = { ...doc.filters };
    this.group = doc.group;
    if (doc.trace) this.trace = { ...doc.trace, omitted: 0 };
    this.renderChrome();
    this.refresh();
    this.fit();
    for (const n of this.model.nodes.values()) if (n.seed && n.kind === 'address') this.findPatterns(n);
  }

  exportPNG() {
    if (!this.cy.nodes().length) return this.say(t('graph.msg.emptyExport'));
    const bb = this.cy.elements().boundingBox();
    const scale = Math.max(0.5, Math.min(2, 8000 / Math.max(bb.w, bb.h, 1)));
    const blob = this.unselected(() => this.cy.png({ full: true, bg: '#ffffff', output: 'blob', scale }));
    download(blob, `graph-${this.fileStamp()}.png`);
  }

  exportSVG() {
    if (!this.cy.nodes().length) return this.say(t('graph.msg.emptyExport'));
    const text = this.unselected(() => this.cy.svg({ full: true, bg: '#ffffff', scale: 1 }));
    download(new Blob([text], { type: 'image/svg+xml' }), `graph-${this.fileStamp()}.svg`);
  }

  // fit shows the whole graph, not larger than life.
  fit() {
    if (!this.cy || this.cy.elements().empty()) return;
    this.cy.fit(undefined, 40);
    if (this.cy.zoom() > 1.25) this.cy.zoom({ level: 1.25, renderedPosition: { x: this.cyBox.clientWidth / 2, y: this.cyBox.clientHeight / 2 } });
  }

  // --- keyboard ---------------------------------------------------------------

  keydown(e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const tag = e.target?.tagName;
    const typing = tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || e.target?.isContentEditable;
    if (e.key === 'Escape') {
      if (this.dialog) return; // the dialog closes itself
      if (typing) {
        e.target.blur();
        this.canvas.focus({ preventScroll: true });
        return;
      }
      if (this.cancelTrace()) {
        e.preventDefault();
        return;
      }
      if (!this.helpBox.hidden) {
        this.helpBox.hidden = true;
        return;
      }
      if (this.selected) {
        this.cy.$(':selected').unselect();
        this.selected = null;
        this.renderChrome();
      }
      return;
    }
    if (typing || this.dialog) return;
    const acts = {
      i: () => this.expand('in'),
      o: () => this.expand('out'),
      t: () => this.startTrace('forward'),
      b: () => this.startTrace('backward'),
      c: () => this.collapse(),
      h: () => this.hide(),
      Delete: () => this.remove(),
      Backspace: () => this.remove(),
      f: () => this.fit(),
      l: () => this.layout(),
      s: () => this.save(),
      '?': () => this.toggleHelp(),
    };
    const fn = acts[e.key];
    if (!fn) return;
    if ((e.key === 'Delete' || e.key === 'Backspace') && e.target !== this.canvas && !e.target.closest?.('.gr-nodelist')) return;
    e.preventDefault();
    e.stopPropagation();
    fn();
  }

  toggleHelp() {
    this.helpBox.hidden = !this.helpBox.hidden;
    if (!this.helpBox.hidden) renderHelp(this);
  }

  // --- chrome --------------------------------------------------------------------

  renderChrome() {
    if (this.destroyed) return;
    const focused = document.activeElement;
    const had = focused && focused !== this.canvas && this.root.contains(focused);
    this.renderToolbar();
    this.renderNodeList();
    this.renderPanel();
    this.renderResults();
    this.renderFindings();
    this.renderLegend();
    this.renderProgress();
    this.renderStatus();
    this.canvas.setAttribute('aria-label', t('graph.canvasLabel'));
    if (!this.helpBox.hidden) renderHelp(this);
    // A control that was redrawn under the focus hands it to the canvas,
    // so that the shortcuts keep working.
    if (had && !this.root.contains(document.activeElement)) this.canvas.focus({ preventScroll: true });
  }

  renderToolbar() {
    renderToolbar(this);
  }

  setFilter(key, value) {
    let v = String(value || '').trim();
    if (key === 'min') {
      v = v.replace(',', '.');
      if (v && btcToSats(v) === null) {
        this.say(t('graph.msg.badMin'), true);
        return;
      }
    }
    if ((key === 'from' || key === 'to') && v && dayStart(v) === null) return;
    this.filters[key] = v;
    this.model.touch();
    this.refresh();
    if (this.clearBtn) this.clearBtn.disabled = !(this.filters.from || this.filters.to || this.filters.min);
  }

  clearFilters() {
    this.filters = { from: '', to: '', min: '' };
    this.refresh();
    this.renderToolbar();
  }

  // renderNodeList redraws the list when what it shows changed.
  renderNodeList(force = false) {
    const sig = [this.model.version, this.selected, this.listFilter, locale()].join('|');
    if (!force && sig === this.listSig) return;
    this.listSig = sig;
    renderNodeList(this, this.left);
  }

  renderPanel() {
    renderPanel(this, this.right);
  }

  renderResults() {
    renderResults(this, this.right);
  }

  renderFindings() {
    renderFindings(this, this.right);
  }

  renderLegend() {
    renderLegend(this, this.left);
  }

  renderProgress() {
    const r = this.running;
    this.progressBox.hidden = !r;
    for (const b of this.toolbar.querySelectorAll('[data-testid="graph-trace-forward"],[data-testid="graph-trace-backward"]')) b.disabled = !!r || !this.selected;
    if (!r) {
      clear(this.progressBox);
      return;
    }
    const p = r.progress;
    const elapsed = p?.elapsed_ms ?? Math.round(performance.now() - r.started);
    const text = p
      ? t('graph.progress.text', { hop: fmtNumber(p.hop ?? 0), frontier: fmtNumber(p.frontier ?? 0), txs: fmtNumber(p.txs_read ?? 0), seconds: fmtNumber(elapsed / 1000, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) })
      : t('graph.progress.starting', { seconds: fmtNumber(elapsed / 1000, { minimumFractionDigits: 1, maximumFractionDigits: 1 }) });
    replace(
      this.progressBox,
      h('span', { class: 'gr-spinner', attrs: { 'aria-hidden': 'true' } }),
      h('span', { class: 'gr-progress-title' }, r.direction === 'forward' ? t('graph.progress.forward') : t('graph.progress.backward')),
      h('span', { class: 'gr-progress-text' }, text),
      h('button', { type: 'button', class: 'gr-btn', dataset: { testid: 'graph-cancel' }, on: { click: () => this.cancelTrace() } }, t('graph.cancel')),
    );
  }

  renderStatus() {
    if (!this.statusBox) return;
    const parts = [];
    if (this.busy > 0) parts.push(h('span', { class: 'gr-busy' }, h('span', { class: 'gr-spinner', attrs: { 'aria-hidden': 'true' } }), t('graph.loading')));
    if (this.message) parts.push(h('span', { class: this.message.error ? 'gr-error' : 'gr-info', dataset: { testid: this.message.error ? 'graph-error' : 'graph-message' } }, typeof this.message.text === 'function' ? this.message.text() : this.message.text));
    const act = this.message?.action;
    if (act) parts.push(h('button', { type: 'button', class: 'gr-btn gr-small', dataset: { testid: act.testid }, on: { click: act.fn } }, typeof act.label === 'function' ? act.label() : act.label));
    const drawn = this.cy ? this.cy.nodes().filter((n) => !n.isParent()).length : 0;
    parts.push(h('span', { class: 'gr-counts' }, t('graph.counts', { nodes: fmtNumber(this.model.nodes.size), edges: fmtNumber(this.model.edges.size), drawn: fmtNumber(drawn) })));
    replace(this.statusBox, parts);
  }
}

