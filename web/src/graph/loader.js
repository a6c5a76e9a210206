// loader.js fetches what the graph draws, through the versioned API only,
// with a cache per question and at most a few requests in flight (a graph
// of hundreds of addresses asks for their tags lazily without flooding the
// server). destroy() aborts everything still pending.

import { get, post, seg } from '../api.js';

// PAGE is how many history entries, members or neighbours one expansion
// draws.
export const PAGE = 20;

const PARALLEL = 6;

/** Loader caches API answers for one mounted graph. */
export class Loader {
  constructor() {
    this.ac = new AbortController();
    this.cache = new Map();
    this.values = new Map();
    this.active = 0;
    this.waiting = [];
  }

  // slot runs fn when fewer than PARALLEL requests are in flight.
  async slot(fn) {
    if (this.active >= PARALLEL) await new Promise((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  // cached answers key once: the same question is asked once (a failed
  // one is forgotten so that it can be asked again).
  cached(key, path, query) {
    if (this.cache.has(key)) return this.cache.get(key);
    const p = this.slot(() => get(path, query, { signal: this.ac.signal }));
    this.cache.set(key, p);
    p.then(
      (v) => this.values.set(key, v),
      () => this.cache.delete(key),
    );
    return p;
  }

  // txValue is a transaction already fetched (or undefined).
  txValue(txid) {
    return this.values.get('tx ' + txid);
  }

  // tx is GET /tx/{txid}.
  tx(txid, network) {
    return this.cached('tx ' + txid, '/tx/' + seg(txid), { network });
  }

  // history is a page of an address's history (oldest first).
  history(address, offset, network) {
    return this.cached(`addr ${address} ${offset}`, '/address/' + seg(address), { limit: PAGE, offset, network });
  }

  // ledger is a page of an EVM address's ledger (every asset, oldest
  // first) with its holdings: GET /address/0x…?chain_id=N.
  ledger(address, offset, chainId) {
    return this.cached(`ledger ${address} ${chainId || ''} ${offset}`, '/address/' + seg(address), { limit: PAGE, offset, chain_id: chainId || undefined });
  }

  // screen is POST /screen: tags, cluster and sanctions of a list of
  // addresses in one request.
  screen(addresses, network) {
    return this.slot(() => post('/screen', { addresses, network: network || undefined }));
  }

  // cluster is the entity of an address (GET /cluster/{address}, one member).
  cluster(address, network) {
    return this.cached('cluster ' + address, '/cluster/' + seg(address), { limit: 1, network });
  }

  // entity is a page of an entity's members with its totals and tags.
  entity(id, offset, network) {
    return this.cached(`entity ${id} ${offset}`, '/entity/' + seg(id), { limit: PAGE, offset, network });
  }

  // patterns are the typologies found in an address's transactions.
  patterns(address, network) {
    return this.cached('patterns ' + address, '/patterns', { address, network });
  }

  // path is GET /path/{from}/{to}.
  path(from, to, network, chainId) {
    return get('/path/' + seg(from) + '/' + seg(to), { network, chain_id: chainId || undefined }, { signal: this.ac.signal });
  }

  // cases lists the cases the user may see.
  cases() {
    return get('/cases', { status: 'open', limit: 1000, newest_first: 'true' }, { signal: this.ac.signal });
  }

  // exhibit downloads a saved graph's bytes as text.
  // A body larger than limit bytes is refused before it is read.
  async exhibitText(caseId, exhibitId, limit) {
    const body = await get(`/cases/${seg(caseId)}/exhibits/${seg(exhibitId)}/content`, undefined, { signal: this.ac.signal });
    if (body instanceof Blob) {
      if (body.size > limit) throw new Error('the saved graph is larger than ' + limit + ' bytes');
      return body.text();
    }
    return JSON.stringify(body);
  }

  // destroy aborts pending requests.
  destroy() {
    this.ac.abort();
    for (const w of this.waiting) w();
    this.waiting = [];
  }
}
