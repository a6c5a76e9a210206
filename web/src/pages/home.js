// home.js: the start page: the state of each index (GET /status) and the
// agency's recent cases.

import { h } from '../dom.js';
import { get } from '../api.js';
import { t, fmtNumber } from '../i18n.js';
import { getMe } from './session.js';
import { section, fill, table, blockLink, badge, yesNo, date, link, casePath, pageHeader, setTitle, empty } from './common.js';
import { statusBadge } from '../cases/list.js';

// homePage draws the index status and recent cases.
export function homePage(view, ctx) {
  setTitle(t('home.title'));
  const me = getMe();
  view.append(pageHeader({ kind: t('home.kind'), title: t('home.welcome', { user: me?.username || '' }), sub: t('home.hint') }));
  const grid = h('div', { className: 'grid-2' });
  const status = section(t('home.indexes'));
  const cases = section(t('home.recentCases'), { extra: link('/cases', t('home.allCases')) });
  grid.append(status, cases);
  view.append(grid);

  fill(status.body, get('/status', undefined, { signal: ctx.signal }), (st) => {
    const nets = st.networks || [];
    return [
      nets.length
        ? table(
            [
              { label: t('home.network'), cell: (n) => `${n.chain} ${n.network}` },
              { label: t('home.tip'), cell: (n) => blockLink(n.tip_height, n.network), num: true },
              { label: t('home.txs'), cell: (n) => fmtNumber(n.txs), num: true },
              { label: t('home.addresses'), cell: (n) => fmtNumber(n.addresses), num: true },
              { label: t('home.outputs'), cell: (n) => fmtNumber(n.outputs), num: true },
              { label: t('home.clustered'), cell: (n) => badge(yesNo(n.clustered), n.clustered ? 'ok' : 'warn') },
            ],
            nets,
          )
        : empty(t('home.noIndex')),
      h('p', { className: 'small muted', text: t('home.version', { version: st.vestigo_version || '' }) }),
    ];
  });

  fill(cases.body, get('/cases', { limit: 8, newest_first: 'true' }, { signal: ctx.signal }), (cs) =>
    table(
      [
        { label: t('cases.reference'), cell: (c) => link(casePath(c.id), c.reference) },
        { label: t('cases.caseTitle'), cell: (c) => c.title },
        { label: t('cases.status'), cell: (c) => statusBadge(c.status) },
        { label: t('cases.opened'), cell: (c) => date(c.opened) },
      ],
      cs,
      { empty: t('cases.none') },
    ),
  );
}
