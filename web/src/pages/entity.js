// entity.js: the entity (cluster) page: size, totals, categories, every tag
// of its addresses with source and confidence, tag conflicts, and the
// member addresses paginated with the API's limit/offset, with a CSV
// export of all members. /entity/{id} reads GET /entity/{id}; an address in
// place of the id reads GET /cluster/{address} (the same answer).

import { caseOf } from '../cases/exportdata.js';
import { h, replace } from '../dom.js';
import { get, seg } from '../api.js';
import { t, fmtNumber, tn } from '../i18n.js';
import { setQuery } from '../router.js';
import {
  pageHeader, section, facts, amount, num, badge, blockLink, addrLink, tagsTable, table, pager, loading, errorBanner, isAbort, exportButtons,
  setTitle, linkButton,
} from './common.js';
import { addToCaseButton } from './address.js';

const PAGE = 50;

function source(ref) {
  return /^\d+$/.test(ref) ? '/entity/' + seg(ref) : '/cluster/' + seg(ref);
}

// entityPage draws /entity/{id}.
export async function entityPage(view, ctx) {
  const ref = ctx.params.id;
  const network = ctx.query.get('network') || undefined;
  let offset = Math.max(0, parseInt(ctx.query.get('offset') || '0', 10) || 0);
  setTitle(t('entity.name', { id: ref }));
  const status = h('div', {}, loading());
  view.append(status);
  let e;
  try {
    e = await get(source(ref), { network, limit: PAGE, offset }, { signal: ctx.signal });
  } catch (err) {
    if (isAbort(err)) return;
    view.prepend(pageHeader({ kind: t('kind.entity'), title: t('entity.name', { id: ref }) }));
    replace(status, errorBanner(err));
    return;
  }
  status.remove();
  const id = String(e.cluster_id);
  // Later pages: by a member address when the answer names one (the same
  // answer as by id).
  const pages = e.address ? '/cluster/' + seg(e.address) : '/entity/' + seg(id);
  const net = e.ledger?.network;
  const idText = fmtNumber(e.cluster_id, { useGrouping: false });
  setTitle(t('entity.name', { id: idText }));
  view.append(
    pageHeader({
      kind: t('kind.entity'),
      title: t('entity.name', { id: idText }),
      sub: [
        tn('entity.addresses', e.size),
        e.categories?.length ? [' · ', e.categories.map((c) => badge(c, 'info'))] : null,
        e.sanctioned ? [' ', badge(t('tags.sanctioned'), 'danger')] : null,
      ],
      actions: [
        linkButton(t('common.openGraph'), '/graph?entity=' + encodeURIComponent(id) + (network ? '&network=' + encodeURIComponent(network) : ''), { testid: 'open-graph' }),
        addToCaseButton({ kind: 'entity', ref: 'entity:' + id, network: net, label: '' }),
      ],
    }),
  );
  const sum = section(t('entity.summary'));
  sum.body.append(
    facts([
      [t('entity.size'), num(e.size)],
      [t('entity.balance'), amount(e.balance, 'big')],
      [t('entity.received'), amount(e.total_received)],
      [t('entity.sent'), amount(e.total_sent)],
      [t('entity.txCount'), num(e.tx_count)],
      [t('entity.firstSeen'), e.first_seen_height ? blockLink(e.first_seen_height, net) : '—'],
      [t('entity.lastSeen'), e.last_seen_height ? blockLink(e.last_seen_height, net) : '—'],
      [t('entity.clusteredTo'), e.clustered_to ? blockLink(e.clustered_to, net) : '—'],
    ]),
    h('p', { className: 'small muted', text: t('entity.totalsNote') }),
  );
  view.append(sum);
  if (e.conflicts?.length) {
    const conf = section(t('entity.conflictsTitle'));
    view.append(conf);
    conf.body.append(
      table(
        [
          { label: t('entity.conflictKind'), cell: (c) => c.kind },
          { label: t('entity.conflictValues'), cell: (c) => (c.values || []).join(' ≠ ') },
          { label: t('entity.conflictPacks'), cell: (c) => (c.packs || []).join(', ') },
        ],
        e.conflicts,
      ),
    );
  } else sum.body.append(h('p', { className: 'small muted', text: t('entity.noConflicts') }));

  const tg = section(t('entity.tags', { n: fmtNumber(e.tags?.length ?? 0) }));
  tg.body.append(tagsTable(e.tags, { address: true, network: net, testid: 'tags-table' }));
  view.append(tg);

  const members = section(t('entity.members'), {
    extra: exportButtons(async (progress) => {
      const rows = [];
      let off = 0;
      for (;;) {
        const p = await get(pages, { network: net, limit: 1000, offset: off });
        for (const a of p.addresses || []) rows.push([id, a]);
        off += (p.addresses || []).length;
        progress(off, p.size);
        if (!p.addresses?.length || off >= p.size) break;
      }
      return { name: `entity-${id}-addresses`, header: ['entity_id', 'address'], rows };
    }, { caseId: caseOf(ctx.query) }),
  });
  view.append(members);

  function draw(page) {
    const rows = (page.addresses || []).map((a, i) => ({ a, i: offset + i + 1 }));
    replace(
      members.body,
      table(
        [
          { label: '#', cell: (r) => num(r.i), sort: (r) => r.i, num: true, className: 'col-narrow' },
          { label: t('entity.address'), cell: (r) => addrLink(r.a, network), sort: (r) => r.a, className: 'col-hash' },
        ],
        rows,
        { testid: 'members-table' },
      ),
      pager({ offset, limit: PAGE, total: page.size, testid: 'members', onChange: (o) => load(o) }),
    );
  }
  async function load(o) {
    offset = o;
    setQuery({ offset: offset || null });
    members.body.classList.add('busy');
    try {
      draw(await get(pages, { network: net, limit: PAGE, offset }, { signal: ctx.signal }));
    } catch (err) {
      if (isAbort(err)) return;
      replace(members.body, errorBanner(err));
    } finally {
      members.body.classList.remove('busy');
    }
  }
  draw(e);
}
