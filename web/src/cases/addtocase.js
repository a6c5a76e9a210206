// addtocase.js: the "Add to case" dialog, used by every page and by the
// graph: pick one of the agency's open cases, give an optional label, and
// the item (an address, a transaction or an entity) is added with
// POST /cases/{id}/items (the server records where it resolved it).

import { h, replace } from '../dom.js';
import { get, post, seg } from '../api.js';
import { t } from '../i18n.js';
import { openDialog, errorText, loading, link, kindName, casePath } from '../pages/common.js';

// openAddToCase opens the dialog for the item {kind: "address" | "tx" |
// "entity", ref, network, label}. An entity's ref is "entity:ID",
// "entity:ADDRESS" or a bare id. Resolves to the created item, or null if
// the dialog was closed without adding.
export function openAddToCase({ kind, ref, network, label } = {}) {
  if (kind === 'entity' && !String(ref).startsWith('entity:')) ref = 'entity:' + ref;
  return new Promise((resolve) => {
    let created = null;
    const body = h('div', { className: 'add-to-case' }, loading());
    const dlg = openDialog(t('addToCase.title'), body, { testid: 'add-to-case-dialog', onClose: () => resolve(created) });

    get('/cases', { status: 'open', limit: 1000, newest_first: 'true' })
      .then((cases) => {
        if (!cases.length) {
          replace(body, h('p', { text: t('addToCase.noOpenCase') }), h('p', {}, link('/cases', t('addToCase.goCases'))));
          return;
        }
        const select = h(
          'select',
          { id: 'atc-case', required: true, dataset: { testid: 'add-to-case-case' } },
          cases.map((c) => h('option', { value: String(c.id), text: `${c.reference} — ${c.title}` })),
        );
        const lbl = h('input', { id: 'atc-label', type: 'text', maxLength: 500, value: label || '', dataset: { testid: 'add-to-case-label' }, placeholder: t('addToCase.labelHint') });
        const msg = h('div', { attrs: { role: 'status' }, className: 'form-msg' });
        const submit = h('button', { type: 'submit', className: 'btn btn-primary', text: t('addToCase.submit'), dataset: { testid: 'add-to-case-submit' } });
        const form = h(
          'form',
          {
            className: 'form',
            on: {
              submit: async (ev) => {
                ev.preventDefault();
                submit.disabled = true;
                msg.className = 'form-msg';
                msg.textContent = t('common.saving');
                const c = cases.find((x) => String(x.id) === select.value);
                try {
                  created = await post('/cases/' + seg(select.value) + '/items', { kind, ref, network: network || undefined, label: lbl.value.trim() || undefined });
                  replace(
                    body,
                    h('div', { className: 'banner banner-ok', attrs: { role: 'status' }, dataset: { testid: 'add-to-case-done' } }, t('addToCase.added', { case: c?.reference ?? select.value })),
                    h('p', {}, link(casePath(select.value), t('addToCase.openCase', { case: c?.reference ?? select.value }))),
                    h('div', { className: 'form-actions' }, h('button', { type: 'button', className: 'btn btn-primary', text: t('common.close'), on: { click: dlg.close } })),
                  );
                  body.querySelector('button')?.focus();
                } catch (e) {
                  msg.className = 'form-msg error';
                  msg.textContent = errorText(e);
                  submit.disabled = false;
                }
              },
            },
          },
          h('div', { className: 'atc-what' }, h('span', { className: 'badge badge-info', text: kindName(kind) }), ' ', h('span', { className: 'mono', text: ref })),
          h('label', { htmlFor: 'atc-case', text: t('addToCase.case') }),
          select,
          h('label', { htmlFor: 'atc-label', text: t('addToCase.label') }),
          lbl,
          msg,
          h('div', { className: 'form-actions' }, h('button', { type: 'button', className: 'btn', text: t('common.cancel'), on: { click: dlg.close } }), submit),
        );
        replace(body, form);
        select.focus();
      })
      .catch((e) => replace(body, h('div', { className: 'banner banner-error', text: errorText(e) })));
  });
}
