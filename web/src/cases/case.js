// case.js: the case page (/cases/{id}): the header, the items of interest
// (links to their pages, which open in the case's context), notes with a
// form, findings with their stored parameters and results (exported as
// JSON, CSV or XLSX), the court report (rendered in a format and language,
// verified from a file), exhibits (download; saved graphs reopen in the
// graph and export as GraphML or GEXF), tasks, and the case's audit trail
// for the roles that may read it. Reports and exports become exhibits of
// the case and show their SHA-256.

import { h, replace } from '../dom.js';
import { get, post, del, upload, seg, url } from '../api.js';
import { t, fmtNumber, locale } from '../i18n.js';
import { can, userNames, userName } from '../pages/session.js';
import {
  pageHeader, section, facts, table, date, badge, link, loading, errorBanner, errorText, isAbort, setTitle, button, linkButton, empty, notice,
  addressPath, txPath, entityPath, kindName, pretty,
} from '../pages/common.js';
import { statusBadge } from './list.js';
import { exportLinks, recordExport, recordedLine, renderReport, sha } from './exports.js';
import { REPORT_FORMATS, REPORT_LANGS, reportLang, verifyOutcome, withCase } from './exportdata.js';

// GRAPH_TYPE is the media type of a saved graph exhibit.
export const GRAPH_TYPE = 'application/vnd.vestigo.graph+json';

// itemPath is the page of a case item, opened in the context of case
// caseId when given (its tables then export into the case).
export function itemPath(it, caseId) {
  const net = it.network || undefined;
  switch (it.kind) {
    case 'address':
      return withCase(addressPath(it.ref, net), caseId);
    case 'tx':
      return withCase(txPath(it.ref, net), caseId);
    case 'entity':
      return withCase(entityPath(String(it.ref).replace(/^entity:/, ''), net), caseId);
  }
  return null;
}

function findingKindName(k) {
  switch (k) {
    case 'trace':
      return t('finding.trace');
    case 'path':
      return t('finding.path');
    case 'exposure':
      return t('finding.exposure');
    case 'patterns':
      return t('finding.patterns');
    case 'risk':
      return t('finding.risk');
    case 'screen':
      return t('finding.screen');
    case 'deposits':
      return t('finding.deposits');
  }
  return k;
}

function taskStatusName(s) {
  switch (s) {
    case 'todo':
      return t('task.todo');
    case 'doing':
      return t('task.doing');
    case 'done':
      return t('task.done');
  }
  return s;
}

function actionName(a) {
  switch (a) {
    case 'create':
      return t('audit.create');
    case 'change':
      return t('audit.change');
    case 'view':
      return t('audit.view');
    case 'export':
      return t('audit.export');
    case 'delete':
      return t('audit.delete');
    case 'login':
      return t('audit.login');
    case 'login-failed':
      return t('audit.loginFailed');
    case 'denied':
      return t('audit.denied');
    case 'checkpoint':
      return t('audit.checkpoint');
    case 'import':
      return t('audit.import');
  }
  return a;
}

function sizeText(n) {
  if (n < 1024) return t('common.bytes', { n: fmtNumber(n) });
  if (n < 1024 * 1024) return t('common.kib', { n: fmtNumber(n / 1024, { maximumFractionDigits: 1 }) });
  return t('common.mib', { n: fmtNumber(n / 1024 / 1024, { maximumFractionDigits: 1 }) });
}

