// harness.mjs: what the end-to-end scripts share. openWorkspace starts
// Debian's Chromium (through playwright-core) on the served workspace and
// watches every page for errors, dialogs, Content-Security-Policy
// violations and requests outside the workspace's pages, its bundle and
// /api/v1; step runs one named step with a screenshot, and the end of the
// run (finish) fails on anything seen.
import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// env returns a required environment variable, or ends the run with exit
// code 2.
export function env(name) {
  const v = process.env[name];
  if (!v) {
    console.error(`e2e: ${name} is not set`);
    process.exit(2);
  }
  return v;
}

export function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

const appPaths = /^\/(|login|search|cases|graph|address\/.+|tx\/.+|block\/.+|entity\/.+|cases\/.+)$/;

// openWorkspace opens the browser on base. Screenshots go to artifacts,
// named prefix + NN-step.png (prefix + FAILED-NN-step.png for a failing
// step).
export async function openWorkspace({ base, artifacts, prefix = '', viewport = { width: 1366, height: 768 } }) {
  const origin = new URL(base).origin;
  mkdirSync(artifacts, { recursive: true });
  const problems = [];
  const timings = {};
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport, acceptDownloads: true, locale: 'en-GB' });
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
      const csp = await page.evaluate(() => window.__csp || []);
      if (csp.length) throw new Error(`Content-Security-Policy violations: ${csp.join('; ')}`);
    } catch (e) {
      await page.screenshot({ path: join(artifacts, `${prefix}FAILED-${tag}.png`), fullPage: true }).catch(() => {});
      console.error(`e2e: step ${prefix}${tag} failed: ${e.stack || e}`);
      console.error(`e2e: at ${page.url()}`);
      if (problems.length) console.error('e2e: also:\n  ' + problems.join('\n  '));
      await browser.close();
      process.exit(1);
    }
    timings[tag] = Date.now() - t0;
    await page.screenshot({ path: join(artifacts, `${prefix}${tag}.png`) });
    console.log(`e2e: ${prefix}${tag} ok (${timings[tag]} ms)`);
  }

  // finish closes the browser, writes the steps' timings (when asked) and
  // ends the run: exit code 1 if anything went wrong on any page.
  async function finish({ timingsFile } = {}) {
    if (timingsFile) writeFileSync(join(artifacts, timingsFile), JSON.stringify(timings, null, 2) + '\n');
    await browser.close();
    if (problems.length) {
      console.error('e2e: problems:\n  ' + [...new Set(problems)].join('\n  '));
      process.exit(1);
    }
    console.log(`e2e: all ${n} steps passed; screenshots in ${artifacts}`);
  }

  return { browser, page, step, finish, problems, timings, byTestId: (id) => page.getByTestId(id) };
}
