// workspace.mjs: the end-to-end test of the web workspace in headless
// Chromium (Debian's package, driven by playwright-core; never a downloaded
// browser). cmd/vestigo's TestWorkspaceInBrowser prepares the installation,
// starts vestigo serve and runs this with:
//
//   VESTIGO_URL, VESTIGO_USER, VESTIGO_PASSWORD  the server and the login
//   CHROMIUM                                      the browser's executable
//   ARTIFACTS                                     where screenshots go
//   E2E_CASE            the demo case's reference
//   E2E_RANSOM          a ransom address of the case
//   E2E_EXCHANGE_LABEL  the tag label of the exchange the ransom reaches
//   E2E_HOSTILE_ADDRESS, E2E_HOSTILE_TX, E2E_HOSTILE_LABELS
//                       an address whose tags hold markup (labels separated
//                       by newlines), and a transaction it is in
//
// Each step writes a screenshot NN-step.png; a failing step writes
// FAILED-step.png and ends the run with exit code 1. The run also fails on
// any page error, console error, Content-Security-Policy violation, dialog,
// or request outside the workspace's pages, its bundle and /api/v1.
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`e2e: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

const base = env('VESTIGO_URL').replace(/\/$/, '');
const origin = new URL(base).origin;
const user = env('VESTIGO_USER');
const password = env('VESTIGO_PASSWORD');
const artifacts = env('ARTIFACTS');
const caseRef = env('E2E_CASE');
const ransom = env('E2E_RANSOM');
const exchangeLabel = env('E2E_EXCHANGE_LABEL');
const hostileAddress = env('E2E_HOSTILE_ADDRESS');
const hostileTx = env('E2E_HOSTILE_TX');
const hostileLabels = env('E2E_HOSTILE_LABELS').split('\n');
mkdirSync(artifacts, { recursive: true });

// The Albanian catalogue: the test expects its words after the switch.
const sq = JSON.parse(readFileSync(join(here, '..', 'src', 'i18n', 'sq', 'app.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(here, '..', 'src', 'i18n', 'en', 'app.json'), 'utf8'));

const appPaths = /^\/(|login|search|cases|graph|address\/.+|tx\/.+|block\/.+|entity\/.+|cases\/.+)$/;
const problems = [];
const timings = {};

const browser = await chromium.launch({
  executablePath: env('CHROMIUM'),
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
});
const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true, locale: 'en-GB' });
await context.addInitScript(() => {
  window.__csp = [];
  document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
});
const page = await context.newPage();
page.setDefaultTimeout(15_000);
page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
page.on('console', (m) => {
  if (m.type() === 'error' && !/status of 40[134]/.test(m.text())) problems.push(`console error: ${m.text()}`);
});
page.on('dialog', (d) => {
  problems.push(`a dialog opened (script ran?): ${d.message()}`);
  d.dismiss().catch(() => {});
});
page.on('request', (r) => {
  const u = new URL(r.url());
  if (u.protocol === 'data:' || u.protocol === 'blob:') return;
  if (u.origin !== origin) problems.push(`request to another origin: ${r.url()}`);
  else if (!u.pathname.startsWith('/api/v1/') && !u.pathname.startsWith('/assets/') && !appPaths.test(u.pathname))
    problems.push(`request outside the workspace and the versioned API: ${r.method()} ${u.pathname}`);
});

let n = 0;
async function step(name, fn) {
  n++;
  const tag = `${String(n).padStart(2, '0')}-${name}`;
  const t0 = Date.now();
  try {
    await fn();
  } catch (e) {
    await page.screenshot({ path: join(artifacts, `FAILED-${tag}.png`), fullPage: true }).catch(() => {});
    console.error(`e2e: step ${tag} failed: ${e.stack || e}`);
    console.error(`e2e: at ${page.url()}`);
    if (problems.length) console.error('e2e: also:\n  ' + problems.join('\n  '));
    await browser.close();
    process.exit(1);
  }
  timings[tag] = Date.now() - t0;
  await page.screenshot({ path: join(artifacts, `${tag}.png`) });
  console.log(`e2e: ${tag} ok (${timings[tag]} ms)`);
}

const byTestId = (id) => page.getByTestId(id);
function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

// inert checks that no hostile markup became live: nothing ran, no image
// or script from a label is in the document, no policy was violated.
async function inert(where) {
  const state = await page.evaluate(() => ({
    xss: window.__xss,
    csp: window.__csp,
    imgs: document.querySelectorAll('img[src="x"], img[onerror], [onerror], [onclick], [onload]').length,
    scripts: [...document.scripts].filter((s) => !s.src).length,
    js: [...document.querySelectorAll('a[href]')].filter((a) => /^\s*javascript:/i.test(a.getAttribute('href'))).length,
  }));
  assert(state.xss === undefined, `${where}: a hostile label ran (window.__xss = ${state.xss})`);
  assert(state.imgs === 0 && state.scripts === 0 && state.js === 0, `${where}: live markup from a label: ${JSON.stringify(state)}`);
  assert(state.csp.length === 0, `${where}: Content-Security-Policy violations: ${state.csp.join('; ')}`);
}

await step('login', async () => {
  await page.goto(base + '/');
  await byTestId('login-username').waitFor();
  await byTestId('login-username').fill(user);
  await byTestId('login-password').fill(password);
  await byTestId('login-submit').click();
  await byTestId('search-input').waitFor();
  await page.waitForFunction(() => !location.pathname.startsWith('/login'));
});

await step('search-ransom-address', async () => {
  await byTestId('search-input').fill(ransom);
  const sug = byTestId('search-suggestion').filter({ hasText: ransom }).first();
  await sug.waitFor();
  const t0 = Date.now();
  await sug.click();
  await page.waitForURL((u) => u.pathname === `/address/${ransom}`);
  await byTestId('history-table').waitFor();
  timings['address-page'] = Date.now() - t0;
  await page.getByText(ransom).filter({ visible: true }).first().waitFor();
});

await step('export-csv', async () => {
  const [dl] = await Promise.all([page.waitForEvent('download'), byTestId('export-csv').first().click()]);
  const file = join(artifacts, 'address-history.csv');
  await dl.saveAs(file);
  const csv = readFileSync(file, 'utf8');
  const lines = csv.trim().split(/\r?\n/);
  assert(lines.length >= 3, `the CSV has ${lines.length} lines:\n${csv}`);
  assert(csv.includes(hostileTx), `the CSV lacks the consolidation transaction ${hostileTx}:\n${csv}`);
});

await step('open-graph', async () => {
  await byTestId('open-graph').first().click();
  await page.waitForURL((u) => u.pathname === '/graph');
  await byTestId('graph-canvas').waitFor();
  await byTestId('graph-node-item').first().waitFor();
});

await step('expand-graph', async () => {
  const before = await byTestId('graph-node-item').count();
  await byTestId('graph-node-item').filter({ hasText: ransom.slice(0, 12) }).first().click();
  await byTestId('graph-expand-out').click();
  await page.waitForFunction(
    (b) => document.querySelectorAll('[data-testid="graph-node-item"]').length > b,
    before,
  );
});

await step('trace-forward', async () => {
  await byTestId('graph-node-item').filter({ hasText: ransom.slice(0, 12) }).first().click();
  await byTestId('graph-trace-forward').click();
  await byTestId('graph-results').filter({ hasText: exchangeLabel }).waitFor({ timeout: 30_000 });
});

let savedNodes = 0;
await step('save-graph', async () => {
  savedNodes = await byTestId('graph-node-item').count();
  await byTestId('graph-save').click();
  await byTestId('graph-save-dialog').waitFor();
  // The options name each case by its reference and title.
  await byTestId('graph-save-case').locator('option', { hasText: caseRef }).first().waitFor({ state: 'attached' });
  const value = await byTestId('graph-save-case').locator('option', { hasText: caseRef }).first().getAttribute('value');
  await byTestId('graph-save-case').selectOption(value);
  await byTestId('graph-save-confirm').click();
  await byTestId('graph-save-dialog').waitFor({ state: 'hidden' });
});

await step('reopen-graph', async () => {
  await page.goto(base + '/cases');
  await page.getByRole('link', { name: caseRef }).first().click();
  await byTestId('exhibit-open-graph').first().click();
  await page.waitForURL((u) => u.pathname === '/graph' && u.searchParams.has('exhibit'));
  await page.waitForFunction((want) => document.querySelectorAll('[data-testid="graph-node-item"]').length === want, savedNodes);
});

await step('case-note', async () => {
  await page.goto(base + '/cases');
  const t0 = Date.now();
  await page.getByRole('link', { name: caseRef }).first().click();
  await byTestId('case-note-text').waitFor();
  timings['case-page'] = Date.now() - t0;
  const text = `Ransom funds reach the exchange (e2e ${Date.now()})`;
  await byTestId('case-note-text').fill(text);
  await byTestId('case-note-submit').click();
  await page.getByText(text).first().waitFor();
});

await step('language-albanian', async () => {
  await byTestId('language-select').selectOption('sq');
  await page.waitForFunction(() => document.documentElement.lang === 'sq');
  const word = sq['nav.cases'];
  assert(word && word !== en['nav.cases'], `the Albanian catalogue has no own word for nav.cases`);
  await page.getByText(word, { exact: true }).first().waitFor();
  // The choice is the user's: it survives a reload.
  await page.reload();
  await page.getByText(word, { exact: true }).first().waitFor();
  assert((await page.evaluate(() => document.documentElement.lang)) === 'sq', 'the language did not persist');
});

await step('hostile-address-page', async () => {
  await page.goto(base + `/address/${hostileAddress}`);
  await byTestId('history-table').waitFor();
  for (const label of hostileLabels) await page.getByText(label, { exact: false }).first().waitFor();
  await inert('address page');
  // Still in Albanian: amounts with a decimal comma (Chromium may lack
  // Albanian locale data; the workspace then uses its own).
  const text = await page.locator('body').innerText();
  assert(/\d,\d{8}\sBTC/.test(text) && !/\d\.\d{8}\sBTC/.test(text), 'amounts are not formatted for Albanian');
});

await step('hostile-tx-page', async () => {
  await page.goto(base + `/tx/${hostileTx}`);
  await page.getByText(hostileTx).first().waitFor();
  await inert('transaction page');
});

await step('hostile-search', async () => {
  await byTestId('search-input').fill('onerror');
  await byTestId('search-suggestion').filter({ hasText: hostileLabels[0] }).first().waitFor();
  await inert('search suggestions');
  await page.keyboard.press('Escape');
});

await step('hostile-entity-page', async () => {
  await page.goto(base + `/address/${hostileAddress}`);
  await byTestId('history-table').waitFor();
  const link = page.locator('a[href^="/entity/"]').first();
  await link.click();
  await page.waitForURL((u) => u.pathname.startsWith('/entity/'));
  await page.getByText(hostileLabels[0], { exact: false }).first().waitFor();
  await inert('entity page');
});

await step('hostile-case-page', async () => {
  await page.goto(base + '/cases');
  await page.getByRole('link', { name: caseRef }).first().click();
  await byTestId('case-note-text').waitFor();
  for (const label of hostileLabels) await page.getByText(label, { exact: false }).first().waitFor();
  await inert('case page');
});

await step('hostile-graph', async () => {
  await page.goto(base + `/graph?address=${hostileAddress}`);
  await byTestId('graph-node-item').first().waitFor();
  await byTestId('graph-node-item').filter({ hasText: hostileAddress.slice(0, 12) }).first().click();
  await byTestId('graph-node-panel').filter({ hasText: hostileLabels[0] }).waitFor();
  await inert('graph');
});

writeFileSync(join(artifacts, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
await browser.close();
if (problems.length) {
  console.error('e2e: problems:\n  ' + [...new Set(problems)].join('\n  '));
  process.exit(1);
}
console.log(`e2e: all ${n} steps passed; screenshots in ${artifacts}`);
