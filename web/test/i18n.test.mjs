// i18n.test.mjs: unit tests of web/src/i18n.js (node --test; make
// web-check runs them). The module is bundled in memory with its
// catalogues, as the workspace bundles it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

async function load() {
  const out = await esbuild.build({
    entryPoints: [join(here, '..', 'src', 'i18n.js')],
    bundle: true,
    format: 'esm',
    write: false,
    loader: { '.json': 'json' },
    logLevel: 'silent',
  });
  // i18n.js touches document and localStorage when the language changes.
  globalThis.document ??= { documentElement: { lang: 'en' } };
  globalThis.localStorage ??= { getItem: () => null, setItem: () => {} };
  const url = 'data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64');
  return import(url);
}

const i18n = await load();

test('amounts are exact and punctuated per language', () => {
  const want = {
    en: '21,000,000.00000001 BTC',
    sq: '21\u00a0000\u00a0000,00000001 BTC',
    mk: '21.000.000,00000001 BTC',
    'sr-Latn': '21.000.000,00000001 BTC',
    'sr-Cyrl': '21.000.000,00000001 BTC',
  };
  for (const [loc, s] of Object.entries(want)) {
    i18n.setLocale(loc);
    // 2,100,000,000,000,001 satoshis: beyond a float's exact integers
    // would not matter here, but a float would round the last satoshi.
    assert.equal(i18n.fmtAmount('2100000000000001'), s, loc);
    assert.equal(i18n.fmtAmount(0n, ''), loc === 'en' ? '0.00000000' : '0,00000000', loc);
  }
  i18n.setLocale('en');
  assert.equal(i18n.fmtAmount(-150000000), '−1.50000000 BTC');
  assert.equal(i18n.fmtAmount(''), '');
});

test('plural forms follow each language', () => {
  const want = {
    en: [[1, '1 address'], [2, '2 addresses'], [21, '21 addresses']],
    sq: [[1, '1 adresë'], [2, '2 adresa'], [21, '21 adresa']],
    mk: [[1, '1 адреса'], [21, '21 адреса'], [11, '11 адреси'], [5, '5 адреси']],
    'sr-Latn': [[1, '1 adresa'], [3, '3 adrese'], [5, '5 adresa'], [12, '12 adresa'], [22, '22 adrese']],
    'sr-Cyrl': [[21, '21 адреса'], [24, '24 адресе'], [14, '14 адреса']],
  };
  for (const [loc, cases] of Object.entries(want)) {
    i18n.setLocale(loc);
    for (const [n, s] of cases) assert.equal(i18n.tn('entity.addresses', n), s, `${loc} ${n}`);
  }
});

test('messages fall back to English, then to the key, and fill placeholders', () => {
  i18n.setLocale('sq');
  assert.notEqual(i18n.t('nav.cases'), i18n.CATALOGUES.en['nav.cases']);
  assert.equal(i18n.t('no.such.key'), 'no.such.key');
  i18n.setLocale('en');
  assert.equal(i18n.t('search.entitySize', { n: 7 }), 'addresses: 7');
  assert.equal(i18n.t('search.entitySize', {}), 'addresses: {n}');
  i18n.setLocale('de'); // not a language of the workspace: ignored
  assert.equal(i18n.locale(), 'en');
});

test('dates are in UTC', () => {
  i18n.setLocale('en');
  assert.match(i18n.fmtDate('2024-01-01T21:11:09Z'), /2024.*9:11.*PM UTC|2024.*21:11 UTC/);
  assert.equal(i18n.fmtDate('0001-01-01T00:00:00Z'), '');
  assert.equal(i18n.fmtDate(''), '');
});

test('decimal strings in whole units are exact and punctuated per language', () => {
  // 1,234,567.000000000000000001 ETH: 25 significant digits, far beyond
  // what a float keeps; and a token amount with 6 decimals.
  const want = {
    en: ['1,234,567.000000000000000001 ETH', '0.5 VTD', '12 VTD'],
    sq: ['1\u00a0234\u00a0567,000000000000000001 ETH', '0,5 VTD', '12 VTD'],
    mk: ['1.234.567,000000000000000001 ETH', '0,5 VTD', '12 VTD'],
    'sr-Latn': ['1.234.567,000000000000000001 ETH', '0,5 VTD', '12 VTD'],
    'sr-Cyrl': ['1.234.567,000000000000000001 ETH', '0,5 VTD', '12 VTD'],
  };
  for (const [loc, [big, half, whole]] of Object.entries(want)) {
    i18n.setLocale(loc);
    assert.equal(i18n.fmtUnits('1234567.000000000000000001', 'ETH'), big, loc);
    assert.equal(i18n.fmtUnits('0.5', 'VTD'), half, loc);
    assert.equal(i18n.fmtUnits('12', 'VTD'), whole, loc);
  }
  i18n.setLocale('en');
  assert.equal(i18n.fmtUnits('-2.25'), '−2.25');
  assert.equal(i18n.fmtUnits('-0'), '0');
  assert.equal(i18n.fmtUnits('99999999999999999999999999999999'), '99,999,999,999,999,999,999,999,999,999,999');
  assert.equal(i18n.fmtUnits(''), '');
  assert.equal(i18n.fmtUnits('1e21'), '1e21', 'not a plain decimal: shown as given');
  assert.equal(i18n.fmtUnits(' 7.10 ', 'X'), '7.10 X', 'trailing zeros are kept: the string is the amount');
});
