// list.js: the case list (/cases): reference, title, status, opened and
// lead, filtered by status, and the form to open a new case for the roles
// that may write.

import { h, replace } from '../dom.js';
import { get, post } from '../api.js';
import { t } from '../i18n.js';
import { can, userNames, userName } from '../pages/session.js';
import { pageHeader, section, table, date, badge, link, casePath, loading, errorBanner, errorText, isAbort, setTitle, button } from '../pages/common.js';
import { setQuery } from '../router.js';

// statusName names a case status in the locale.
export function statusName(s) {
  switch (s) {
    case 'open':
      return t('cases.statusOpen');
    case 'closed':
      return t('cases.statusClosed');
    case 'archived':
      return t('cases.statusArchived');
  }
  return s || '';
}

// statusBadge shows a case status.
export function statusBadge(s) {
  return badge(statusName(s), s === 'open' ? 'ok' : s === 'closed' ? 'plain' : 'warn');
}

function newCaseForm(ctx, onCancel) {
  const ref = h('input', { id: 'nc-ref', type: 'text', required: true, maxLength: 200, dataset: { testid: 'new-case-reference' } });
  const title = h('input', { id: 'nc-title', type: 'text', required: true, maxLength: 500, dataset: { testid: 'new-case-title' } });
  const basis = h('input', { id: 'nc-basis', type: 'text', maxLength: 500, placeholder: t('cases.legalBasisHint') });
  const msg = h('div', { className: 'form-msg', attrs: { role: 'status' } });
  const submit = h('button', { type: 'submit', className: 'btn btn-primary', text: t('cases.create'), dataset: { testid: 'new-case-submit' } });
  const form = h(
    'form',
    {
      className: 'form form-inline-grid',
      on: {
        submit: async (ev) => {
          ev.preventDefault();
          submit.disabled = true;
          msg.className = 'form-msg';
          msg.textContent = t('common.saving');
          try {
            const c = await post('/cases', { reference: ref.value.trim(), title: title.value.trim(), legal_basis: basis.value.trim() || undefined });
            ctx.navigate(casePath(c.id));
          } catch (e) {
            msg.className = 'form-msg error';
            msg.textContent = errorText(e);
            submit.disabled = false;
          }
        },
      },
    },
    h('div', { className: 'field' }, h('label', { htmlFor: 'nc-ref', text: t('cases.reference') }), ref),
    h('div', { className: 'field field-wide' }, h('label', { htmlFor: 'nc-title', text: t('cases.caseTitle') }), title),
    h('div', { className: 'field field-wide' }, h('label', { htmlFor: 'nc-basis', text: t('cases.legalBasis') }), basis),
    h('div', { className: 'form-actions' }, button(t('common.cancel'), onCancel), submit),
    msg,
  );
  setTimeout(() => ref.focus(), 0);
  return form;
}

// casesPage draws /cases.
export async function casesPage(view, ctx) {
  setTitle(t('cases.title'));
  const status = ctx.query.get('status') || '';
  const filter = h(
    'select',
    {
      className: 'status-filter',
      attrs: { 'aria-label': t('cases.filter') },
      dataset: { testid: 'case-status-filter' },
      on: {
        change: (ev) => {
          setQuery({ status: ev.target.value || null });
          load(ev.target.value);
        },
      },
    },
    [
      ['', t('cases.all')],
      ['open', t('cases.statusOpen')],
      ['closed', t('cases.statusClosed')],
      ['archived', t('cases.statusArchived')],
    ].map(([v, label]) => h('option', { value: v, text: label, selected: v === status })),
  );
  const formBox = h('div', {});
  const newBtn = can('write')
    ? button(
        t('cases.new'),
        () => {
          newBtn.hidden = true;
          const s = section(t('cases.newTitle'));
          s.body.append(
            newCaseForm(ctx, () => {
              replace(formBox);
              newBtn.hidden = false;
            }),
          );
          replace(formBox, s);
        },
        { kind: 'primary', testid: 'new-case' },
      )
    : null;
  view.append(pageHeader({ kind: t('nav.cases'), title: t('cases.title'), actions: [filter, newBtn].filter(Boolean) }), formBox);
  const list = section(t('cases.list'));
  view.append(list);

  async function load(st) {
    replace(list.body, loading());
    try {
      const [cases, names] = await Promise.all([get('/cases', { status: st || undefined, limit: 1000, newest_first: 'true' }, { signal: ctx.signal }), userNames(ctx.signal)]);
      replace(
        list.body,
        table(
          [
            { label: t('cases.reference'), cell: (c) => link(casePath(c.id), c.reference), sort: (c) => c.reference },
            { label: t('cases.caseTitle'), cell: (c) => c.title, sort: (c) => c.title },
            { label: t('cases.status'), cell: (c) => statusBadge(c.status), sort: (c) => c.status },
            { label: t('cases.opened'), cell: (c) => date(c.opened), sort: (c) => c.opened },
            { label: t('cases.lead'), cell: (c) => userName(names, c.lead_user_id) || '—', sort: (c) => userName(names, c.lead_user_id) },
            { label: t('cases.origin'), cell: (c) => c.origin_agency || '', sort: (c) => c.origin_agency || '' },
          ],
          cases,
          { testid: 'cases-table', empty: t('cases.none'), pageSize: 50, sort: { col: 3, dir: 'desc' } },
        ),
      );
    } catch (e) {
      if (isAbort(e)) return;
      replace(list.body, errorBanner(e));
    }
  }
  await load(status);
}
