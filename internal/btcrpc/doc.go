// Package btcrpc is a JSON-RPC client for Bitcoin Core–compatible full
// nodes (bitcoind and btcd), made for fetching a chain block by block: it
// reads block hashes by height and raw blocks by hash, and identifies the
// node and its network for the provenance record of an index.
//
// Concepts:
//
//   - Config names the node's URL and credentials: user and password (also
//     accepted as user:pass@ in the URL) or Bitcoin Core's cookie file,
//     which is re-read when the node answers HTTP 401 because the node
//     writes a new cookie every time it starts.
//   - Requests are JSON-RPC 1.0 over HTTP POST with positional parameters
//     and integer verbosity (btcd rejects booleans). BlockHashes and
//     RawBlocks send one batch request (a JSON array) and match the answers
//     by id.
//   - Nothing a node sends is trusted: every response is bounded by
//     MaxResponseBytes and every request by Timeout; results must have the
//     expected JSON type; hashes must be exactly 64 hex digits; a raw block
//     must be valid hex whose first 80 bytes (the header) hash to the hash
//     that was asked for. Answers of a hostile or broken node become
//     errors, never panics or unbounded allocations.
//   - NodeInfo tells which software answers (btcd, bitcoind) and its
//     version; Network identifies the chain by its genesis block hash, which
//     both node kinds report the same way.
//
// Errors: every error starts with "btcrpc:", names the RPC method where
// there is one, and is a single line. A JSON-RPC error object from the
// node is an *RPCError (find it with errors.As). A block or height the node
// does not have (Core: -5 "Block not found", -8 "Block height out of
// range"; btcd: -5, and -1 "Block number out of range") is also reported
// as chain.ErrNotFound; arguments rejected before anything is sent wrap
// chain.ErrInvalid. A node that refuses the credentials gives
// ErrUnauthorized. Passwords and cookies never appear in errors or logs.
package btcrpc
