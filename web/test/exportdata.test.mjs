// exportdata.test.mjs: unit tests of web/src/cases/exportdata.js (node
// --test; make web-check runs them): the report language of each
// workspace language, the body of a table export, the case context of a
// page and the reading of a report verification.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = await esbuild.build({
  entryPoints: [join(here, '..', 'src', 'cases', 'exportdata.js')],
  bundle: true,
  format: 'esm',
  write: false,
  logLevel: 'silent',
});
const x = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));

test('each workspace language has its report language', () => {
  const want = { en: 'en', sq: 'sq', mk: 'mk', 'sr-Cyrl': 'sr', 'sr-Latn': 'sr-Latn', de: 'en', '': 'en' };
  for (const [loc, lang] of Object.entries(want)) assert.equal(x.reportLang(loc), lang, loc);
  // Every workspace language of i18n.js maps to a language the API takes.
  const api = new Set(['en', 'sq', 'mk', 'sr', 'sr-Latn']);
  assert.deepEqual(new Set(x.REPORT_LANGS.map((l) => l.code)), api);
  assert.deepEqual(x.REPORT_FORMATS, ['pdf', 'html']);
});

test('a table export sends every cell as a string, the name without extension', () => {
  const body = x.tableExport('xlsx', 'address-bc1q-history.csv', ['txid', 'block_height', 'amount'], [
    ['ab', 12, null],
    ['=HYPERLINK("x")', 0, undefined],
    ['-1', 123456789012345678901234567890n, NaN],
  ]);
  assert.deepEqual(body, {
    kind: 'table',
    format: 'xlsx',
    name: 'address-bc1q-history',
    columns: ['txid', 'block_height', 'amount'],
    // Formula prefixes go as they are: the server's writers guard them.
    rows: [
      ['ab', '12', ''],
      ['=HYPERLINK("x")', '0', ''],
      ['-1', '123456789012345678901234567890', ''],
    ],
  });
  assert.equal(x.tableExport('csv', '', ['a'], []).name, 'table');
});

test('the case context is a positive integer in ?case=', () => {
  const q = (s) => new URLSearchParams(s);
  assert.equal(x.caseOf(q('case=7')), '7');
  assert.equal(x.caseOf(q('network=regtest&case=12')), '12');
  for (const bad of ['', 'case=', 'case=0', 'case=-1', 'case=1x', 'case=../2', 'case=01']) assert.equal(x.caseOf(q(bad)), null, bad);
  assert.equal(x.caseOf(null), null);
  assert.equal(x.withCase('/address/a', 3), '/address/a?case=3');
  assert.equal(x.withCase('/address/a?network=regtest', 3), '/address/a?network=regtest&case=3');
  assert.equal(x.withCase('/tx/b', null), '/tx/b');
});

test('a verification is read as ok, problems and what was not checked', () => {
  const ok = x.verifyOutcome({
    ok: true,
    found: true,
    sha256: 'ab'.repeat(32),
    exhibit: { id: 9, name: 'report-DEMO-1-sq.pdf' },
    case_reference: 'DEMO-1',
    record: 41,
    checkpoint: { seq: 43 },
    problems: [],
    unchecked: ['time-stamp: the report was recorded without a TSA token'],
  });
  assert.equal(ok.ok, true);
  assert.deepEqual(ok.exhibit, { id: 9, name: 'report-DEMO-1-sq.pdf', case: 'DEMO-1' });
  assert.equal(ok.checkpoint, 43);
  assert.equal(ok.record, 41);
  assert.equal(ok.unchecked.length, 1);
  const bad = x.verifyOutcome({ ok: false, found: false, sha256: 'cd'.repeat(32), problems: ['not a report Vestigo recorded'] });
  assert.equal(bad.ok, false);
  assert.equal(bad.exhibit, null);
  assert.equal(bad.checkpoint, null);
  assert.deepEqual(bad.problems, ['not a report Vestigo recorded']);
  // Only a literal true is ok.
  assert.equal(x.verifyOutcome({ ok: 'true', problems: null }).ok, false);
  assert.deepEqual(x.verifyOutcome(null).problems, []);
});
