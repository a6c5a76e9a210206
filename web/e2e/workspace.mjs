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
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { assert, env, openWorkspace } from './harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));

const base = env('VESTIGO_URL').replace(/\/$/, '');
const user = env('VESTIGO_USER');
const password = env('VESTIGO_PASSWORD');
const artifacts = env('ARTIFACTS');
const caseRef = env('E2E_CASE');
const ransom = env('E2E_RANSOM');
const exchangeLabel = env('E2E_EXCHANGE_LABEL');
const hostileAddress = env('E2E_HOSTILE_ADDRESS');
const hostileTx = env('E2E_HOSTILE_TX');
const hostileLabels = env('E2E_HOSTILE_LABELS').split('\n');

// The Albanian catalogue: the test expects its words after the switch.
const sq = JSON.parse(readFileSync(join(here, '..', 'src', 'i18n', 'sq', 'app.json'), 'utf8'));
const en = JSON.parse(readFileSync(join(here, '..', 'src', 'i18n', 'en', 'app.json'), 'utf8'));

const { page, step, finish, timings, byTestId } = await openWorkspace({ base, artifacts });

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

// ---- Court reports and recorded exports. Each becomes an exhibit of the
// case; the page shows its SHA-256, which must be that of the file the
// browser downloaded, and the exhibit list holds it.
const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

// saveDownload clicks and keeps the file the click downloads; an error
// the page shows instead (a refused or failed request) ends the wait.
async function saveDownload(click, name) {
  const failed = page.locator('.form-msg.error:not(:empty)').first();
  const refused = failed.waitFor({ timeout: 120_000 }).then(async () => {
    throw new Error(`the page says: ${await failed.textContent()}`);
  });
  refused.catch(() => {});
  const [dl] = await Promise.all([Promise.race([page.waitForEvent('download', { timeout: 120_000 }), refused]), click()]);
  const file = join(artifacts, name);
  await dl.saveAs(file);
  return { file, data: readFileSync(file), suggested: dl.suggestedFilename() };
}

// recorded checks that scope shows the SHA-256 of data and that the
// case's exhibit list has an exhibit with it.
async function recorded(scope, data, what) {
  const el = scope.getByTestId('export-sha256').first();
  await el.waitFor();
  const shown = (await el.textContent()).trim();
  assert(shown === sha256(data), `${what}: the page shows SHA-256 ${shown}, the file has ${sha256(data)}`);
  await byTestId('case-exhibits-table').getByText(shown, { exact: true }).first().waitFor();
}

// rootElement is the name of an XML document's root element.
function rootElement(xml) {
  return /^\uFEFF?\s*(?:<\?xml[^>]*\?>\s*)?(?:(?:<!--[\s\S]*?-->|<!DOCTYPE[^>]*>)\s*)*<([A-Za-z_][\w.:-]*)/.exec(xml)?.[1] ?? '';
}

await step('report-html-en', async () => {
  await byTestId('case-report').scrollIntoViewIfNeeded();
  await byTestId('report-format').selectOption('html');
  await byTestId('report-lang').selectOption('en');
  const { data, suggested } = await saveDownload(() => byTestId('report-render').click(), 'report-en.html');
  const html = data.toString('utf8');
  assert(/^\s*<!doctype html/i.test(html) && html.includes('</html>'), `the HTML report is not an HTML document: ${html.slice(0, 200)}`);
  assert(html.includes(caseRef), `the HTML report does not name the case ${caseRef}`);
  assert(suggested.endsWith('.html'), `the report downloads as ${suggested}`);
  await recorded(byTestId('report-result'), data, 'HTML report');
});

let reportPDF = '';
await step('report-pdf-sq', async () => {
  await byTestId('report-format').selectOption('pdf');
  await byTestId('report-lang').selectOption('sq');
  const { file, data, suggested } = await saveDownload(() => byTestId('report-render').click(), 'report-sq.pdf');
  assert(data.subarray(0, 5).toString('latin1') === '%PDF-', `the PDF report starts with ${JSON.stringify(data.subarray(0, 8).toString('latin1'))}`);
  assert(/-sq\.pdf$/.test(suggested), `the Albanian PDF downloads as ${suggested}`);
  await recorded(byTestId('report-result'), data, 'PDF report');
  reportPDF = file;
});

