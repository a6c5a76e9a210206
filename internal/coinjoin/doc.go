// Package coinjoin recognises CoinJoin transactions (many owners signing
// one transaction) from their shape, so that the co-spend heuristic of
// package cluster does not merge unrelated people into one entity, and it
// recognises the look-alikes that are single-owner (Whirlpool Tx0,
// Samourai Stonewall), whose inputs may be merged.
//
// Detect is pure and deterministic: it reads a chain.FlowTx (values,
// opaque address ids, script types, in transaction order) and nothing
// else, and allocates nothing for an ordinary transaction. It returns a
// Verdict: whether the transaction is a CoinJoin, which protocol, every
// detector that fired with a one-sentence reason carrying the numbers, the
// vetoes, and a confidence (for a non-CoinJoin, the confidence that it is
// not one).
//
// # Concepts
//
//   - Equal-output set: the most frequent output value d and its count k
//     (OP_RETURN outputs are ignored). An equal-output CoinJoin gives every
//     participant one output of d, so k outputs of d need k owners.
//   - Change: the outputs that are not d (m of them). Per-participant
//     change means m is close to k (JoinMarket: k or k-1 when the taker
//     sweeps; a coordinated round may add one coordinator-fee output).
//   - Distinct input addresses: inputs of one address have one owner, so
//     k participants need at least k distinct input addresses (BlockSci
//     isCoinjoin; Dumplings). Address 0 (unknown) counts as its own owner.
//   - Value split (partition check): the inputs, grouped by address, must
//     split into k participants each paying at least its equal output plus
//     its own change, less what a JoinMarket maker may earn (10,000 sats
//     or 0.1% of d) (BlockSci isCoinjoinExtra). With m = k+1 one other
//     output, at most 5% of d per participant (Whirlpool's pool fee, the
//     highest coordinator rate known), is the coordinator's. The sum of
//     what participants overpay is the miner fee plus the coordinator fee,
//     so the split has to be nearly exact; batch payments of one payer
//     almost never admit one. The search is bounded (50,000 steps, 64
//     address groups, 32 participants); beyond that only Dumplings'
//     shortcut is checked (no input larger than one participant can pay).
//     When the split is undecided the detector still fires, with a lower
//     confidence and a reason that says so.
//   - Protocol: the most confident protocol-specific detector, generic
//     only when nothing else fired; Detectors lists it first.
//
// # Detectors (in order of precedence when confidences tie)
//
//   - whirlpool (Samourai Whirlpool mix): inputs = outputs, 5..10 of them;
//     every output exactly one pool denomination (0.001, 0.01, 0.05,
//     0.5 BTC); at least one input exactly the denomination (a remix) and
//     the others above it by at most 0.0011 BTC (premix with the miner-fee
//     allowance); all inputs and outputs p2wpkh; outputs to distinct
//     addresses. Source: Dumplings (crocs-muni/Dumplings Scanner.cs, the
//     "Samourai CoinJoin Detection Heuristic" of "Pinpointing and
//     Measuring Wasabi and Samourai CoinJoins"), pool list from
//     Dumplings Constants.cs and Whirlpool's PoolInfo.
//   - wabisabi (Wasabi 2.x): at least 20 inputs, all p2wpkh or p2tr;
//     at least 10 outputs, 90% of them p2wpkh or p2tr; inputs and outputs
//     each in descending value order (the coordinator sorts them); more
//     than 80% of the outputs in the WabiSabi standard denomination set
//     (powers of 2 and 3, 2*3^n and the 1-2-5 series, 5,000 sats to
//     1,343.75 BTC), at least 10 distinct input addresses. Source:
//     crocs-muni/Dumplings Scanner.cs (Wasabi2 rule, denomination list,
//     "50 was the minimum input count at the beginning of Wasabi 2"),
//     WalletWasabi StandardDenominations.cs.
//   - wasabi1 (Wasabi 1.0, ZeroLink): the most frequent equal value is
//     within 0.1 ± 0.02 BTC, at least 10 such outputs, at least as many
//     inputs and distinct input addresses, at least two outputs of unique
//     value (change and the coordinator fee), all inputs and outputs
//     p2wpkh. The coordinator fee (0.003% of the denomination times the
//     anonymity set, per participant) is named when an output is within a
//     third to twice of it, which raises the confidence unless every
//     output is also some participant's change (then a JoinMarket round of
//     10 or more near 0.1 BTC fits as well, and joinmarket wins). Source:
//     nopara73/Dumplings and crocs-muni/Dumplings Scanner.cs and
//     Constants.cs; Wasabi documentation (fee).
//   - wasabi11 (Wasabi 1.1 mixing levels): wasabi1 plus at least one more
//     group of two or more equal outputs at 2^i times the base
//     denomination (±1%). Source: WalletWasabi MixingLevelCollection.cs
//     (each level doubles the previous one).
//   - joinmarket: k ≥ 3 equal outputs (taker plus minimum_makers = 2),
//     exactly one repeated value (maker fees make the changes distinct),
//     m = k or k-1 changes, no OP_RETURN, k distinct equal-output
//     addresses, at least k inputs and distinct input addresses, all
//     inputs of one script type (p2pkh, p2sh or p2wpkh) and all outputs
//     but the taker's destination of that type, and the value split must
//     not be impossible. Source: Dumplings "other CoinJoin" rule;
//     JoinMarket release notes 0.2.2 (minimum_makers); JoinMarket offer
//     types (reloffer, swreloffer, sw0reloffer: one script type per
//     CoinJoin).
//   - generic: CoinJoins of unknown software: k ≥ 3 outputs of one value
//     of at least 5,000 sats, exactly one repeated value, m = k-1, k or
//     k+1 (a coordinator-fee output), k distinct equal-output addresses,
//     at least k inputs and distinct input addresses, and the value split
//     must not be impossible. Source: BlockSci isCoinjoin and
//     isCoinjoinExtra; Dumplings "other CoinJoin" rule, extended by one
//     coordinator-fee output as in Wasabi 1.0-style coordinated rounds.
//
// # Not CoinJoins
//
//   - whirlpool_tx0 (Whirlpool premix, Tx0): exactly one OP_RETURN (the
//     fee payload), 1..70 premix outputs of one value between the pool
//     denomination and 0.0011 BTC above it, 1..4 other outputs of which at
//     least one is no larger than the pool fee, all non-OP_RETURN outputs
//     p2wpkh. One wallet funds it: Tx0 is set, IsCoinJoin is false, and
//     the finding is listed in Detectors. Source: whirlpool-client
//     Tx0Service.java (outputs), Whirlpool protocol documentation
//     (premix range, OP_RETURN, tx0MaxOutputs), Samourai pool fees.
//   - stonewall (veto): four outputs, two of them equal and two distinct
//     changes, two or more inputs that split into two sets each paying
//     one equal output and one change. Samourai's Stonewall is one
//     wallet; StonewallX2 is two wallets and has exactly the same shape.
//     The veto errs toward clustering: such a transaction is reported as
//     not a CoinJoin with a low confidence, and the analyst must know that
//     a StonewallX2 (or a two-party JoinMarket CoinJoin) would then merge
//     two owners. Source: Samourai Stonewall and StonewallX2
//     documentation ("always produce four outputs").
//
// # Blind spots
//
//   - Two-party CoinJoins (StonewallX2, JoinMarket with one maker) are
//     indistinguishable from Stonewall and are treated as one owner.
//   - A real Tx0x2 (two-party Cahoots Tx0) has the shape of a decoy Tx0x2
//     of one wallet; a Tx0 with three or more non-premix outputs is marked
//     Tx0 with a low confidence.
//   - PayJoin (BIP78) and other steganographic transactions have no
//     equal-output signature and are not detected.
//   - WabiSabi rounds smaller than 20 inputs, or of coordinators that do
//     not sort inputs and outputs, are missed; equal-output CoinJoins in
//     which several participants have no change or one participant has
//     two, and JoinMarket rounds whose value split exceeds the search
//     budget, lose confidence or are missed.
//   - Old Wasabi 1.0 rounds before block 610,000 with other base
//     denominations are recognised only by the generic rule, since the
//     coordinator's fixed addresses are not visible through opaque ids.
//   - Wasabi 1 rounds of 10 or more outputs near 0.1 BTC with a
//     coordinator-fee-like output and a JoinMarket round of that size
//     whose value split is undecided can be named wasabi1 for joinmarket
//     (either way a CoinJoin).
//   - The thresholds come from the cited tools; a batch payment by one
//     payer from many addresses whose amounts happen to split exactly
//     into k equal-plus-change parts is called a CoinJoin (about 1 in
//     1,000 of such constructed batches with k = 3..6 in the tests, all at
//     k = 3 with round amounts, confidence 0.6). An implausibly large miner
//     fee weakens the value split the same way.
//   - Speed: an ordinary transaction costs tens of nanoseconds; a
//     CoinJoin-shaped one microseconds; the bounded value split caps a
//     pathological one at a few milliseconds.
package coinjoin
