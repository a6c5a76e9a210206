// ethereum.mjs: the end-to-end test of the web workspace on an EVM chain,
// in headless Chromium (Debian's package, driven by playwright-core).
// cmd/vestigo's TestEthereumWorkspaceInBrowser plays the generated theft
// on a real geth --dev node, imports it, tags the exchange's hot wallet,
// starts vestigo serve and runs this with:
//
//   VESTIGO_URL, VESTIGO_USER, VESTIGO_PASSWORD  the server and the login
//   CHROMIUM, ARTIFACTS                           the browser, the screenshots' directory
//   E2E_CHAIN_ID                                  the chain's id
//   E2E_VICTIM, E2E_VICTIM_CHECKSUM               the victim's address (lower case, EIP-55)
//   E2E_VICTIM_WEI, E2E_VICTIM_ETH                its balance in wei and in ether (the truth)
//   E2E_THEFT_TX, E2E_THEFT_WEI                   the theft's hash and value in wei
//   E2E_TOKEN_SYMBOL, E2E_TOKEN_CONTRACT          the case's ERC-20 token
//   E2E_TOKEN_HOLDER, E2E_TOKEN_BALANCE, E2E_TOKEN_UNITS
//                                                 an address holding a token fraction,
//                                                 in base and in whole units
//   E2E_EXCHANGE_LABEL                            the tag of the hot wallet the trace reaches
//
// Each step writes a screenshot eth-NN-step.png; a failing step writes
// eth-FAILED-step.png and ends the run with exit code 1. The run also fails
// on any page error, console error, Content-Security-Policy violation,
// dialog, or request outside the workspace's pages, its bundle and /api/v1.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assert, env, openWorkspace } from './harness.mjs';

const base = env('VESTIGO_URL').replace(/\/$/, '');
const user = env('VESTIGO_USER');
const password = env('VESTIGO_PASSWORD');
const artifacts = env('ARTIFACTS');
const chainId = env('E2E_CHAIN_ID');
const victim = env('E2E_VICTIM');
const victimSum = env('E2E_VICTIM_CHECKSUM');
const victimWei = env('E2E_VICTIM_WEI');
const victimEth = env('E2E_VICTIM_ETH');
const theftTx = env('E2E_THEFT_TX');
const theftWei = env('E2E_THEFT_WEI');
const tokenSymbol = env('E2E_TOKEN_SYMBOL');
const tokenContract = env('E2E_TOKEN_CONTRACT');
const tokenHolder = env('E2E_TOKEN_HOLDER');
const tokenBalance = env('E2E_TOKEN_BALANCE');
const tokenUnits = env('E2E_TOKEN_UNITS');
const exchangeLabel = env('E2E_EXCHANGE_LABEL');

// english formats whole units as the English workspace must: the whole
// part grouped by commas, the fraction as it is (computed here from the
// truth's string, digit by digit).
function english(units) {
  const [w, f] = units.split('.');
  return w.replace(/\B(?=(\d{3})+(?!\d))/g, ',') + (f ? '.' + f : '');
}

const { page, step, finish, byTestId } = await openWorkspace({ base, artifacts, prefix: 'eth-', viewport: { width: 1366, height: 900 } });
// amountText is the text of the amount carrying base units base in el.
async function amountText(scope, baseUnits) {
  const el = scope.locator(`[data-base="${baseUnits}"]`).first();
  await el.waitFor();
  return (await el.innerText()).trim();
}

await step('login', async () => {
  await page.goto(base + '/');
  await byTestId('login-username').fill(user);
  await byTestId('login-password').fill(password);
  await byTestId('login-submit').click();
  await byTestId('search-input').waitFor();
  await page.waitForFunction(() => !location.pathname.startsWith('/login'));
});

await step('search-victim', async () => {
  // Typed in lower case: the server answers the checksummed address.
  await byTestId('search-input').fill(victim);
  const sug = byTestId('search-suggestion').filter({ hasText: victimSum }).first();
  await sug.waitFor();
  await sug.click();
  await page.waitForURL((u) => u.pathname === `/address/${victimSum}` && u.searchParams.get('chain') === chainId);
  await byTestId('holdings-table').waitFor();
  await page.getByRole('heading', { name: victimSum }).waitFor();
});