await step('report-verify', async () => {
  const verdict = byTestId('report-verify-result');
  const verify = async (file) => {
    await byTestId('report-verify-file').setInputFiles(file);
    await page.waitForFunction(() => document.querySelector('[data-testid="report-verify-result"]')?.dataset.ok !== undefined, undefined, { timeout: 60_000 });
    return { ok: (await verdict.getAttribute('data-ok')) === 'true', text: await verdict.innerText() };
  };
  // One byte changed: not a report Vestigo recorded.
  const edited = Buffer.from(readFileSync(reportPDF));
  edited[edited.length >> 1] ^= 1;
  const editedFile = join(artifacts, 'report-sq-edited.pdf');
  writeFileSync(editedFile, edited);
  const bad = await verify(editedFile);
  assert(!bad.ok && bad.text.includes('not a report Vestigo recorded'), `an edited report verified:\n${bad.text}`);
  await byTestId('report-verify-problems').waitFor();
  // The report itself: serve signs a checkpoint every second in this test,
  // and the verification is ok once one covers the report's record.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await verify(reportPDF);
    if (r.ok) {
      assert(r.text.includes(sha256(readFileSync(reportPDF))), `the verification does not show the file's SHA-256:\n${r.text}`);
      break;
    }
    if (Date.now() > deadline) throw new Error(`the rendered report does not verify:\n${r.text}`);
    await page.waitForTimeout(1000);
  }
});

await step('export-finding-xlsx', async () => {
  const finding = byTestId('case-finding-wrap').first();
  await finding.waitFor();
  const { data, suggested } = await saveDownload(() => finding.getByTestId('finding-export-xlsx').click(), 'finding.xlsx');
  assert(data.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])) && data.includes('xl/workbook.xml'), 'the finding export is not an XLSX workbook');
  assert(suggested.endsWith('.xlsx'), `the finding downloads as ${suggested}`);
  await recorded(finding, data, 'finding XLSX');
});

await step('export-graph-graphml', async () => {
  const row = byTestId('case-exhibits-table').locator('tr').filter({ has: byTestId('exhibit-export-graphml') }).first();
  const { data } = await saveDownload(() => row.getByTestId('exhibit-export-graphml').click(), 'saved-graph.graphml');
  const xml = data.toString('utf8');
  assert(rootElement(xml) === 'graphml', `the GraphML export's root element is <${rootElement(xml)}>`);
  assert(xml.includes(ransom), 'the GraphML export lacks the ransom address of the saved graph');
  await recorded(byTestId('export-status'), data, 'GraphML');
});

await step('graph-export-gexf', async () => {
  await page.goto(base + '/cases');
  await page.getByRole('link', { name: caseRef }).first().click();
  await byTestId('exhibit-open-graph').first().click();
  await page.waitForURL((u) => u.pathname === '/graph' && u.searchParams.has('exhibit'));
  await page.waitForFunction((want) => document.querySelectorAll('[data-testid="graph-node-item"]').length === want, savedNodes);
  const { data } = await saveDownload(() => byTestId('graph-export-gexf').click(), 'saved-graph.gexf');
  const xml = data.toString('utf8');
  assert(rootElement(xml) === 'gexf', `the GEXF export's root element is <${rootElement(xml)}>`);
  await byTestId('graph-message').filter({ hasText: sha256(data) }).waitFor();
});

await step('export-table-xlsx', async () => {
  await page.goto(base + '/cases');
  await page.getByRole('link', { name: caseRef }).first().click();
  // An item's page opened from the case exports into the case.
  await byTestId('case-items-table').getByRole('link', { name: ransom }).first().click();
  await page.waitForURL((u) => u.pathname === `/address/${ransom}` && u.searchParams.has('case'));
  await byTestId('history-table').waitFor();
  const section = byTestId('history-section');
  const { data } = await saveDownload(() => section.getByTestId('export-xlsx').click(), 'address-history.xlsx');
  assert(data.subarray(0, 4).equals(Buffer.from([0x50, 0x4b, 0x03, 0x04])), 'the table export is not an XLSX workbook');
  const shown = (await section.getByTestId('export-sha256').textContent()).trim();
  assert(shown === sha256(data), `the address page shows SHA-256 ${shown}, the workbook has ${sha256(data)}`);
  // The recorded CSV: the same table, kept too.
  const csv = await saveDownload(() => section.getByTestId('export-csv-recorded').click(), 'address-history-recorded.csv');
  const lines = csv.data.toString('utf8').trim().split(/\r?\n/);
  assert(lines.length >= 2 && lines[0].includes(','), `the recorded CSV has ${lines.length} lines`);
  await section.getByTestId('export-sha256').filter({ hasText: sha256(csv.data) }).waitFor();
  // Without a case the page offers CSV only, and says so.
  await page.goto(base + `/address/${ransom}`);
  await byTestId('history-table').waitFor();
  assert((await byTestId('export-xlsx').count()) === 0 && (await byTestId('export-csv-recorded').count()) === 0, 'a page outside a case offers a recorded export');
  assert(((await byTestId('export-csv').first().getAttribute('title')) || '').includes(en['export.csvNoCase'].slice(0, 20)), 'the CSV button does not say it is recorded nowhere');
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

await finish({ timingsFile: 'timings.json' });
