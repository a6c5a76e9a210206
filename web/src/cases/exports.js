// exports.js: recorded exports and court reports in the workspace. An
// export asked of the server (POST /cases/{case}/exports) or a report
// (POST /cases/{case}/report) becomes an exhibit of the case: hashed,
// time-stamped, audited. The file then downloads through the exhibit
// content route, and the page shows its SHA-256.

import { h, download } from '../dom.js';
import { get, post, seg } from '../api.js';
import { t } from '../i18n.js';

const caseBase = (caseId) => '/cases/' + seg(caseId);

// downloadExhibit fetches the bytes of exhibit ex of the case (the server
// checks them against the SHA-256 on the way) and offers them as a file.
export async function downloadExhibit(caseId, ex) {
  const body = await get(caseBase(caseId) + '/exhibits/' + seg(ex.id) + '/content');
  const blob = body instanceof Blob ? body : new Blob([JSON.stringify(body)], { type: 'application/json' });
  download(blob, ex.name);
  return blob;
}

// recordExport asks the server for an export (a body of the exports API),
// downloads the exhibit it recorded and returns the exhibit.
export async function recordExport(caseId, body) {
  const ex = await post(caseBase(caseId) + '/exports', body);
  await downloadExhibit(caseId, ex);
  return ex;
}

// renderReport renders the case's report in format and lang, downloads it
// and returns the answer ({exhibit, digest, format, lang}).
export async function renderReport(caseId, format, lang) {
  const r = await post(caseBase(caseId) + '/report', { format, lang });
  await downloadExhibit(caseId, r.exhibit);
  return r;
}

// sha is a SHA-256 shown whole, in monospace, selectable.
export function sha(hex, testid) {
  return h('span', { className: 'mono small hash-wrap', text: hex, dataset: testid ? { testid } : undefined });
}

// recordedLine says which exhibit an export became, with its SHA-256.
export function recordedLine(ex) {
  return h(
    'span',
    { className: 'recorded', dataset: { testid: 'export-recorded', exhibit: ex.id } },
    t('export.recorded', { id: ex.id, name: ex.name }),
    ' SHA-256 ',
    sha(ex.sha256, 'export-sha256'),
  );
}

// exportLinks is a line "label: FMT · FMT …" of buttons; each runs
// onPick(format) with the buttons disabled and its failure or result shown
// in status (an element the caller places).
export function exportLinks(label, formats, onPick, { testid, title } = {}) {
  const wrap = h('span', { className: 'export-links', dataset: testid ? { testid } : undefined });
  const buttons = formats.map(([format, text]) =>
    h('button', {
      type: 'button',
      className: 'btn btn-small btn-quiet',
      text,
      title,
      dataset: { testid: (testid || 'export') + '-' + format },
      on: {
        click: async () => {
          for (const b of buttons) b.disabled = true;
          try {
            await onPick(format);
          } finally {
            for (const b of buttons) b.disabled = false;
          }
        },
      },
    }),
  );
  wrap.append(h('span', { className: 'small muted', text: label + ' ' }));
  buttons.forEach((b, i) => wrap.append(i ? h('span', { className: 'muted', text: ' · ' }) : '', b));
  return wrap;
}
