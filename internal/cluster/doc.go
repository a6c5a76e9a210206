// Package cluster groups the addresses of a Bitcoin index into clusters of
// one presumed owner, by the co-spend (multi-input) heuristic, and keeps
// the result in its own store next to the index.
//
// Concepts:
//
//   - Co-spend: all inputs of a transaction are signed by one owner, so
//     their addresses belong together. CoinJoins break that rule (many
//     owners sign one transaction); a transaction that package coinjoin
//     calls a CoinJoin merges nothing. Coinbases merge nothing.
//   - Change (opt-in, Options.UseChange): the consensus change output of
//     package change joins the inputs' cluster. Change heuristics err, and
//     one wrong link can fuse two large entities ("cluster collapse"), so
//     a change merge of two clusters that both exceed
//     Options.CollapseLimit addresses is refused and counted.
//   - Union-find over the index's dense address ids, union by size, no
//     path compression: every parent pointer is the record of exactly one
//     merge, written once and removable, so a reorg is undone exactly by
//     replaying the merge log backwards. Trees stay O(log n) deep.
//   - Merge record: which transaction joined which two addresses (from,
//     in the smaller cluster, to, in the larger). The records form a
//     spanning tree of each cluster; Explain walks it to print the chain of
//     transactions that links any two addresses.
//   - Cluster id: the address id of the cluster's root. It changes when the
//     cluster merges into a larger one; quote an address, not the id.
//
// Store (pebble, one per ledger, DATA/cluster/<chain>-<net>): 0x00 "tip"
// (height, block hash, merge count), 0x00 "opt" (ledger and options),
// 'h' height → block hash (to find the fork point of a reorg), 'p' child
// → merge record (parent, child's size, txkey, from, to, kind), 'c'
// parent child → – (members by traversal), 'z' root → size, 'm' height
// seq → child (the merge log, undone backwards by Rollback).
//
// Errors: ErrMismatch when the store belongs to another ledger or was
// built with other options; ErrCorrupt when a record cannot be decoded;
// lookups of unknown addresses wrap chain.ErrNotFound.
package cluster
