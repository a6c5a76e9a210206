package btc

import (
	"crypto/sha256"

	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/txscript"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// AddrKind is the binary family of an Addr; it decides the encoding.
type AddrKind uint8

// Address kinds. The values are stored in the index: never renumber.
const (
	KindNone           AddrKind = 0 // no address (OP_RETURN)
	KindPubKeyHash     AddrKind = 1 // P2PKH and P2PK (hash160 of the key)
	KindScriptHash     AddrKind = 2 // P2SH
	KindWitnessV0Key   AddrKind = 3 // P2WPKH
	KindWitnessV0Sc    AddrKind = 4 // P2WSH
	KindTaproot        AddrKind = 5 // P2TR (witness v1, 32 bytes)
	KindWitnessUnknown AddrKind = 6 // other witness programs: version byte + program
	KindScript         AddrKind = 7 // bare multisig and non-standard: SHA-256 of the script
)

// MaxAddrData is the longest Addr payload: a witness version byte and a
// 40-byte program.
const MaxAddrData = 41

// Addr is the binary identity of an address. It is a comparable value, so
// it can key a map. The zero Addr (KindNone) means "no address".
type Addr struct {
	Kind AddrKind
	Len  uint8
	Data [MaxAddrData]byte
}

// Bytes returns the payload.
func (a *Addr) Bytes() []byte { return a.Data[:a.Len] }

// IsNone reports whether a is the zero "no address".
func (a *Addr) IsNone() bool { return a.Kind == KindNone }

func (a *Addr) set(k AddrKind, b []byte) {
	a.Kind = k
	a.Len = uint8(copy(a.Data[:], b))
}

// MakeAddr builds an Addr from a kind and payload, checking the payload
// length for the kind.
func MakeAddr(k AddrKind, payload []byte) (Addr, bool) {
	var a Addr
	switch k {
	case KindPubKeyHash, KindScriptHash, KindWitnessV0Key:
		if len(payload) != 20 {
			return a, false
		}
	case KindWitnessV0Sc, KindTaproot, KindScript:
		if len(payload) != 32 {
			return a, false
		}
	case KindWitnessUnknown:
		if len(payload) < 3 || len(payload) > MaxAddrData || payload[0] < 1 || payload[0] > 16 {
			return a, false
		}
	default:
		return a, false
	}
	a.set(k, payload)
	return a, true
}

// Classify returns the script type of an output script and the address it
// is filed under. Any script starting with OP_RETURN is op_return (it can
// never be spent) and has no address.
func Classify(pkScript []byte) (chain.ScriptType, Addr) {
	var a Addr
	n := len(pkScript)
	// Fast paths for the templates that make up nearly all outputs.
	switch {
	case n == 22 && pkScript[0] == txscript.OP_0 && pkScript[1] == txscript.OP_DATA_20:
		a.set(KindWitnessV0Key, pkScript[2:22])
		return chain.P2WPKH, a
	case n == 25 && pkScript[0] == txscript.OP_DUP && pkScript[1] == txscript.OP_HASH160 &&
		pkScript[2] == txscript.OP_DATA_20 && pkScript[23] == txscript.OP_EQUALVERIFY && pkScript[24] == txscript.OP_CHECKSIG:
		a.set(KindPubKeyHash, pkScript[3:23])
		return chain.P2PKH, a
	case n == 34 && pkScript[0] == txscript.OP_1 && pkScript[1] == txscript.OP_DATA_32:
		a.set(KindTaproot, pkScript[2:34])
		return chain.P2TR, a
	case n == 23 && pkScript[0] == txscript.OP_HASH160 && pkScript[1] == txscript.OP_DATA_20 && pkScript[22] == txscript.OP_EQUAL:
		a.set(KindScriptHash, pkScript[2:22])
		return chain.P2SH, a
	case n == 34 && pkScript[0] == txscript.OP_0 && pkScript[1] == txscript.OP_DATA_32:
		a.set(KindWitnessV0Sc, pkScript[2:34])
		return chain.P2WSH, a
	case n > 0 && pkScript[0] == txscript.OP_RETURN:
		return chain.OpReturn, a
	}
	switch txscript.GetScriptClass(pkScript) {
	case txscript.PubKeyTy:
		// OP_DATA_33|OP_DATA_65 <key> OP_CHECKSIG
		a.set(KindPubKeyHash, btcutil.Hash160(pkScript[1:n-1]))
		return chain.P2PK, a
	case txscript.MultiSigTy:
		h := sha256.Sum256(pkScript)
		a.set(KindScript, h[:])
		return chain.BareMultisig, a
	}
	if version, program, err := txscript.ExtractWitnessProgramInfo(pkScript); err == nil && version != 0 {
		// A future witness version (or v1 of another length, such as the
		// pay-to-anchor output): its bech32m address. A v0 program of
		// another length than 20 or 32 has no address and can never be
		// spent; it is filed as non-standard below.
		a.Kind = KindWitnessUnknown
		a.Data[0] = byte(version)
		a.Len = uint8(1 + copy(a.Data[1:], program))
		return chain.WitnessUnknown, a
	}
	h := sha256.Sum256(pkScript)
	a.set(KindScript, h[:])
	return chain.NonStandard, a
}

// MultisigKeys returns the required signature count and the P2PKH forms
// (as Addrs) of the keys of a bare multisig script.
func MultisigKeys(pkScript []byte) (int, []Addr, bool) {
	if txscript.GetScriptClass(pkScript) != txscript.MultiSigTy {
		return 0, nil, false
	}
	pushes, err := txscript.PushedData(pkScript)
	if err != nil {
		return 0, nil, false
	}
	required := int(pkScript[0] - (txscript.OP_1 - 1))
	keys := make([]Addr, 0, len(pushes))
	for _, k := range pushes {
		var a Addr
		a.set(KindPubKeyHash, btcutil.Hash160(k))
		keys = append(keys, a)
	}
	return required, keys, true
}
