// document.test.mjs: unit tests of the saved-graph document
// (web/src/graph/document.js): EVM addresses and their moves are read back
// exactly, and anything that mixes chains or breaks the EVM rules is
// refused (node --test; make web-check runs them).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as esbuild from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = await esbuild.build({ entryPoints: [join(here, '..', 'src', 'graph', 'document.js')], bundle: true, format: 'esm', write: false, logLevel: 'silent' });
const doc = await import('data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64'));
const modelOut = await esbuild.build({ entryPoints: [join(here, '..', 'src', 'graph', 'model.js')], bundle: true, format: 'esm', write: false, logLevel: 'silent' });
const model = await import('data:text/javascript;base64,' + Buffer.from(modelOut.outputFiles[0].text).toString('base64'));

const A = '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed';
const B = '0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359';
const TX = '0x' + 'ab'.repeat(32);

function evmGraph() {
  const m = new model.GraphModel();
  const a = m.addNode({ kind: 'address', ref: A, network: 'evm-1337', seed: true }).node;
  const b = m.addNode({ kind: 'address', ref: B, network: 'evm-1337', labels: ['Exchange hot wallet'], category: 'exchange', group: 'exchange' }).node;
  // 1,234,567.000000000000000001 ETH: no float holds it.
  m.addEdge({ kind: 'flow', source: a.id, target: b.id, txid: TX, time: '2024-05-01T10:00:00Z', evm: { asset: 0, symbol: 'ETH', decimals: 18, amount: '1234567000000000000000001', units: '1234567.000000000000000001' } });
  m.addEdge({ kind: 'flow', source: a.id, target: b.id, txid: TX, evm: { asset: 2, symbol: 'VTD', decimals: 6, amount: '1500000', units: '1.5' } });
  const trace = { from: A, direction: 'forward', model: 'haircut', hops: 6, source: 0, txs_read: 3, summarised: false, chain_id: 1337, symbol: 'ETH', source_units: '2.5',
    destinations: [{ address: B, labels: ['Exchange hot wallet'], category: 'exchange', amount: 0, units: '2.5', share: 1, hops: 1, reason: 'exchange', stopped: true }] };
  return doc.writeDocument(m, { pos: new Map(), filters: {}, trace, now: new Date('2024-05-02T00:00:00Z') });
}

test('an EVM graph is written and read back exactly', () => {
  const d = evmGraph();
  const r = doc.readDocument(JSON.stringify(d));
  assert.equal(r.nodes.length, 2);
  assert.equal(r.nodes[0].network, 'evm-1337');
  assert.equal(r.edges.length, 2, 'two assets in one transaction are two edges');
  assert.deepEqual(r.edges[0].evm, { asset: 0, symbol: 'ETH', decimals: 18, amount: '1234567000000000000000001', units: '1234567.000000000000000001' });
  assert.equal(r.edges[1].evm.units, '1.5');
  assert.equal(r.trace.chain_id, 1337);
  assert.equal(r.trace.destinations[0].units, '2.5');
});

test('baseToUnits is exact', () => {
  assert.equal(model.baseToUnits('1500000', 6), '1.5');
  assert.equal(model.baseToUnits('1', 18), '0.000000000000000001');
  assert.equal(model.baseToUnits('1000000', 6), '1');
  assert.equal(model.baseToUnits('0', 18), '0');
  assert.equal(model.baseToUnits('42', 0), '42');
  assert.equal(model.baseToUnits('1.5', 6), '');
});

test('EVM documents that break the rules are refused', () => {
  const bad = [
    ['a 0x address without its chain', (d) => { d.nodes[0].network = ''; }, /needs its EVM chain/],
    ['a Bitcoin network on a 0x address', (d) => { d.nodes[0].network = 'regtest'; }, /needs its EVM chain/],
    ['an EVM chain on a Bitcoin address', (d) => { d.nodes[0].ref = 'bcrt1qxyz'; d.nodes[0].id = 'a:bcrt1qxyz'; }, /0x address/],
    ['a short 0x address', (d) => { d.nodes[0].ref = A.slice(0, 40); d.nodes[0].id = 'a:' + A.slice(0, 40); }, /0x address/],
    ['a malformed chain id', (d) => { d.nodes[0].network = 'evm-01'; }, /network: malformed/],
    ['nodes of two chains joined', (d) => { d.nodes[1].network = 'evm-1'; }, /different chains/],
    ['an EVM edge without its amount', (d) => { delete d.edges[0].evm; d.edges[0].id = d.edges[0].id.replace(/\|0$/, ''); }, /lacks its asset/],
    ['units that disagree with the amount', (d) => { d.edges[0].evm.units = '1234567'; }, /units do not match/],
    ['a float amount', (d) => { d.edges[0].evm.amount = 1.5e24; }, /not a string/],
    ['an amount in the satoshi field', (d) => { d.edges[0].amount = 5; }, /amount/],
    ['a Bitcoin txid on an EVM edge', (d) => { d.edges[0].txid = 'ab'.repeat(32); }, /txid: malformed/],
    ['an unknown field in the amount', (d) => { d.edges[0].evm.usd = '3'; }, /unknown field/],
    ['an edge id without the asset', (d) => { d.edges[1].id = d.edges[1].id.replace(/\|2$/, ''); }, /id does not match/],
    ['a trace destination in satoshis', (d) => { d.trace.destinations[0].amount = 7; }, /EVM destination/],
    ['EVM units in a Bitcoin trace', (d) => { delete d.trace.chain_id; }, /for EVM traces/],
  ];
  for (const [what, change, want] of bad) {
    const d = evmGraph();
    change(d);
    assert.throws(() => doc.readDocument(JSON.stringify(d)), (e) => e instanceof doc.DocumentError && want.test(e.message), what);
  }
});
