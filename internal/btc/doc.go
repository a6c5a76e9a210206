// Package btc is Vestigo's Bitcoin adapter: it turns Bitcoin's wire format
// into the chain-neutral model of package chain, on top of btcsuite/btcd
// (wire, txscript, chaincfg, btcutil).
//
// Concepts:
//
//   - Params describes one network (mainnet, testnet3, testnet4, signet,
//     regtest): its magic bytes, genesis block, proof-of-work limit and
//     address encodings. Every function that encodes or decodes an address
//     takes Params explicitly.
//   - Classify sorts an output script into a chain.ScriptType and its Addr,
//     the binary identity under which the index files the output. A P2PK
//     output is filed under the P2PKH form of its key (hash160 of the key
//     exactly as it appears in the script, compressed or not). Bare multisig
//     and non-standard scripts get a script address "s-" followed by the hex
//     SHA-256 of the script, so they are searchable and have a history like
//     any other address. OP_RETURN outputs have no address.
//   - DecodeBlock parses a serialized block, computes every txid from the
//     raw bytes, checks the merkle root and classifies every output.
//
// Errors: malformed blocks, transactions and addresses are reported wrapped
// in chain.ErrInvalid with a "btc:" prefix and what was wrong.
package btc
