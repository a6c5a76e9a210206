// i18n.js: message catalogues and locale formatting. Every string the
// workspace shows comes from a catalogue (i18n/<locale>/<area>.json, one
// area per part of the UI); English is the reference and the fallback.
// Dates and amounts are formatted with Intl for the chosen locale.

import enApp from './i18n/en/app.json';
import enGraph from './i18n/en/graph.json';
import sqApp from './i18n/sq/app.json';
import sqGraph from './i18n/sq/graph.json';
import mkApp from './i18n/mk/app.json';
import mkGraph from './i18n/mk/graph.json';
import srLatnApp from './i18n/sr-Latn/app.json';
import srLatnGraph from './i18n/sr-Latn/graph.json';
import srCyrlApp from './i18n/sr-Cyrl/app.json';
import srCyrlGraph from './i18n/sr-Cyrl/graph.json';

// LOCALES are the languages of the workspace, each named in itself.
export const LOCALES = [
  { code: 'en', name: 'English' },
  { code: 'sq', name: 'Shqip' },
  { code: 'mk', name: 'Македонски' },
  { code: 'sr-Latn', name: 'Srpski (latinica)' },
  { code: 'sr-Cyrl', name: 'Српски (ћирилица)' },
];

export const CATALOGUES = {
  en: { ...enApp, ...enGraph },
  sq: { ...sqApp, ...sqGraph },
  mk: { ...mkApp, ...mkGraph },
  'sr-Latn': { ...srLatnApp, ...srLatnGraph },
  'sr-Cyrl': { ...srCyrlApp, ...srCyrlGraph },
};

const STORAGE_KEY = 'vestigo.locale';
let current = 'en';
const listeners = new Set();

// isLocale reports whether code is one of LOCALES.
export function isLocale(code) {
  return Object.hasOwn(CATALOGUES, code);
}

// locale is the current locale's code.
export function locale() {
  return current;
}

// setLocale switches the language (kept in localStorage until the user's
// own setting arrives from the server) and tells the listeners.
export function setLocale(code) {
  if (!isLocale(code) || code === current) return;
  current = code;
  document.documentElement.lang = code;
  try {
    localStorage.setItem(STORAGE_KEY, code);
  } catch {
    /* private mode */
  }
  for (const fn of listeners) fn(code);
}

// initialLocale is the locale before login: the one last used here, else
// the browser's if the workspace has it, else English.
export function initialLocale() {
  let saved = null;
  try {
    saved = localStorage.getItem(STORAGE_KEY);
  } catch {
    /* private mode */
  }
  if (saved && isLocale(saved)) return saved;
  for (const l of navigator.languages || []) {
    if (isLocale(l)) return l;
    const base = l.split('-')[0];
    if (base === 'sr') return /cyrl/i.test(l) ? 'sr-Cyrl' : 'sr-Latn';
    if (isLocale(base)) return base;
  }
  return 'en';
}

// onLocaleChange registers fn(code), called after each switch.
export function onLocaleChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

// t returns the message key in the current language with {name}
// placeholders filled from params; English if the catalogue lacks it, the
// key itself if English does.
export function t(key, params) {
  let msg = CATALOGUES[current][key] ?? CATALOGUES.en[key] ?? key;
  if (params) msg = msg.replace(/\{(\w+)\}/g, (m, name) => (Object.hasOwn(params, name) ? String(params[name]) : m));
  return msg;
}

// plural is CLDR's plural category of the integer n in the current
// language (Intl.PluralRules, or the rules written out for the languages
// a browser may lack).
export function plural(n) {
  const i = Math.abs(Math.trunc(Number(n)));
  if (fallback()) {
    if (current === 'sq') return i === 1 ? 'one' : 'other';
    if (current === 'mk') return i % 10 === 1 && i % 100 !== 11 ? 'one' : 'other';
  }
  try {
    return formatter('plural', current).select(i);
  } catch {
    return i === 1 ? 'one' : 'other';
  }
}

// tn is t for a count: the message key.<category> (key.one, key.few,
// key.other … as the language has them) with {n} the formatted count.
export function tn(key, n, params) {
  let k = `${key}.${plural(n)}`;
  if (!(k in CATALOGUES[current]) && !(k in CATALOGUES.en)) k = `${key}.other`;
  return t(k, { ...params, n: fmtNumber(n) });
}

// FALLBACK holds CLDR's conventions for the locales a browser may have no
// Intl data for (Debian's Chromium has none for Albanian and Macedonian and
// would format their numbers and dates in English): digit grouping, the
// decimal sign and the medium date.
const SQ_MONTHS = ['jan', 'shk', 'mar', 'pri', 'maj', 'qer', 'korr', 'gush', 'sht', 'tet', 'nën', 'dhj'];
const FALLBACK = {
  sq: { group: '\u00a0', decimal: ',', date: (d) => `${d.getUTCDate()} ${SQ_MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}` },
  mk: { group: '.', decimal: ',', date: (d) => `${d.getUTCDate()}.${d.getUTCMonth() + 1}.${d.getUTCFullYear()}` },
};

