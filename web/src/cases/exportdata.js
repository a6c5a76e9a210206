// exportdata.js: the data side of reports and recorded exports, without
// DOM or requests (web/test tests it): the report languages and the one
// that fits the workspace's language, the body of a table export, the
// case context a page was opened in, and what a report verification says.

// REPORT_LANGS are the languages a report renders in (the API's codes),
// each named in itself.
export const REPORT_LANGS = [
  { code: 'en', name: 'English' },
  { code: 'sq', name: 'Shqip' },
  { code: 'mk', name: 'Македонски' },
  { code: 'sr', name: 'Српски (ћирилица)' },
  { code: 'sr-Latn', name: 'Srpski (latinica)' },
];

// REPORT_FORMATS are the formats a report renders to.
export const REPORT_FORMATS = ['pdf', 'html'];

// reportLang is the report language of a workspace locale: Serbian in
// Cyrillic is the API's "sr", in Latin "sr-Latn"; English for a locale
// the reports lack.
export function reportLang(locale) {
  if (locale === 'sr-Cyrl' || locale === 'sr') return 'sr';
  if (REPORT_LANGS.some((l) => l.code === locale)) return locale;
  return 'en';
}

// cellText is a table cell as the export API takes it: a string (null and
// undefined empty, numbers and BigInts in their plain digits).
export function cellText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' && !Number.isFinite(v)) return '';
  return String(v);
}

// tableExport is the body of POST /cases/{case}/exports for a table:
// name without the extension (the server adds it), the header and the
// rows as strings.
export function tableExport(format, name, header, rows) {
  return {
    kind: 'table',
    format,
    name: String(name || 'table').replace(/\.(csv|xlsx)$/i, ''),
    columns: header.map(cellText),
    rows: rows.map((r) => r.map(cellText)),
  };
}

// caseOf is the case context of a page: the id in its ?case= parameter
// (a positive integer), else null.
export function caseOf(query) {
  const v = query?.get?.('case') || '';
  return /^[1-9]\d{0,17}$/.test(v) ? v : null;
}

// withCase adds the case context to a workspace path ("/address/x?network=y").
export function withCase(path, caseId) {
  if (!path || !caseId) return path;
  return path + (path.includes('?') ? '&' : '?') + 'case=' + encodeURIComponent(String(caseId));
}

// verifyOutcome condenses POST /reports/verify's answer: ok, the problems,
// what was not checked, and the facts of the exhibit found.
export function verifyOutcome(res) {
  const r = res || {};
  return {
    ok: r.ok === true,
    found: r.found === true,
    sha256: String(r.sha256 || ''),
    exhibit: r.exhibit ? { id: r.exhibit.id, name: String(r.exhibit.name || ''), case: String(r.case_reference || '') } : null,
    checkpoint: r.checkpoint ? r.checkpoint.seq : null,
    record: r.record || null,
    problems: Array.isArray(r.problems) ? r.problems.map(String) : [],
    unchecked: Array.isArray(r.unchecked) ? r.unchecked.map(String) : [],
  };
}
