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

// Intl wants BCP 47 tags; ours are.
function intlLocale() {
  return current;
}

// fmtNumber formats an integer or a decimal for the locale.
export function fmtNumber(n, opts) {
  if (n === null || n === undefined || n === '') return '';
  return new Intl.NumberFormat(intlLocale(), opts).format(n);
}

// fmtPercent formats a share (0..1).
export function fmtPercent(share, digits = 1) {
  return new Intl.NumberFormat(intlLocale(), { style: 'percent', maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(share);
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
  const nf = new Intl.NumberFormat(intlLocale());
  const sep = nf.formatToParts(1.5).find((p) => p.type === 'decimal')?.value ?? '.';
  let s = nf.format(whole) + (decimals > 0 ? sep + frac : '');
  if (neg) s = '−' + s;
  return unit ? `${s} ${unit}` : s;
}

// fmtDate formats an RFC 3339 time (or a Date) as date and time in UTC,
// the zone investigators' timelines use.
export function fmtDate(v, withTime = true) {
  if (!v) return '';
  const d = v instanceof Date ? v : new Date(v);
  if (Number.isNaN(d.getTime()) || d.getUTCFullYear() <= 1) return '';
  const opts = withTime ? { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' } : { dateStyle: 'medium', timeZone: 'UTC' };
  return new Intl.DateTimeFormat(intlLocale(), opts).format(d) + (withTime ? ' UTC' : '');
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
