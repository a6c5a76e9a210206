// Package change tells, for a payment transaction, which output (if any)
// returns the leftover of the inputs to the payer: the change. Investigators
// follow the payment, not the change, and clustering may (opt-in) join the
// change output's address to the inputs' cluster. Because findings are
// defended with measured error rates, every heuristic is a separately
// callable, deterministic function whose per-transaction votes can be
// scored against ground truth (by package evaluate), and the consensus that
// combines them is a fixed, documented rule.
//
// # Concepts
//
//   - A Heuristic looks at one chain.FlowTx (and, through a Context, at what
//     the index knows about the transaction's neighbourhood) and returns
//     Votes. A Vote says of one output that it is "change" or "payment", with
//     the reason in words; a Vote with Output -1 (and an empty Says) is an
//     abstention whose Reason says why the heuristic cannot decide.
//   - A heuristic names at most one change output per transaction (like
//     BlockSci's unique_change): when it names one, it also votes "payment"
//     on every other output that has an address, because a wallet makes at
//     most one change output. Some heuristics vote only "payment" (a round
//     amount, a different wallet fingerprint) without naming the change.
//   - Context answers what the transaction alone cannot: how often an address
//     was used before (PriorUses), which transaction spent an output
//     (Spender), and whether an address is in the inputs' co-spend cluster
//     (SameCluster). The index implements it. Heuristics that need it abstain
//     when it is nil.
//   - Analyze runs All heuristics in their fixed order and combines the votes
//     into a verdict per output ("change", "payment" or "unknown", with a
//     confidence) and at most one consensus change output.
//
// # What is not judged
//
// Every heuristic abstains, and Analyze finds no change, for:
//
//   - a coinbase (newly minted coins have no payer);
//   - a transaction without inputs (malformed);
//   - a transaction with fewer than two outputs that have an address (an
//     OP_RETURN output has none): there is nothing to tell apart;
//   - a transaction with more than MaxOutputs (10) outputs: a batch payout
//     (exchange withdrawals, pool payouts), where the change is one output
//     among many and the heuristics below, designed for and evaluated on
//     ordinary payments, are not applied;
//   - a transaction that looks like an equal-output CoinJoin by BlockSci's
//     rule (isCoinjoin: at least two inputs and three outputs, (outputs+1)/2
//     participants, no more than the inputs and their distinct addresses,
//     and the most common output value, not a dust value, occurring exactly
//     once per participant): several payers, so no single change. A
//     three-output payment to two recipients of the same amount is skipped
//     by the same rule.
//
// # Heuristics
//
// In the order of All. Each function's comment gives the exact rule.
//
//   - fresh_address (FreshAddress): exactly one output goes to an address
//     never used before while every other output goes to a used address: the
//     fresh one is the one-time change. Sources: Androulaki et al., "Evaluating
//     User Privacy in Bitcoin", FC 2013 (shadow addresses); Meiklejohn et al.,
//     "A Fistful of Bitcoins", IMC 2013, Heuristic 2 and its four conditions;
//     BlockSci's client_change_address_behavior. Fails when the payer sends
//     change to an old address of its own other than the inputs' (change to a
//     reused receive address) while the payee gave a fresh one: the payment
//     is then called change. Abstains for the common case of two fresh
//     outputs.
//   - address_reuse (AddressReuse): exactly one output pays back to an input
//     address: it is change. Sources: Meiklejohn et al. 2013 ("self-change",
//     23% of transactions in the first half of 2013); BlockSci's
//     address_reuse. Near-certain: it fails only when someone else pays to
//     the payer's address in a multi-party transaction. It dominates the
//     consensus.
//   - optimal_change (OptimalChange): exactly one output is smaller than
//     every input: it is change, since a wallet would not have added an input
//     larger than the change (Nick, "Data-Driven De-Anonymization in
//     Bitcoin", ETH Zürich 2015; BlockSci's optimal_change). Fails for coin
//     selection that adds unnecessary inputs (random selection, spending
//     every coin of an address together, privacy-minded consolidation) and
//     when the payment too is smaller than every input (then it abstains).
//     A one-input transaction has every output below its input, so it
//     abstains there.
//   - round_payment (RoundPayment): outputs of a round amount (a multiple of
//     0.001 BTC, or at most two significant digits and at least 0.00001 BTC,
//     such as 0.00025 BTC) are payments; when exactly one output is not round
//     it is the change. Sources: BlockSci's power_of_ten_value; the Bitcoin
//     wiki's Privacy page ("round numbers"); Möser and Narayanan,
//     "Resurrecting Address Clustering in Bitcoin", FC 2022. Fails for change
//     that is round by chance (about 1 in 10^3 to 10^5 for a random value,
//     depending on magnitude) or by design (wallets that round the change),
//     and misses payments round in a fiat currency but not in BTC.
//   - script_type (ScriptType): every input has one script type and exactly
//     one output has it while another output has a different type: that
//     output is change (BlockSci's address_type; Möser and Narayanan 2022).
//     Fails for wallets that give the change another type than their inputs
//     (a wallet migrating to a new type, or, since Bitcoin Core 23, change of
//     the payment's type); abstains when payer and payee use the same type.
//   - locktime_consistency (LocktimeConsistency): compares the wallet
//     fingerprint of this transaction with that of each output's spending
//     transaction: the nLockTime class (zero, anti-fee-sniping at most
//     AntiFeeSnipingWindow blocks below its block, another height, a time),
//     nVersion, and the nSequence class (BIP125 replace-by-fee signal,
//     non-final, final). The only output spent with the same fingerprint,
//     when every other output is spent with a different one, is change;
//     outputs spent with a different fingerprint are payments (when at least
//     one output's spender matches). Sources: BlockSci's locktime heuristic;
//     Möser and Narayanan 2022 (fingerprints of the spending transaction);
//     Bitcoin Core's anti-fee-sniping nLockTime. Fails when the payee's
//     software shares the payer's fingerprint (the common default of version
//     2, zero lock time and final sequences makes that frequent), when the
//     change is spent by another party's transaction (a CoinJoin) or the
//     payer changes settings (RBF per transaction).
//   - fee_rate_consistency (FeeRateConsistency): the same rule with the fee
//     rate: a spender whose fee rate lies within the band of this
//     transaction's (3% of the larger rate, plus one satoshi's rounding over
//     each size) shows the same wallet. Sources: BlockSci's fixed-fee
//     heuristic ("clients may choose a fixed fee per kb"); Möser and Narayanan
//     2022. Informative for wallets with a fixed fee rate; for wallets that
//     follow the fee market both sides match or differ by chance.
//   - peel_chain (PeelChain): in a one-input two-output transaction, the
//     output spent by another one-input two-output transaction continues the
//     peel chain and is change, if it is the larger; the other is the peel.
//     Sources: Meiklejohn et al. 2013 (peeling chains); BlockSci's
//     peeling_chain; Kappos et al., "How to Peel a Million", USENIX Security
//     2022. Fails when the payee spends a large payment alone in an ordinary
//     one-input payment with change.
//   - cluster_membership (ClusterMembership): exactly one output's address
//     is already in the inputs' co-spend cluster (known from other
//     transactions): it is change. Sources: the common-input-ownership
//     heuristic (Nakamoto 2008, §10; Meiklejohn et al. 2013, Heuristic 1).
//     Inherits every false merge of the cluster (Kappos et al. 2022); the
//     Context must answer from a co-spend clustering, not one that already
//     used change verdicts, or the heuristic confirms itself.
//
// # Consensus
//
// Analyze weighs each heuristic 1, except address_reuse, which weighs
// DominantWeight (9), more than all other heuristics together. For each
// output i:
//
//	support(i) = total weight of the heuristics that vote change on i
//	against(i) = total weight of the heuristics that vote payment on i or
//	             change on another output (each heuristic counted once)
//
// Output i is the consensus change when support(i) > against(i). At most
// one output can satisfy this (a supporter of one is against the other), so
// a tie means no change. Its verdict is "change" with confidence
// (support+1) / (support+against+2): the share of the votes with one
// imaginary vote on each side (Laplace's rule of succession), so a single
// unopposed heuristic gives 0.67, two 0.75, three 0.8, address_reuse alone
// 0.91, and every conflicting vote lowers it. Every other output is
// "payment" when the weight voting payment on it, P, exceeds the weight
// voting change on it, C, with confidence (P+1) / (P+C+2); otherwise it is
// "unknown" with confidence 0. Confidences are rounded to two decimals. An
// output's Heuristics are the names that voted its verdict on it, in the
// order of All. The rule uses no thresholds fitted to any data; per-heuristic
// error rates come from package evaluate.
//
// # Errors
//
// An error of the Context is wrapped with the prefix "change: " and the
// heuristic's name and returned; Analyze then returns it without a result.
// A nil transaction or a negative height is rejected with chain.ErrInvalid.
// Nothing in the package prints or logs.
package change
