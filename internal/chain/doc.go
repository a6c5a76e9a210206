// Package chain holds Vestigo's chain-neutral domain model: the vocabulary
// every other package speaks, whatever the blockchain.
//
// Concepts:
//
//   - Chain and Network name a ledger ("btc" on "mainnet", "regtest", ...).
//     Every query and every stored fact carries both explicitly; nothing
//     guesses a default network behind the caller's back.
//   - Amount is an unsigned integer in the chain's base unit (satoshi, wei),
//     256 bits wide so that Ethereum tokens fit later. Amounts are never
//     floating point; they marshal to JSON as plain integer numbers.
//   - Block, Tx, Input and Output are the read model that the index returns
//     and the interfaces print. An Output is a transfer of value to an
//     Address; an Input names the output it spends and carries that output's
//     address and value so that readers never need a second lookup.
//   - ScriptType classifies how value is locked (p2pkh, p2wpkh, ...). Address
//     is the textual form an investigator searches for.
//
// Errors: ErrNotFound is returned (wrapped) by readers when a block,
// transaction or address is not in the index; ErrInvalid wraps every
// rejection of malformed input (a bad txid, address or amount).
package chain