let nativeSymbol = '';
await step('holdings-and-ledger', async () => {
  const holdings = byTestId('holdings-table');
  // The ether balance: the truth's wei, shown as its ether in English.
  const text = await amountText(holdings, victimWei);
  const m = /^([\d,.]+) (\S+)$/.exec(text);
  assert(m && m[1] === english(victimEth), `the balance shows ${JSON.stringify(text)}; the truth is ${victimEth} (${victimWei} wei)`);
  nativeSymbol = m[2];
  // The ledger has the theft, with its exact value going out.
  const ledger = byTestId('ledger-table');
  // (The theft's fee is a line of the same transaction.)
  const row = ledger.locator('tr').filter({ has: page.locator(`a[href^="/tx/${theftTx}"]`) }).filter({ has: page.locator(`[data-base="${theftWei}"]`) });
  await row.first().waitFor();
  const theft = await amountText(row.first(), theftWei);
  assert(theft.endsWith(' ' + nativeSymbol), `the theft shows ${theft}`);
  const dir = await row.first().locator('td').nth(4).innerText();
  assert(dir.trim() === 'out', `the theft is not "out" but ${dir}`);
});

await step('export-csv', async () => {
  const [dl] = await Promise.all([page.waitForEvent('download'), byTestId('export-csv').first().click()]);
  const file = join(artifacts, 'eth-ledger.csv');
  await dl.saveAs(file);
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  assert(lines[0].startsWith('block_height,'), `the CSV has no header: ${lines[0]}`);
  const theft = lines.filter((l) => l.includes(theftTx));
  assert(theft.length === 2, `the CSV has ${theft.length} lines of the theft ${theftTx} (its fee and its value)`);
  const value = theft.find((l) => l.split(',')[3] === 'value');
  assert(value && value.split(',')[8] === theftWei, `the CSV's theft line lacks the exact ${theftWei} wei: ${value}`);
});

await step('transaction', async () => {
  await page.locator(`[data-testid="ledger-table"] a[href^="/tx/${theftTx}"]`).first().click();
  await page.waitForURL((u) => u.pathname === `/tx/${theftTx}`);
  await byTestId('moves-table').waitFor();
  await page.getByRole('heading', { name: theftTx }).waitFor();
  const moves = byTestId('moves-table');
  const value = await amountText(moves, theftWei);
  assert(value.endsWith(' ' + nativeSymbol), `the theft's move shows ${value}`);
  assert((await moves.innerText()).includes(victimSum.slice(0, 10)), 'the moves do not name the victim');
});

await step('open-graph', async () => {
  await page.goto(base + `/address/${victimSum}?chain=${chainId}`);
  await byTestId('holdings-table').waitFor();
  await byTestId('open-graph').click();
  await page.waitForURL((u) => u.pathname === '/graph');
  await byTestId('graph-canvas').waitFor();
  await byTestId('graph-node-item').first().waitFor();
});

await step('expand-graph', async () => {
  const before = await byTestId('graph-node-item').count();
  await byTestId('graph-node-item').filter({ hasText: victimSum.slice(0, 8) }).first().click();
  // The node panel shows the holdings; the trace offers them as assets.
  await byTestId('graph-trace-asset').waitFor();
  await byTestId('graph-expand-out').click();
  await page.waitForFunction((b) => document.querySelectorAll('[data-testid="graph-node-item"]').length > b, before);
});

await step('trace-forward', async () => {
  await byTestId('graph-node-item').filter({ hasText: victimSum.slice(0, 8) }).first().click();
  await byTestId('graph-trace-asset').selectOption({ label: nativeSymbol });
  await byTestId('graph-trace-hops').selectOption('30');
  await byTestId('graph-trace-forward').click();
  const results = byTestId('graph-results');
  await results.filter({ hasText: exchangeLabel }).waitFor({ timeout: 30_000 });
  const row = byTestId('graph-result-row').filter({ hasText: exchangeLabel }).first();
  assert(/\d/.test(await row.innerText()) && (await row.innerText()).includes(nativeSymbol), 'the exchange row has no amount in ether');
});

await step('albanian-token-amount', async () => {
  await byTestId('language-select').selectOption('sq');
  await page.waitForFunction(() => document.documentElement.lang === 'sq');
  await page.goto(base + `/address/${tokenHolder}?chain=${chainId}`);
  const holdings = byTestId('holdings-table');
  await holdings.waitFor();
  assert((await holdings.innerText()).includes(tokenContract.slice(0, 8)), 'the token row does not name its contract');
  const text = await amountText(holdings, tokenBalance);
  const [w, f] = tokenUnits.split('.');
  const m = /^(\d{1,3}(?:[\u00a0\u202f ]\d{3})*),(\d+) (\S+)$/.exec(text);
  assert(m, `the token amount ${JSON.stringify(text)} is not Albanian (grouped, decimal comma)`);
  assert(m[1].replace(/\D/g, '') === w && m[2] === f && m[3] === tokenSymbol, `the token amount ${JSON.stringify(text)}; the truth is ${tokenUnits} ${tokenSymbol}`);
});

await finish();
