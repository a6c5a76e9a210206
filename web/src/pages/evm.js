// evm.js: what the pages of EVM chains (Ethereum and the chains that share
// its account model) share: telling 0x input apart, their URLs with the
// chain id (?chain=N), amounts as the exact decimal strings of the API
// (base units beside whole units, never JavaScript numbers) and the links
// between addresses and transactions.

import { h } from '../dom.js';
import { fmtUnits, t } from '../i18n.js';
import { baseToUnits } from '../graph/model.js';

export { baseToUnits };

// isEVMAddress and isEVMTx tell a 0x address (20 bytes) and a 0x
// transaction hash (32 bytes).
export const isEVMAddress = (s) => /^0x[0-9a-fA-F]{40}$/.test(String(s || ''));
export const isEVMTx = (s) => /^0x[0-9a-fA-F]{64}$/.test(String(s || ''));

// chainParam reads a page's ?chain=N (undefined when absent or malformed).
export function chainParam(query) {
  const c = query.get('chain') || '';
  return /^[1-9]\d{0,18}$/.test(c) ? c : undefined;
}

// networkOf is the search's and the graph's name of a chain ("evm-1").
export const networkOf = (chainId) => (chainId ? 'evm-' + chainId : '');

// chainOfNetwork is the chain id of an "evm-N" network ('' otherwise).
export function chainOfNetwork(network) {
  const m = /^evm-([1-9]\d{0,18})$/.exec(network || '');
  return m ? m[1] : '';
}

const chainQuery = (chainId) => (chainId ? '?chain=' + encodeURIComponent(String(chainId)) : '');

// evmAddressPath and evmTxPath: the workspace's URLs of EVM pages.
export const evmAddressPath = (a, chainId) => '/address/' + encodeURIComponent(a) + chainQuery(chainId);
export const evmTxPath = (hash, chainId) => '/tx/' + encodeURIComponent(hash) + chainQuery(chainId);

// evmAddrLink and evmTxLink link to those pages (a dash for none).
export function evmAddrLink(a, chainId, text) {
  if (!a) return h('span', { className: 'muted', text: '—' });
  return h('a', { href: evmAddressPath(a, chainId), className: 'mono', text: text ?? a, title: a });
}
export function evmTxLink(hash, chainId, text) {
  if (!hash) return h('span', { className: 'muted', text: '—' });
  return h('a', { href: evmTxPath(hash, chainId), className: 'mono', text: text ?? hash, title: hash });
}

// shortHex abbreviates a long hex string for tables.
export function shortHex(s, head = 10, tail = 8) {
  s = String(s || '');
  return s.length <= head + tail + 1 ? s : s.slice(0, head) + '…' + s.slice(-tail);
}

// units shows an amount in whole units of its asset (the API's exact
// *_units string) for the locale, with its base units in the title and in
// data-base (what a test or an investigator compares).
export function units(unitsStr, base, symbol, cls) {
  if (unitsStr === null || unitsStr === undefined || unitsStr === '') return h('span', { className: 'muted', text: '—' });
  return h('span', {
    className: ['amount', cls],
    text: fmtUnits(unitsStr, symbol || ''),
    title: base !== undefined && base !== null ? t('evm.baseUnits', { amount: String(base) }) : undefined,
    dataset: base !== undefined && base !== null ? { base: String(base) } : undefined,
  });
}

// assetName is an asset's symbol (or its name, or its id).
export function assetName(a) {
  if (!a) return '';
  return a.symbol || a.name || '#' + a.id;
}

// assetCell shows an asset: its symbol and, for a token, its contract.
export function assetCell(a, chainId) {
  return h(
    'span',
    { className: 'asset' },
    h('strong', { text: assetName(a) }),
    a?.contract ? h('div', { className: 'small' }, evmAddrLink(a.contract, chainId, shortHex(a.contract))) : h('div', { className: 'small muted', text: t('evm.nativeCoin') }),
    a && a.metadata_ok === false ? h('div', { className: 'small muted', title: (a.problems || []).join('; '), text: t('evm.metadataDoubtful') }) : null,
  );
}
