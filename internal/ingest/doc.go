// Package ingest moves blocks from a source into the index: Bitcoin Core's
// block files (Import) or a node's JSON-RPC (Sync, optionally following new
// blocks).
//
// Concepts:
//
//   - A pipeline: one goroutine reads raw blocks in height order, a pool of
//     workers decodes them (txids, merkle root, script classification), and
//     a single writer adds them to the index in order. Memory is bounded by
//     the pipeline's depth.
//   - Resumption: the index commits atomic batches with their tip, so a run
//     that was killed starts again from the committed tip. Before adding
//     anything, the source's block at the tip height is compared with the
//     index's; if they differ (a reorganisation since the last run), the
//     index is rolled back to the last block both agree on.
//   - Following: Sync with Follow polls the node for new blocks, rolls back
//     reorganisations to the fork point and commits every block durably.
//
// Errors: a source that disagrees with the index's network, a block that
// does not decode or does not extend the chain, and every source failure
// end the run with an error naming the height and hash; what was committed
// before stays committed and verifiable. Cancelling the context ends a run
// cleanly after committing the blocks already added.
package ingest
