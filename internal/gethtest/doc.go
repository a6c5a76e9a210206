// Package gethtest starts real go-ethereum nodes (geth --dev) for the tests
// of other packages. It is a test harness, not a mock: every call goes to a
// genuine geth process over HTTP JSON-RPC. Only tests import it (layer 6).
//
// Concepts:
//
//   - Binary locates geth: the file named by $VESTIGO_GETH, else geth in the
//     directory named by $VESTIGO_TOOLS, else .tools/bin/geth under the
//     module root (the first directory holding go.mod, walking up from the
//     working directory), where scripts/tools.sh installs the version pinned
//     in go.mod. A missing geth fails the test and says to run
//     scripts/tools.sh; it is never a reason to skip.
//   - Start runs geth --dev in a fresh t.TempDir, with HTTP JSON-RPC on
//     127.0.0.1 at a free port (APIs eth, net, web3, debug, txpool), no IPC,
//     no discovery, no peers, no NAT probing (--nat none) and p2p port 0. In
//     --dev mode geth opens no p2p listener, no authenticated engine API and
//     no WebSocket server, so the HTTP port is the only socket a node
//     listens on and parallel nodes cannot collide. The node is an archive
//     node (--gcmode archive --state.scheme hash --cache 256): state of every
//     block stays available, so debug_traceTransaction and eth_getBalance
//     work on old blocks. Start waits until the RPC answers (30 s at most)
//     and reads the chain id (1337) and the dev account.
//   - Dev is geth's funded, unlocked developer account. Fund sends value
//     from it to any address with eth_sendTransaction (the node signs). With the
//     default --dev.period 0 geth seals a block as soon as a transaction is
//     pending, so every helper that sends also waits for the receipt. It
//     also seals an empty block now and then: tests must not count on one
//     block per transaction.
//   - Keys of the test sign their own dynamic-fee transactions: NewTx fills
//     the nonce, the node's fee suggestions and eth_estimateGas × 1.2,
//     SendTx signs for the chain id, sends and waits, SendSigned and Deploy
//     do both and insist on success. Mine adds blocks (each carrying one
//     zero-value self-transfer of Dev) so that a transaction becomes old.
//   - The node is stopped by process id (SIGINT, then SIGKILL after ten
//     seconds, then reaped) when the test ends or Stop is called. Its output
//     goes to a log file whose tail is logged when the test has failed.
//
// Errors: every helper takes a testing.TB and fails the test with a message
// prefixed "gethtest:" that says what went wrong: a missing binary, a node
// that exits or does not answer during start-up (with the end of its log),
// an RPC error, a receipt that does not come within 30 s, a transaction
// that failed (status 0) where success was required, bad arguments (nil or
// negative values, empty bytecode). A port taken between the probe and
// geth's bind is retried on another port.
package gethtest
