// Package ethscenario plays a generated Ethereum theft case on a live
// EVM chain (a geth --dev node in the tests) and records its exact ground
// truth, so that the Ethereum index, attribution and tracing can be checked
// against a real node to the wei.
//
// # Keys and addresses
//
// Every account of a case is an externally owned account whose private key
// is derived from the seed alone: the Keccak-256 of "vestigo/ethscenario/key/1",
// the seed (8 bytes, big endian), the account's label and a retry counter
// (raised in the rare case the digest is not a valid secp256k1 scalar). The
// two contracts are created by the "deployer" account with nonces 0 and 1,
// so their addresses follow from the seed too. Addresses returns the whole
// set without touching a chain; Run refuses to start when any of these
// accounts has already been used on the chain (a non-zero nonce or balance,
// or code at a contract address): the truth could not be exact otherwise.
//
// # The case
//
// With Hops = N (DefaultHops when zero):
//
//  1. The funder (outside the case; geth's dev account in the tests) pays the
//     deployer, the victim and two unrelated users.
//  2. The deployer deploys Token (an ERC-20, "Vestigo Test Dollar", VTD, 6
//     decimals) and Forwarder (contracts/), and mints tokens to thief-0 and
//     to user-0.
//  3. The victim pays thief-0 (the theft). thief-0 … thief-N form the thief's
//     chain: at each hop i < N the hop peels a small amount to peel-i and
//     sends the rest, less a fixed gas reserve it keeps, to thief-(i+1). The
//     hop at i = N/2 does both in one call of Forwarder.forward: the contract
//     passes the value on to thief-(i+1) and peel-i, internal transfers that
//     only call traces (and the Forwarded event) show. Tokens travel the same
//     chain with their own peels to the same peel addresses.
//  4. An exchange gives deposit addresses to its customers: thief-N and peel-0
//     both pay into deposit-0 (two senders of one customer, the thief, to be
//     linked as one user), peel-1 pays into deposit-1, user-0 into deposit-2
//     and user-1 into deposit-3. thief-N also deposits all its tokens into
//     deposit-0. Every deposit address then forwards its whole balance to the
//     exchange's hot wallet: deposit-0 its tokens first, then each its ether,
//     value = balance − fee exactly (see Gas), leaving it empty.
//
// Amounts are exact wei (and token base units), drawn from the seed.
//
// # Gas
//
// Transactions are EIP-1559 transactions signed with the account's key for
// the chain's id: tip 1 gwei, fee cap twice the latest base fee plus the tip,
// gas limit eth_estimateGas × 1.2 (dev-chain gas is far above mainnet, so
// limits are never hard-coded). The one exception is the sweep of a deposit
// address's ether: a sender must hold value + gas limit × fee cap, so any
// margin on the limit would strand wei on the deposit address. The sweep
// therefore uses the estimate itself, which must be exactly 21,000 (a plain
// transfer to an account without code, whose gas use cannot vary), and a fee
// cap equal to its tip, so that the fee, 21,000 × that price, is known before
// the transaction is mined. The ledger's balance of the deposit address is
// compared with the node's before the sweep is sent.
//
// Transactions go one at a time: Run sends, then polls for the receipt.
// geth shows a block's receipts before its transaction pool has caught up
// with the block, so an account paid in the block just mined can be refused
// for "insufficient funds" for a moment; Run then sends again, but only while
// the account's balance at the latest block covers the transaction's cost.
//
// # Truth
//
// Truth, written by Truth.Write and read back by ReadTruth, holds every
// address with its role, owner and expected final ether and token balance,
// every transaction with its kind, receipt facts (block, gas used, effective
// gas price, fee) and the value transfers it made (top-level value, internal
// transfers from Forwarded events, token Transfer logs), the token's address,
// name, symbol, decimals and supply, the deposit addresses with their
// senders and sweeps, and the money paths from the victim (ether) and from the
// mint (tokens) to the exchange's hot wallet. Balances are computed from the
// receipts alone: each transfer's value and each sender's gasUsed ×
// effectiveGasPrice. Truth.Check compares them with the node
// (eth_getBalance, balanceOf).
//
// # Errors
//
// Every error is prefixed "ethscenario:" and says what failed: invalid
// options, an account of the seed already used on the chain, an RPC call, a
// transaction that failed (status 0) or whose receipt does not match what was
// sent, a funder that paid something else than asked, a ledger that
// disagrees with the node, and, for ReadTruth, a malformed or inconsistent
// truth file. Run is quiet: it logs each transaction at debug level to the
// Options.Logger, if any.
package ethscenario
