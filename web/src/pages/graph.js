// graph.js (page): the /graph route. It reads the seeds of the fund-flow
// graph from the URL (?address=, ?tx=, ?entity=, each may repeat, with
// ?network=; ?case=ID
// takes the case's items; &exhibit=EID reopens a saved graph) and mounts
// the graph (web/src/graph/graph.js) in a full-width container; leaving
// the route destroys it.

import { h, replace } from '../dom.js';
import { get, seg } from '../api.js';
import { t } from '../i18n.js';
import { mountGraph } from '../graph/graph.js';
import { loading, errorBanner, isAbort, setTitle } from './common.js';

// caseSeeds maps a case's items to graph seeds; an entity item (ref
// "entity:ROOT-ADDRESS") becomes its numeric entity id.
async function caseSeeds(caseId, signal) {
  const items = await get('/cases/' + seg(caseId) + '/items', undefined, { signal });
  const seeds = [];
  for (const it of items) {
    // An EVM item's network is its chain id; the graph names it evm-N.
    if (it.kind === 'address' && /^0x[0-9a-fA-F]{40}$/.test(it.ref)) seeds.push({ kind: 'address', ref: it.ref, network: /^\d+$/.test(it.network || '') ? 'evm-' + it.network : '' });
    else if (it.kind === 'tx' && /^0x/.test(it.ref)) continue; // the graph draws EVM addresses, not their transactions
    else if (it.kind === 'address' || it.kind === 'tx') seeds.push({ kind: it.kind, ref: it.ref });
    else if (it.kind === 'entity') {
      const ref = String(it.ref).replace(/^entity:/, '');
      if (/^\d+$/.test(ref)) seeds.push({ kind: 'entity', ref });
      else {
        try {
          const e = await get('/cluster/' + seg(ref), { network: it.network || undefined, limit: 1 }, { signal });
          seeds.push({ kind: 'entity', ref: String(e.cluster_id) });
        } catch (err) {
          if (isAbort(err)) throw err;
          seeds.push({ kind: 'address', ref });
        }
      }
    }
  }
  return seeds;
}

// graphPage draws /graph.
export async function graphPage(view, ctx) {
  setTitle(t('graphPage.title'));
  const q = ctx.query;
  const seeds = [];
  // ?network= applies to the seeds of the URL (evm-N for 0x addresses).
  const network = q.get('network') || undefined;
  for (const kind of ['address', 'tx', 'entity']) for (const ref of q.getAll(kind)) if (ref) seeds.push({ kind, ref, network });
  const caseId = q.get('case') || null;
  const exhibitId = q.get('exhibit') || null;
  const container = h('div', { className: 'graph-host', dataset: { testid: 'graph-host' } });
  view.append(container);
  if (caseId && !exhibitId) {
    replace(container, loading());
    try {
      seeds.push(...(await caseSeeds(caseId, ctx.signal)));
    } catch (e) {
      if (isAbort(e)) return;
      replace(container, errorBanner(e));
      return;
    }
    replace(container);
  }
  if (ctx.signal.aborted) return;
  const seen = new Set();
  const unique = seeds.filter((s) => {
    const k = s.kind + ' ' + s.ref;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
  const g = mountGraph(container, { seeds: unique, caseId, exhibitId, navigate: ctx.navigate });
  return () => g?.destroy?.();
}
