// Package ethchaingen fills an EVM node (geth --dev in the benchmark and in
// its test) with a generated chain of many transactions, quickly, so that
// the Ethereum import can be measured at scale (vestigo bench eth, make
// bench-eth).
//
// Concepts:
//
//   - Accounts: a bank and Options.Accounts externally owned accounts whose
//     keys follow from the seed alone (Keccak-256 of
//     "vestigo/ethchaingen/key/1", the seed and the account's number). A
//     Funder from outside (geth's unlocked developer account through
//     ethscenario.DevFunder) pays the bank once; the bank deploys
//     ethscenario's Token (an ERC-20) and Forwarder, mints tokens to
//     itself, and pays every account ether and every other account tokens.
//   - The mix: after that set-up, rounds of Options.Round transactions,
//     each drawn from a seeded math/rand/v2 source: plain ether transfers
//     between accounts (a tenth of them to ten "hub" accounts, as to an
//     exchange), ERC-20 transfers and Forwarder.forward calls, whose
//     value the contract splits between two accounts in internal transfers
//     (shares from Options.TokenPercent and Options.ForwardPercent).
//   - Speed: transactions are signed here (types.SignTx, dynamic fees, a
//     fixed tip and fee cap, nonces tracked locally), sent in one JSON-RPC
//     batch of eth_sendRawTransaction per round, and the round's receipts
//     are read back in batches until all are there. Each must succeed.
//     Gas limits are exact for plain transfers (21,000) and, for the
//     contract calls, the node's estimate of the costliest case (a fresh
//     recipient) plus a half.
//   - Determinism: the transactions (and so their hashes) depend only on
//     the seed, the options and the node's gas estimates. Balances are
//     tracked as lower bounds: a sender is debited value plus gas limit ×
//     fee cap when its transaction is planned, a receiver credited once its
//     round is mined, so no transaction can fail for want of funds and no
//     choice depends on how the node cut the rounds into blocks (which
//     varies from run to run).
//   - A node sealing on demand (geth --dev with period 0) raises the base
//     fee while its blocks are more than half full: start it with a large
//     --dev.gaslimit for big chains. A base fee that reaches half the fee
//     cap stops the generation with an error that says so.
//
// Errors: every error starts with "ethchaingen:" and is one line: bad
// options, a failed RPC call, a transaction the node refused, a receipt
// that does not come within Options.ReceiptTimeout, a transaction that
// failed (status 0), a contract creation without code, a base fee above
// half the fee cap, accounts without funds left for the rest.
package ethchaingen
