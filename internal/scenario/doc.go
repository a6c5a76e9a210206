// Package scenario generates deterministic, fully valid Bitcoin regtest
// chains with a realistic simulated economy and, for an investigation
// scenario, an exact ground truth: who controls every address, which output
// of every transaction is change, and every step of the crime.
//
// The chains feed demos, benchmarks, training exercises and the measurement
// of clustering and change-heuristic error rates, so two properties matter
// above all: every block is valid for a real node (a test submits them all
// to btcd with full validation), and the ground truth is exact.
//
// # Output
//
// Generate writes into an empty or new directory:
//
//   - blk00000.dat, blk00001.dat, ...: Bitcoin Core block files. Each record
//     is the regtest magic fa bf b5 da, the block size (4 bytes, little
//     endian) and the serialized block; a new file starts before one would
//     exceed 128 MiB, as in Core. Blocks are in height order from the
//     regtest genesis block.
//   - ground-truth.json (TruthFile): for a scenario always, for the baseline
//     with Config.Truth. See Truth.
//   - known-tags.csv (KnownTagsFile, scenarios only): the attributions an
//     investigator starts the case with, as a tag CSV.
//   - generated.json (ManifestFile): seed, parameters, tip, counts and the
//     file list. It is written last, through a temporary file and a rename:
//     a directory without it holds an interrupted run.
//
// # The chain
//
// Blocks 1–100 only mine coins: blocks 1–5 pay an "early miner" by P2PK to
// an uncompressed key, like 2009's coinbases (three of those coins are
// spent later, two never move), then five pools with fixed hash-rate shares
// mine to their reused payout addresses. From block 101 the economy runs.
// Block times start at 2024-01-01T00:00:00Z and advance 400–800 s per
// block. Every block has real proof of work at the regtest target, the
// BIP34 height as btcd and Core encode it, version 0x20000000, a witness
// commitment, a coinbase paying exactly subsidy plus fees, weight at most
// 4,000,000 and sigop cost at most 80,000. Coinbase outputs are spent only
// after 100 confirmations. Inputs are signed with btcd's txscript: P2PKH
// and P2PK with ECDSA (SIGHASH_ALL), P2WPKH with BIP143 signatures, P2TR by
// the BIP86 key path with BIP341 SIGHASH_DEFAULT Schnorr signatures. No
// transaction spends an output of its own block.
//
// # The economy
//
// Entities are users, merchants, mining pools, an exchange and the
// "external" world. Each wallet draws its habits from the seed: a preferred
// script type (P2WPKH, P2PKH or P2TR; a few mix types), address reuse, change
// back to the reused address, change of the payment's type (Core ≥ 23),
// anti-fee-sniping lock times (nLockTime = tip height, sequence below final),
// replace-by-fee signalling, the change position (random, or last), coin
// selection (largest first, random, oldest first) and its fee behaviour
// (following a drifting fee market, fixed, or cheap). Amounts are round in
// BTC, round in dollars at a drifting price, or arbitrary. Users pay each
// other and merchants, sometimes several recipients at once; wallets with
// many coins consolidate at low fee rates; pools pay their rewards out in
// batches and sell part at the exchange. The exchange gives each customer
// one deposit address, sweeps all deposits into its hot wallet every third
// block and pays withdrawals in batches. Some payments leave the economy to
// P2SH and P2WSH 2-of-3 multisig, bare 1-of-2 multisig and OP_RETURN outputs
// (the first payments always do, so every script class occurs in every
// chain). Leftovers too small for a change output go to the miner. Blocks
// hold up to 2,500 transactions, ordered by fee rate.
//
// Config.Txs is the exact number of background (non-coinbase) transactions
// the economy makes; a scenario's transactions come on top.
//
// # Scenarios
//
// A scenario is a crime story played inside the background economy, which
// runs before, during and after it. "ransomware": victims buy BTC at the
// exchange and each pays a realistic, dollar-denominated ransom to a fresh
// attacker address; the attacker consolidates the ransoms into one
// address, then runs a peel chain of 6–12 hops, each spending the previous
// remainder into a small peel and a large remainder to a fresh address.
// Several peels go to exchange deposit addresses of the attacker's mule
// accounts (the exchange sweeps them like any deposit), the others to
// ordinary users. The last remainder enters a Wasabi-like CoinJoin with four
// other participants: everyone gets one 0.1 BTC output and change, the
// coordinator a fee. RansomwareTruth records every step; the story's
// parameters (victims, hops, ...) are drawn from the seed and recorded in
// Params.
//
// # Ground truth
//
// Truth lists every wallet with every address it controls and every
// transaction in chain order with its creator, its kind, the owner of each
// output, its fee and its change outputs. ChangeVouts are the outputs the
// creating wallet's software made as change; consolidations and sweeps have
// none (their output is a self-transfer, visible in Owners); a CoinJoin
// lists every participant's change. Owners make the ground truth of
// address clustering; ChangeVouts that of change detection.
//
// # Determinism
//
// The output is a function of the seed and the parameters only: byte for
// byte the same on every run, whatever GOMAXPROCS. All randomness comes
// from one ChaCha8 stream keyed by SHA-256 of the seed and is consumed only
// while a block's transactions are planned, single-threaded. Private keys
// are SHA-256("vestigo/scenario/key/" || seed || wallet || index || sub);
// ECDSA and Schnorr nonces are deterministic (RFC 6979). Keys are then
// derived and inputs signed in parallel, each result depending only on its
// own inputs, and blocks are assembled in order. No wall clock and no
// floating point affects the output. The seed is recorded in the ground
// truth: anyone holding it can recompute every private key, so generated
// chains must never hold real value.
//
// # Errors
//
// Invalid configurations (unknown scenario, a transaction count out of
// range, an output directory that is not empty) are reported wrapping
// chain.ErrInvalid; I/O errors are wrapped with the file concerned;
// cancelling the context stops Generate with an error wrapping the
// context's error. Errors carry the "scenario:" prefix. Generate never
// panics on bad input.
package scenario
