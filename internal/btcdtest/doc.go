// Package btcdtest starts real btcd nodes on a private regression-test
// chain for the tests of other packages. It is a test helper, not a mock:
// every call goes to a genuine btcd process over JSON-RPC.
//
// Concepts:
//
//   - Binary locates a pinned external tool in the repository's .tools/bin
//     (installed by scripts/tools.sh) or in the directory named by the
//     VESTIGO_TOOLS environment variable. A missing tool fails the test with
//     instructions; it is never a reason to skip.
//   - Start runs btcd --regtest in a fresh t.TempDir on a free loopback
//     port, with transaction and address indexes, plain-HTTP RPC, no P2P
//     listener and an empty config file, and waits until its RPC answers.
//     Every node mines to MiningAddr, the regtest P2PKH address of the fixed
//     key MiningKey, so tests can spend coinbase outputs. Regtest wipes its
//     database on every start: each node begins at the genesis block.
//   - Node offers raw JSON-RPC (Call) and the few chain-shaping commands
//     tests need: Generate, SubmitBlock, InvalidateBlock, BestBlock.
//   - The node is stopped by process ID (SIGTERM, then SIGKILL after a
//     deadline) when the test ends or when Stop is called. Its output is
//     kept in a log file whose tail is logged when a test fails.
//
// Errors: helpers that take a testing.TB fail the test with a message that
// says what went wrong and includes the tail of the node's log. Call and
// SubmitBlock return errors instead; a JSON-RPC error object is returned as
// *RPCError.
package btcdtest