const intlHas = new Map();

// Formatters are costly to make and the graph formats thousands of labels:
// one per locale and options.
const formatters = new Map();
function formatter(kind, loc, opts) {
  const key = `${kind}|${loc}|${JSON.stringify(opts || {})}`;
  let f = formatters.get(key);
  if (!f) {
    f = kind === 'date' ? new Intl.DateTimeFormat(loc, opts) : kind === 'plural' ? new Intl.PluralRules(loc, opts) : new Intl.NumberFormat(loc, opts);
    formatters.set(key, f);
  }
  return f;
}

// fallback is the current locale's own conventions when Intl lacks them.
function fallback() {
  const conv = FALLBACK[current];
  if (!conv) return null;
  if (!intlHas.has(current)) {
    let has = false;
    try {
      has = new Intl.NumberFormat(current).resolvedOptions().locale.split('-')[0] === current.split('-')[0];
    } catch {
      has = false;
    }
    intlHas.set(current, has);
  }
  return intlHas.get(current) ? null : conv;
}

// localise rewrites a number formatted for en-US ("1,234.5") with the
// fallback's signs.
function localise(s, conv) {
  return s.replace(/[,.]/g, (c) => (c === ',' ? conv.group : conv.decimal));
}

// fmtNumber formats an integer or a decimal for the locale.
export function fmtNumber(n, opts) {
  if (n === null || n === undefined || n === '') return '';
  const conv = fallback();
  if (conv) return localise(formatter('number', 'en-US', opts).format(n), conv);
  return formatter('number', current, opts).format(n);
}

// fmtPercent formats a share (0..1).
export function fmtPercent(share, digits = 1) {
  return fmtNumber(share, { style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

// fmtAmount formats an amount in base units (satoshis: a number, a string
// of digits or a BigInt) as coins with all `decimals` digits, grouped and
// punctuated for the locale, exactly (no floating point): 123456789 →
// "1.23456789" in English, "1,23456789" in Albanian. unit ("BTC") is
// appended when given.
export function fmtAmount(base, unit = 'BTC', decimals = 8) {
  if (base === null || base === undefined || base === '') return '';
  let v = BigInt(base);
  const neg = v < 0n;
  if (neg) v = -v;
  const scale = 10n ** BigInt(decimals);
  const whole = v / scale;
  const frac = (v % scale).toString().padStart(decimals, '0');
  const conv = fallback();
  let s;
  if (conv) {
    s = localise(formatter('number', 'en-US').format(whole), conv) + (decimals > 0 ? conv.decimal + frac : '');
  } else {
    const nf = formatter('number', current);
    const sep = nf.formatToParts(1.5).find((p) => p.type === 'decimal')?.value ?? '.';
    s = nf.format(whole) + (decimals > 0 ? sep + frac : '');
  }
  if (neg) s = '−' + s;
  return unit ? `${s} ${unit}` : s;
}

// fmtUnits formats an exact decimal string in whole units of an asset
// ("1234.5", "-0.000001", "12": the *_units strings of EVM answers, any
// number of decimals) for the locale, digit by digit (no floating point):
// the whole part grouped, the decimal sign of the language, the fraction
// as given. unit ("ETH") is appended when given. A string that is not a
// plain decimal is returned as it is.
export function fmtUnits(units, unit = '') {
  if (units === null || units === undefined || units === '') return '';
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(units).trim());
  if (!m) return String(units);
  const [, minus, whole, frac] = m;
  const conv = fallback();
  let s;
  if (conv) {
    s = localise(formatter('number', 'en-US').format(BigInt(whole)), conv) + (frac ? conv.decimal + frac : '');
  } else {
    const nf = formatter('number', current);
    const sep = nf.formatToParts(1.5).find((p) => p.type === 'decimal')?.value ?? '.';
    s = nf.format(BigInt(whole)) + (frac ? sep + frac : '');
  }
  if (minus && /[1-9]/.test(whole + (frac || ''))) s = '−' + s;
  return unit ? `${s} ${unit}` : s;
}

// fmtDate formats an RFC 3339 time (or a Date) as date and time in UTC,
// the zone investigators' timelines use.
export function fmtDate(v, withTime = true) {
  if (!v) return '';
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() <= 1) return '';
  const conv = fallback();
  if (conv) {
    const hm = `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`;
    return conv.date(d) + (withTime ? `, ${hm} UTC` : '');
  }
  const opts = withTime ? { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' } : { dateStyle: 'medium', timeZone: 'UTC' };
  return formatter('date', current, opts).format(d) + (withTime ? ' UTC' : '');
}

// missingKeys lists, per locale, the English keys its catalogue lacks and
// the keys it has that English does not (a check for tests).
export function missingKeys() {
  const en = Object.keys(CATALOGUES.en);
  const out = {};
  for (const code of Object.keys(CATALOGUES)) {
    const cat = CATALOGUES[code];
    out[code] = {
      missing: en.filter((k) => !(k in cat) || cat[k] === ''),
      extra: Object.keys(cat).filter((k) => !(k in CATALOGUES.en)),
    };
  }
  return out;
}
