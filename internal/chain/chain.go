package chain

import (
	"errors"
	"fmt"
)

// ErrNotFound reports that the requested block, transaction or address is
// not in the index.
var ErrNotFound = errors.New("not found")

// ErrInvalid reports malformed input, rejected before it reaches a store.
var ErrInvalid = errors.New("invalid input")

// Chain identifies a blockchain by its short ticker-like name.
type Chain string

// Known chains.
const (
	Bitcoin  Chain = "btc"
	Ethereum Chain = "eth"
)

// Network identifies one network of a chain.
type Network string

// Bitcoin networks. "testnet" is testnet3.
const (
	Mainnet  Network = "mainnet"
	Testnet  Network = "testnet"
	Testnet4 Network = "testnet4"
	Signet   Network = "signet"
	Regtest  Network = "regtest"
)

// Ledger names one chain on one network: the unit an index holds.
type Ledger struct {
	Chain   Chain   `json:"chain"`
	Network Network `json:"network"`
}

// String returns "chain-network", the form used for directory names.
func (l Ledger) String() string { return string(l.Chain) + "-" + string(l.Network) }

// ParseLedger parses the "chain-network" form written by String.
func ParseLedger(s string) (Ledger, error) {
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			l := Ledger{Chain: Chain(s[:i]), Network: Network(s[i+1:])}
			if l.Chain == "" || l.Network == "" {
				break
			}
			return l, nil
		}
	}
	return Ledger{}, fmt.Errorf("chain: %w: ledger %q is not of the form chain-network", ErrInvalid, s)
}

// ScriptType classifies how an output's value is locked.
type ScriptType string

// Script types. P2PK outputs are addressed by their P2PKH form; bare
// multisig and non-standard scripts by a script address (see package btc).
const (
	P2PK           ScriptType = "p2pk"
	P2PKH          ScriptType = "p2pkh"
	P2SH           ScriptType = "p2sh"
	P2WPKH         ScriptType = "p2wpkh"
	P2WSH          ScriptType = "p2wsh"
	P2TR           ScriptType = "p2tr"
	WitnessUnknown ScriptType = "witness_unknown"
	BareMultisig   ScriptType = "multisig"
	OpReturn       ScriptType = "op_return"
	NonStandard    ScriptType = "nonstandard"
)
