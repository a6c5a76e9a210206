// build.mjs bundles the workspace (src/main.js with its CSS and message
// catalogues, Cytoscape.js and its layout and SVG extensions) and the
// static files into ../internal/web/dist, which the Go binary embeds.
//
//   node build.mjs           build into ../internal/web/dist
//   node build.mjs --check   build into a temporary directory and fail if
//                            it differs from the committed dist (make test)
//   node build.mjs --out DIR build into DIR (development: vestigo serve
//                            --web-dir DIR serves it without a Go rebuild)
//
// The output is deterministic: the same sources and lockfile give the same
// bytes, so the committed bundle can be checked against its sources.
import * as esbuild from 'esbuild';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, '..', 'internal', 'web', 'dist');
const check = process.argv.includes('--check');
const outArg = process.argv.indexOf('--out');
const out = check ? mkdtempSync(join(tmpdir(), 'vestigo-web-')) : outArg > 0 ? process.argv[outArg + 1] : dist;

function files(dir) {
  const list = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) list.push(...files(p));
    else list.push(p);
  }
  return list;
}

async function build(outDir) {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(join(outDir, 'assets'), { recursive: true });
  await esbuild.build({
    entryPoints: { app: join(here, 'src', 'main.js') },
    bundle: true,
    format: 'esm',
    target: ['chrome110', 'firefox110', 'safari16'],
    minify: true,
    legalComments: 'linked',
    sourcemap: false,
    outdir: join(outDir, 'assets'),
    loader: { '.json': 'json', '.svg': 'text' },
    logLevel: 'warning',
    charset: 'utf8',
  });
  cpSync(join(here, 'static', 'index.html'), join(outDir, 'index.html'));
  cpSync(join(here, 'static', 'favicon.svg'), join(outDir, 'assets', 'favicon.svg'));
}

// checkSources enforces what review alone would miss: every catalogue has
// the English keys and placeholders, every t('key') in the code is in the
// English catalogue (tn('key') its key.other), no code parses HTML from
// strings, and only api.js
// makes requests.
function checkSources() {
  const problems = [];
  const i18n = join(here, 'src', 'i18n');
  const locales = readdirSync(i18n).filter((d) => statSync(join(i18n, d)).isDirectory()).sort();
  const areas = readdirSync(join(i18n, 'en')).filter((f) => f.endsWith('.json')).sort();
  const placeholders = (msg) => [...msg.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  const english = {};
  for (const area of areas) {
    const en = JSON.parse(readFileSync(join(i18n, 'en', area), 'utf8'));
    Object.assign(english, en);
    for (const loc of locales) {
      let cat;
      try {
        cat = JSON.parse(readFileSync(join(i18n, loc, area), 'utf8'));
      } catch (e) {
        problems.push(`i18n/${loc}/${area}: ${e.message}`);
        continue;
      }
      for (const [k, v] of Object.entries(en)) {
        if (typeof cat[k] !== 'string' || cat[k].trim() === '') problems.push(`i18n/${loc}/${area}: no message for ${k}`);
        else if (placeholders(cat[k]) !== placeholders(v)) problems.push(`i18n/${loc}/${area}: ${k} has placeholders {${placeholders(cat[k])}}, English {${placeholders(v)}}`);
      }
      for (const k of Object.keys(cat)) {
        // A language may have plural forms English lacks (Serbian "few").
        const plural = /^(.*)\.(zero|one|two|few|many|other)$/.exec(k);
        if (!(k in en) && !(plural && `${plural[1]}.other` in en)) problems.push(`i18n/${loc}/${area}: ${k} is not in the English catalogue`);
      }
    }
  }
  for (const f of files(join(here, 'src')).filter((p) => p.endsWith('.js'))) {
    const code = readFileSync(f, 'utf8');
    const name = relative(here, f);
    for (const m of code.matchAll(/\bt\(\s*(['"])([^'"]+)\1/g)) {
      if (!(m[2] in english)) problems.push(`${name}: t('${m[2]}') is in no English catalogue`);
    }
    for (const m of code.matchAll(/\btn\(\s*(['"])([^'"]+)\1/g)) {
      if (!(`${m[2]}.other` in english)) problems.push(`${name}: tn('${m[2]}') has no ${m[2]}.other in the English catalogue`);
    }
    if (name !== join('src', 'dom.js') && /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\bDOMParser\b|createContextualFragment/.test(code)) {
      problems.push(`${name}: parses HTML from a string (build DOM with dom.js h())`);
    }
    // The pages reach the server only through api.js, which knows only
    // the versioned API under /api/v1.
    if (name !== join('src', 'api.js') && /\bfetch\s*\(|\bEventSource\b|\bXMLHttpRequest\b|\bsendBeacon\b|\bWebSocket\b/.test(code)) {
      problems.push(`${name}: talks to the server itself (use api.js)`);
    }
  }
  if (problems.length) {
    console.error('web: the sources have problems:\n  ' + problems.join('\n  '));
    process.exit(1);
  }
}

checkSources();
await build(out);
if (check) {
  const a = files(dist).map((p) => relative(dist, p));
  const b = files(out).map((p) => relative(out, p));
  const diffs = [];
  for (const f of new Set([...a, ...b])) {
    if (!a.includes(f)) diffs.push(`${f}: missing from internal/web/dist`);
    else if (!b.includes(f)) diffs.push(`${f}: in internal/web/dist but not built from the sources`);
    else if (!readFileSync(join(dist, f)).equals(readFileSync(join(out, f)))) diffs.push(`${f}: differs from a build of the sources`);
  }
  rmSync(out, { recursive: true, force: true });
  if (diffs.length) {
    console.error('web: internal/web/dist is not the build of web/src (run make web):\n  ' + diffs.join('\n  '));
    process.exit(1);
  }
  console.log('web: internal/web/dist matches web/src');
}
