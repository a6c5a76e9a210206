// Package ethingest imports an EVM chain from a node's JSON-RPC interface
// (package eth) into the account-model index (package evmindex), and keeps
// it up to date.
//
// Concepts:
//
//   - A pipeline: Options.Workers goroutines fetch blocks by number (full
//     transactions, receipts, the callTracer trace) and assemble them into
//     evmindex.BlockData: receipts and traces are tied to their block
//     (eth.CheckReceipts, eth.CheckTraces), fees and tips computed
//     (Fee = eth.Receipt.Fee; Tip = gas used × (effective gas price − base
//     fee), the whole gas fee before London; the blob fee is burnt),
//     internal transfers and contracts created by CREATE/CREATE2 frames
//     read from the trace, ERC-20 Transfers and Uniswap V2/V3 Swaps from
//     the logs. One applier takes the blocks strictly in order.
//   - What depends on the index is done by the applier, just before
//     Index.Apply, with batched requests: the metadata of tokens the index
//     has not seen (read at the block), the opening balances of
//     address–asset pairs it has not seen and the code of addresses it has
//     not seen (both read at the block before; for block 0 at block 0, the
//     genesis allocations). A token whose balanceOf reverts or answers
//     garbage opens at zero and is reported.
//   - Nothing is lost silently: a log with the Transfer or Swap topic but
//     another layout stays out of the ledger and is counted and logged
//     (Stats.Malformed, Stats.Problems); a node without
//     debug_traceBlockByNumber gives blocks marked untraced (their internal
//     transfers are missing), logged once and counted.
//   - Resumption: Index.Apply commits each block with the tip, so a run
//     that stopped starts again from the tip.
//   - Reorganisations: before a round the node's block at the tip is
//     compared with the index's, and every block must name the tip as its
//     parent; when they differ, the index's hashes are compared with the
//     node's downwards (at most Options.MaxReorg blocks) until they agree,
//     the index is rolled back there and the import continues on the
//     node's chain.
//   - Following: with Options.Follow the node's head is polled every
//     Options.Poll until the context is cancelled.
//
// Errors: every error starts with "ethingest:" and is one line: a node of
// another chain id than the index (both named), a start block that does
// not follow the tip, a block, receipt or trace the node sent that does
// not check out (wrapping eth's *DecodeError), a reorganisation deeper than
// MaxReorg, a failure of the node or the store. Blocks applied before the
// error stay applied. A cancelled follow ends with a nil error; a cancelled
// run without Follow ends with the context's error.
package ethingest
