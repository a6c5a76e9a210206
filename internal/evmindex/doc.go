// Package evmindex is Vestigo's index of account-model chains: Ethereum
// and every EVM chain, one embedded cockroachdb/pebble store per chain id,
// beside the Bitcoin index (package index) and read by the same analyses.
//
// Concepts:
//
//   - A ledger per address and asset: every move of value into or out of
//     the address in chain order (TxKey, then Seq inside the transaction),
//     each entry with the balance after it. The assets are the native coin
//     (AssetID 0) and each ERC-20 token (from 1, with its metadata). A
//     balance at any point of the chain is one lookup; the balance at the
//     tip is the last entry's.
//   - Moves: a transaction's own value, internal moves from call traces,
//     ERC-20 Transfer logs, the fee its sender paid (to nobody: the base fee
//     is burnt), the tips credited to the block's fee recipient and
//     withdrawals at the block's end, and the opening balance of an
//     address–asset pair the index first sees (the node's balance at the
//     block before, so genesis allocations and history before the import
//     are accounted for). A failed transaction moves only its fee.
//   - Ids: addresses get dense AddrIDs from 1 in order of first appearance,
//     tokens AssetIDs from 1. Contracts are marked: created in the index
//     (by a transaction or a CREATE frame) or holding code when first seen.
//   - Writes: Apply writes one block in one atomic pebble batch with the new
//     tip; a block that does not extend the tip is refused and nothing is
//     written. Rollback removes blocks from the tip down (reorgs) using only
//     what the index holds. Verify re-derives the invariants.
//   - Blocks the node could not trace are marked (Block.Traced, Tip.Untraced):
//     their internal moves are missing, and a balance can then go below
//     zero; Balance is signed so that shows.
//
// Errors: lookups wrap chain.ErrNotFound; a block that does not extend the
// tip, or that contradicts itself, wraps ErrInconsistent; a record that
// does not decode wraps ErrCorrupt; an index of another chain id is refused
// with ErrWrongChain.
package evmindex