// casePage draws /cases/{id}.
export async function casePage(view, ctx) {
  const id = ctx.params.id;
  const signal = ctx.signal;
  const base = '/cases/' + seg(id);
  const status = h('div', {}, loading());
  view.append(status);
  let c, names;
  try {
    [c, names] = await Promise.all([get(base, undefined, { signal }), userNames(signal)]);
  } catch (e) {
    if (isAbort(e)) return;
    view.prepend(pageHeader({ kind: t('kind.case'), title: id }));
    replace(status, errorBanner(e));
    return;
  }
  status.remove();
  setTitle(c.reference, t('kind.case'));

  const jump = (sec) => () => sec.scrollIntoView({ behavior: 'smooth', block: 'start' });
  const items = section(t('case.items'), { id: 'items', testid: 'case-items' });
  const notes = section(t('case.notes'), { id: 'notes', testid: 'case-notes' });
  const findings = section(t('case.findings'), { id: 'findings', testid: 'case-findings' });
  const exhibits = section(t('case.exhibits'), { id: 'exhibits', testid: 'case-exhibits' });
  const report = section(t('report.title'), { id: 'report', testid: 'case-report' });
  const tasks = section(t('case.tasks'), { id: 'tasks', testid: 'case-tasks' });
  const audit = section(t('case.audit'), { id: 'audit', testid: 'case-audit' });

  view.append(
    pageHeader({
      kind: t('kind.case'),
      title: `${c.reference} — ${c.title}`,
      sub: [statusBadge(c.status), c.origin_agency ? [' ', badge(t('case.importedFrom', { agency: c.origin_agency }), 'warn')] : null],
      actions: [linkButton(t('case.openGraph'), '/graph?case=' + encodeURIComponent(String(c.id)), { testid: 'open-case-graph', kind: 'primary' })],
    }),
    h(
      'div',
      { className: 'case-top' },
      facts([
        [t('cases.opened'), date(c.opened)],
        c.status !== 'open' && c.closed && !c.closed.startsWith('0001') ? [t('case.closed'), date(c.closed)] : null,
        [t('cases.lead'), userName(names, c.lead_user_id) || '—'],
        [t('cases.legalBasis'), c.legal_basis || '—'],
        [t('case.createdBy'), userName(names, c.created_by) || '—'],
        [t('case.updated'), date(c.updated_at)],
      ]),
      h(
        'nav',
        { className: 'jump', attrs: { 'aria-label': t('case.sections') } },
        [items, notes, findings, report, exhibits, tasks, audit].map((s) => h('button', { type: 'button', className: 'btn btn-quiet', text: s.querySelector('h2').textContent, on: { click: jump(s) } })),
      ),
    ),
    items,
    h('div', { className: 'grid-2' }, notes, tasks),
    findings,
    report,
    exhibits,
    audit,
  );

  let itemList = [];
  const itemRef = (itemId) => {
    const it = itemList.find((x) => x.id === itemId);
    return it ? it.label || it.ref : t('case.itemN', { id: itemId });
  };

  // ---- items
  async function loadItems() {
    replace(items.body, loading());
    try {
      itemList = await get(base + '/items', undefined, { signal });
      const cols = [
        { label: t('case.kind'), cell: (it) => badge(kindName(it.kind), 'kind-' + it.kind), sort: (it) => it.kind },
        { label: t('case.ref'), cell: (it) => (itemPath(it, c.id) ? link(itemPath(it, c.id), it.ref, true) : h('span', { className: 'mono', text: it.ref })), sort: (it) => it.ref, className: 'col-hash' },
        { label: t('case.label'), cell: (it) => it.label || '', sort: (it) => it.label },
        { label: t('case.network'), cell: (it) => it.network, sort: (it) => it.network },
        { label: t('case.added'), cell: (it) => date(it.created_at), sort: (it) => it.created_at },
        { label: t('case.by'), cell: (it) => it.provenance?.actor || userName(names, it.created_by), sort: (it) => it.provenance?.actor },
      ];
      if (can('write'))
        cols.push({
          label: '',
          cell: (it) =>
            button(t('common.remove'), async (ev) => {
              if (!window.confirm(t('case.confirmRemove', { ref: it.ref }))) return;
              ev.target.disabled = true;
              try {
                await del(base + '/items/' + seg(it.id));
                loadItems();
              } catch (e) {
                ev.target.disabled = false;
                window.alert(errorText(e));
              }
            }, { className: 'btn-small' }),
        });
      replace(items.body, table(cols, itemList, { testid: 'case-items-table', empty: t('case.noItems') }));
    } catch (e) {
      if (!isAbort(e)) replace(items.body, errorBanner(e));
    }
  }

  // ---- notes
  const noteList = h('ol', { className: 'notes', dataset: { testid: 'case-notes-list' } });
  function noteEl(n) {
    return h(
      'li',
      { className: 'note' },
      h('div', { className: 'note-meta' }, h('strong', { text: userName(names, n.created_by) }), ' · ', date(n.created_at), n.item_id ? [' · ', t('case.onItem', { item: itemRef(n.item_id) })] : null),
      h('div', { className: 'note-text', text: n.text }),
    );
  }
  async function loadNotes() {
    const form = can('annotate') ? noteForm() : null;
    replace(notes.body, form, loading());
    try {
      const list = await get(base + '/notes', undefined, { signal });
      replace(noteList, list.slice().reverse().map(noteEl));
      replace(notes.body, form, list.length ? noteList : [noteList, empty(t('case.noNotes'))]);
    } catch (e) {
      if (!isAbort(e)) replace(notes.body, form, errorBanner(e));
    }
  }
  function noteForm() {
    const text = h('textarea', { id: 'note-text', rows: 3, required: true, maxLength: 20000, placeholder: t('case.notePlaceholder'), dataset: { testid: 'case-note-text' }, attrs: { 'aria-label': t('case.newNote') } });
    const msg = h('div', { className: 'form-msg', attrs: { role: 'status' } });
    const submit = h('button', { type: 'submit', className: 'btn btn-primary', text: t('case.addNote'), dataset: { testid: 'case-note-submit' } });
    return h(
      'form',
      {
        className: 'form note-form',
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            if (!text.value.trim()) return;
            submit.disabled = true;
            msg.className = 'form-msg';
            msg.textContent = t('common.saving');
            try {
              const n = await post(base + '/notes', { text: text.value });
              text.value = '';
              msg.textContent = t('case.noteAdded');
              noteList.parentNode?.querySelector('.empty')?.remove();
              if (!noteList.isConnected) ev.target.after(noteList);
              noteList.prepend(noteEl(n));
            } catch (e) {
              msg.className = 'form-msg error';
              msg.textContent = errorText(e);
            } finally {
              submit.disabled = false;
            }
          },
        },
      },
      text,
      h('div', { className: 'form-actions' }, msg, submit),
    );
  }

  // ---- findings
  async function loadFindings() {
    replace(findings.body, loading());
    try {
      const list = await get(base + '/findings', undefined, { signal });
      if (!list.length) return replace(findings.body, empty(t('case.noFindings')));
      replace(
        findings.body,
        h(
          'div',
          { className: 'findings' },
          list.map((f) => {
            const st = h('span', { className: 'btn-status', attrs: { role: 'status' } });
            const actions = can('write')
              ? h(
                  'div',
                  { className: 'finding-actions' },
                  exportLinks(t('export.label'), [['json', 'JSON'], ['csv', 'CSV'], ['xlsx', 'XLSX']], (format) => exportInto({ kind: 'finding', format, finding: f.id }, st), {
                    testid: 'finding-export',
                    title: t('export.findingTitle'),
                  }),
                  st,
                )
              : null;
            const details = h(
              'details',
              { className: 'finding', dataset: { testid: 'case-finding' } },
              h('summary', {}, badge(findingKindName(f.kind), 'info'), ' ', h('strong', { text: f.title || t('case.untitled') }), h('span', { className: 'small muted', text: ' · ' + userName(names, f.created_by) + ' · ' }), date(f.created_at)),
              facts([
                [t('case.source'), f.provenance?.source || '—'],
                [t('case.indexTip'), f.provenance?.index_tip ? fmtNumber(f.provenance.index_tip) : '—'],
                [t('case.blockHash'), f.provenance?.block_hash ? h('span', { className: 'mono small', text: f.provenance.block_hash }) : '—'],
                [t('case.version'), f.provenance?.vestigo_version || '—'],
              ]),
              h('h3', { text: t('case.params') }),
              pretty(f.params, 5000),
              h('h3', { text: t('case.result') }),
              pretty(f.result, 20000),
            );
            return h('div', { className: 'finding-wrap', dataset: { testid: 'case-finding-wrap', finding: f.id } }, details, actions);
          }),
        ),
      );
    } catch (e) {
      if (!isAbort(e)) replace(findings.body, errorBanner(e));
    }
  }

  // ---- exports: each becomes an exhibit of the case, downloads, and says
  // which exhibit it is with its SHA-256 in status.
  const exportStatus = h('div', { className: 'export-status', attrs: { role: 'status' }, dataset: { testid: 'export-status' } });
  async function exportInto(body, status) {
    replace(status, t('common.exporting'));
    try {
      const ex = await recordExport(c.id, body);
      replace(status, recordedLine(ex));
      loadExhibits();
    } catch (e) {
      replace(status, h('span', { className: 'form-msg error', text: errorText(e) }));
    }
  }

  // ---- report: render (write access) and verify (everyone who reads)
  function reportPanel() {
    const format = h(
      'select',
      { id: 'report-format', dataset: { testid: 'report-format' } },
      REPORT_FORMATS.map((f) => h('option', { value: f, text: f === 'pdf' ? t('report.pdf') : t('report.html') })),
    );
    const lang = h(
      'select',
      { id: 'report-lang', dataset: { testid: 'report-lang' } },
      REPORT_LANGS.map((l) => h('option', { value: l.code, text: l.name, selected: l.code === reportLang(locale()) })),
    );
    const result = h('div', { className: 'form-msg report-result', attrs: { role: 'status' }, dataset: { testid: 'report-result' } });
    const render = button(
      t('report.render'),
      async () => {
        render.disabled = true;
        result.className = 'form-msg report-result';
        replace(result, t('report.rendering'));
        try {
          const r = await renderReport(c.id, format.value, lang.value);
          replace(result, recordedLine(r.exhibit));
          loadExhibits();
        } catch (e) {
          result.className = 'form-msg report-result error';
          replace(result, errorText(e));
        } finally {
          render.disabled = false;
        }
      },
      { kind: 'primary', testid: 'report-render', title: t('report.renderTitle') },
    );
    const renderForm = can('write')
      ? h(
          'div',
          { className: 'form form-row' },
          h('label', { htmlFor: 'report-format', text: t('report.format') }),
          format,
          h('label', { htmlFor: 'report-lang', text: t('report.lang') }),
          lang,
          render,
        )
      : notice(t('report.mayNotRender'));

    const verdict = h('div', { className: 'verify-result', attrs: { role: 'status', 'aria-live': 'polite' }, dataset: { testid: 'report-verify-result' } });
    const file = h('input', {
      type: 'file',
      id: 'report-verify-file',
      accept: '.pdf,.html,.htm,application/pdf,text/html',
      dataset: { testid: 'report-verify-file' },
      on: {
        change: async () => {
          const f = file.files?.[0];
          if (!f) return;
          delete verdict.dataset.ok;
          replace(verdict, loading(t('report.verifying')));
          try {
            const res = await upload('/reports/verify', undefined, f, f.type || 'application/octet-stream');
            drawVerdict(verdict, f.name, verifyOutcome(res));
          } catch (e) {
            replace(verdict, errorBanner(e));
          } finally {
            file.value = '';
          }
        },
      },
    });
    replace(
      report.body,
      h('p', { className: 'small muted', text: t('report.intro') }),
      renderForm,
      result,
      h('h3', { text: t('report.verifyTitle') }),
      h('div', { className: 'form form-row' }, h('label', { htmlFor: 'report-verify-file', text: t('report.verifyPick') }), file),
      verdict,
    );
  }

  // drawVerdict shows what the verification of file found, as text.
  function drawVerdict(el, name, o) {
    el.dataset.ok = String(o.ok);
    replace(
      el,
      h(
        'p',
        {},
        badge(o.ok ? t('report.verifyOk') : t('report.verifyFailed'), o.ok ? 'ok' : 'danger'),
        ' ',
        h('span', { text: o.ok ? t('report.verifyOkText', { name }) : t('report.verifyFailedText', { name }) }),
      ),
      facts([
        ['SHA-256', sha(o.sha256, 'report-verify-sha256')],
        o.exhibit ? [t('report.verifyExhibit'), t('report.verifyExhibitText', { id: o.exhibit.id, name: o.exhibit.name, case: o.exhibit.case })] : null,
        o.record ? [t('report.verifyRecord'), '#' + fmtNumber(o.record)] : null,
        [t('report.verifyCheckpoint'), o.checkpoint ? '#' + fmtNumber(o.checkpoint) : '—'],
      ]),
      o.problems.length
        ? [h('h4', { text: t('report.verifyProblems') }), h('ul', { className: 'verify-problems', dataset: { testid: 'report-verify-problems' } }, o.problems.map((p) => h('li', { text: p })))]
        : null,
      o.unchecked.length ? [h('h4', { text: t('report.verifyUnchecked') }), h('ul', { className: 'verify-unchecked' }, o.unchecked.map((p) => h('li', { text: p })))] : null,
    );
  }

  // ---- exhibits
  async function loadExhibits() {
    replace(exhibits.body, loading());
    try {
      const list = await get(base + '/exhibits', undefined, { signal });
      const cols = [
        {
          label: t('case.exhibitName'),
          cell: (x) => h('span', {}, h('span', { text: x.name }), x.media_type === GRAPH_TYPE ? [' ', badge(t('case.savedGraph'), 'info')] : null),
          sort: (x) => x.name,
        },
        { label: t('case.mediaType'), cell: (x) => h('span', { className: 'small', text: x.media_type }), sort: (x) => x.media_type },
        { label: t('case.size'), cell: (x) => sizeText(x.size), sort: (x) => x.size, num: true },
        { label: 'SHA-256', cell: (x) => h('span', { className: 'mono small hash-wrap', text: x.sha256 }), className: 'col-sha' },
        { label: t('case.added'), cell: (x) => date(x.created_at), sort: (x) => x.created_at },
        { label: t('case.by'), cell: (x) => x.provenance?.actor || userName(names, x.created_by) },
        {
          label: '',
          cell: (x) =>
            h(
              'span',
              { className: 'row-actions' },
              // A plain download link: the browser saves the exact bytes
              // the server checked against the SHA-256.
              h('a', { href: url(base + '/exhibits/' + seg(x.id) + '/content'), download: x.name, className: 'btn btn-small', text: t('case.download'), dataset: { testid: 'exhibit-download' } }),
              x.media_type === GRAPH_TYPE
                ? linkButton(t('case.openSavedGraph'), '/graph?case=' + encodeURIComponent(String(c.id)) + '&exhibit=' + encodeURIComponent(String(x.id)), { testid: 'exhibit-open-graph' })
                : null,
              x.media_type === GRAPH_TYPE && can('write')
                ? exportLinks(t('export.label'), [['graphml', 'GraphML'], ['gexf', 'GEXF']], (format) => exportInto({ kind: 'graph', format, exhibit: x.id }, exportStatus), {
                    testid: 'exhibit-export',
                    title: t('export.graphTitle'),
                  })
                : null,
            ),
        },
      ];
      replace(exhibits.body, exportStatus, can('write') ? uploadForm() : null, table(cols, list, { testid: 'case-exhibits-table', empty: t('case.noExhibits') }));
    } catch (e) {
      if (!isAbort(e)) replace(exhibits.body, errorBanner(e));
    }
  }
  function uploadForm() {
    const file = h('input', { type: 'file', id: 'exhibit-file', required: true, dataset: { testid: 'exhibit-file' } });
    const msg = h('span', { className: 'form-msg', attrs: { role: 'status' } });
    const submit = h('button', { type: 'submit', className: 'btn', text: t('case.upload') });
    return h(
      'form',
      {
        className: 'form form-row',
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            const f = file.files?.[0];
            if (!f) return;
            submit.disabled = true;
            msg.className = 'form-msg';
            msg.textContent = t('case.uploading');
            try {
              await upload(base + '/exhibits', { name: f.name }, f, f.type || 'application/octet-stream');
              loadExhibits();
            } catch (e) {
              msg.className = 'form-msg error';
              msg.textContent = errorText(e);
              submit.disabled = false;
            }
          },
        },
      },
      h('label', { htmlFor: 'exhibit-file', text: t('case.addExhibit') }),
      file,
      submit,
      msg,
    );
  }

  // ---- tasks
  async function loadTasks() {
    replace(tasks.body, loading());
    try {
      const list = await get(base + '/tasks', undefined, { signal });
      replace(
        tasks.body,
        can('annotate') ? taskForm() : null,
        table(
          [
            { label: t('task.title'), cell: (x) => x.title, sort: (x) => x.title },
            { label: t('task.status'), cell: (x) => badge(taskStatusName(x.status), x.status === 'done' ? 'ok' : x.status === 'doing' ? 'info' : 'plain'), sort: (x) => x.status },
            { label: t('task.assignee'), cell: (x) => userName(names, x.assignee_id) || '—', sort: (x) => x.assignee_id },
            { label: t('task.due'), cell: (x) => (x.due && !x.due.startsWith('0001') ? date(x.due) : '—'), sort: (x) => x.due },
          ],
          list,
          { testid: 'case-tasks-table', empty: t('case.noTasks') },
        ),
      );
    } catch (e) {
      if (!isAbort(e)) replace(tasks.body, errorBanner(e));
    }
  }
  function taskForm() {
    const title = h('input', { type: 'text', id: 'task-title', required: true, maxLength: 500, placeholder: t('task.placeholder'), attrs: { 'aria-label': t('task.new') } });
    const msg = h('span', { className: 'form-msg', attrs: { role: 'status' } });
    return h(
      'form',
      {
        className: 'form form-row',
        on: {
          submit: async (ev) => {
            ev.preventDefault();
            if (!title.value.trim()) return;
            try {
              await post(base + '/tasks', { title: title.value.trim() });
              loadTasks();
            } catch (e) {
              msg.className = 'form-msg error';
              msg.textContent = errorText(e);
            }
          },
        },
      },
      title,
      h('button', { type: 'submit', className: 'btn', text: t('task.add') }),
      msg,
    );
  }

  // ---- audit trail
  async function loadAudit() {
    if (!can('audit')) {
      replace(audit.body, notice(t('case.auditNotAllowed')));
      return;
    }
    replace(audit.body, loading());
    const rows = [];
    const more = h('div', { className: 'pager' });
    const holder = h('div', {});
    const draw = () =>
      replace(
        holder,
        table(
          [
            { label: '#', cell: (r) => fmtNumber(r.seq), sort: (r) => r.seq, num: true },
            { label: t('audit.at'), cell: (r) => date(r.at), sort: (r) => r.at },
            { label: t('audit.actor'), cell: (r) => r.actor || '—', sort: (r) => r.actor },
            { label: t('audit.action'), cell: (r) => badge(actionName(r.action), r.action === 'denied' || r.action === 'login-failed' ? 'danger' : r.action === 'delete' ? 'warn' : 'plain'), sort: (r) => r.action },
            { label: t('audit.object'), cell: (r) => (r.object_type ? `${r.object_type}${r.object_id ? ' #' + r.object_id : ''}` : '—'), sort: (r) => r.object_type },
            { label: t('audit.detail'), cell: (r) => h('span', { className: 'mono small detail', title: r.detail, text: r.detail && r.detail !== '{}' ? r.detail : '' }) },
            { label: t('audit.hash'), cell: (r) => h('span', { className: 'mono small', title: r.hash, text: (r.hash || '').slice(0, 12) + '…' }) },
          ],
          rows,
          { testid: 'case-audit-table', empty: t('case.noAudit'), pageSize: 50, sort: { col: 0, dir: 'desc' } },
        ),
      );
    async function page(after) {
      const list = await get('/audit', { case: c.id, after, limit: 500 }, { signal });
      rows.push(...list);
      draw();
      replace(more, list.length === 500 ? button(t('audit.more'), () => page(list[list.length - 1].seq).catch(fail)) : null);
    }
    const fail = (e) => {
      if (!isAbort(e)) replace(audit.body, e.status === 403 ? notice(t('case.auditNotAllowed')) : errorBanner(e));
    };
    replace(audit.body, holder, more);
    try {
      await page(0);
    } catch (e) {
      fail(e);
    }
  }

  reportPanel();
  await Promise.all([loadItems().then(loadNotes), loadFindings(), loadExhibits(), loadTasks(), loadAudit()]);
}
