// Package index is Vestigo's chain index: one embedded cockroachdb/pebble
// store per ledger (chain and network) that every analysis reads.
//
// Concepts:
//
//   - A transaction is known inside the index by its TxKey, height<<20 |
//     position in block, so keys sort in chain order and the block of a
//     transaction needs no lookup. Every address gets a dense AddrID (from
//     1, in order of first appearance), which analyses use as a vertex id.
//   - Transactions are stored in chunks of up to 64 per key, in block order.
//     A record holds the txid, sizes, version and locktime, every input with
//     the output it spends already resolved (previous TxKey, vout, value,
//     address and script type), and every output (value, script type,
//     address). A full scan therefore reads every input and output without a
//     single random lookup.
//   - Secondary tables: txid → TxKey, address → AddrID and back, and the
//     outputs of every address (AddrID, TxKey, vout → value, and once spent
//     the spending TxKey and input). That one table is the address's
//     history (what it received, and in which transactions it was spent),
//     its unspent set (the entries not spent), and the spend link of every
//     output (the output record names its address). Totals are computed
//     from it.
//   - Writes go through a Writer, in atomic batches that carry the tip
//     (height, hash, counters). Whatever a crash or SIGKILL interrupts, the
//     store reopens at the last committed tip with every table consistent,
//     and an import resumes from there. Rollback removes blocks from the tip
//     down (reorgs), using only what the index itself holds.
//   - Verify re-derives every invariant from the stored records and names
//     what is wrong.
//
// Errors: lookups return errors wrapping chain.ErrNotFound; a block that
// does not extend the tip, or whose inputs spend unknown outputs, is
// rejected with an error wrapping ErrInconsistent and nothing is written;
// ErrCorrupt wraps a record that does not decode.
package index
