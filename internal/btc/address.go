package btc

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/btcsuite/btcd/btcutil/base58"
	"github.com/btcsuite/btcd/btcutil/bech32"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// ScriptAddrPrefix starts the textual form of a script address (bare
// multisig, non-standard): "s-" and 64 hex digits of the script's SHA-256.
const ScriptAddrPrefix = "s-"

// EncodeAddr returns the textual address of a on network p, or "" for
// KindNone.
func (p *Params) EncodeAddr(a Addr) string {
	b := a.Bytes()
	switch a.Kind {
	case KindPubKeyHash:
		return base58.CheckEncode(b, p.Net.PubKeyHashAddrID)
	case KindScriptHash:
		return base58.CheckEncode(b, p.Net.ScriptHashAddrID)
	case KindWitnessV0Key, KindWitnessV0Sc:
		return p.segwit(0, b)
	case KindTaproot:
		return p.segwit(1, b)
	case KindWitnessUnknown:
		return p.segwit(b[0], b[1:])
	case KindScript:
		return ScriptAddrPrefix + hex.EncodeToString(b)
	}
	return ""
}

func (p *Params) segwit(version byte, program []byte) string {
	conv, err := bech32.ConvertBits(program, 8, 5, true)
	if err != nil {
		return "" // unreachable: 8→5 bit regrouping with padding cannot fail
	}
	data := append([]byte{version}, conv...)
	var s string
	if version == 0 {
		s, err = bech32.Encode(p.Net.Bech32HRPSegwit, data)
	} else {
		s, err = bech32.EncodeM(p.Net.Bech32HRPSegwit, data)
	}
	if err != nil {
		return ""
	}
	return s
}

// DecodeAddr parses a textual address of network p. It accepts base58
// P2PKH/P2SH, bech32/bech32m segwit addresses of any witness version, and
// script addresses ("s-" + 64 hex digits). Anything else, including an
// address of another network, is rejected with chain.ErrInvalid.
func (p *Params) DecodeAddr(s string) (Addr, error) {
	bad := func(why string) (Addr, error) {
		return Addr{}, fmt.Errorf("btc: %w: %q is not a %s address: %s", chain.ErrInvalid, s, p.Network, why)
	}
	if len(s) == 0 || len(s) > 100 {
		return bad("wrong length")
	}
	if strings.HasPrefix(s, ScriptAddrPrefix) {
		h, err := hex.DecodeString(s[len(ScriptAddrPrefix):])
		if err != nil || len(h) != 32 {
			return bad("a script address is s- and 64 hex digits")
		}
		a, _ := MakeAddr(KindScript, h)
		return a, nil
	}
	if i := strings.LastIndexByte(s, '1'); i > 0 && strings.EqualFold(s[:i], p.Net.Bech32HRPSegwit) {
		return p.decodeSegwit(s, bad)
	}
	payload, version, err := base58.CheckDecode(s)
	if err != nil {
		return bad("bad base58 checksum or characters")
	}
	if len(payload) != 20 {
		return bad("wrong payload length")
	}
	var a Addr
	switch version {
	case p.Net.PubKeyHashAddrID:
		a.set(KindPubKeyHash, payload)
	case p.Net.ScriptHashAddrID:
		a.set(KindScriptHash, payload)
	default:
		return bad("wrong version byte for this network")
	}
	return a, nil
}

func (p *Params) decodeSegwit(s string, bad func(string) (Addr, error)) (Addr, error) {
	hrp, data, enc, err := bech32.DecodeGeneric(s)
	if err != nil {
		var ce bech32.ErrInvalidChecksum
		if errors.As(err, &ce) {
			return bad("bad bech32 checksum")
		}
		return bad("bad bech32 encoding")
	}
	if hrp != p.Net.Bech32HRPSegwit || len(data) < 1 {
		return bad("wrong human-readable part")
	}
	version := data[0]
	program, err := bech32.ConvertBits(data[1:], 5, 8, false)
	if err != nil || version > 16 || len(program) < 2 || len(program) > 40 {
		return bad("bad witness program")
	}
	if (version == 0) != (enc == bech32.Version0) {
		return bad("wrong checksum variant (bech32 for v0, bech32m for v1+)")
	}
	var a Addr
	switch {
	case version == 0 && len(program) == 20:
		a.set(KindWitnessV0Key, program)
	case version == 0 && len(program) == 32:
		a.set(KindWitnessV0Sc, program)
	case version == 0:
		return bad("a v0 program is 20 or 32 bytes")
	case version == 1 && len(program) == 32:
		a.set(KindTaproot, program)
	default:
		a.Kind = KindWitnessUnknown
		a.Data[0] = version
		a.Len = uint8(1 + copy(a.Data[1:], program))
	}
	return a, nil
}

// NetworksOf returns every network on which s is a valid address, in the
// order of Networks. Testnet3, testnet4 and signet share their encodings,
// as do regtest's base58 forms, so several may match.
func NetworksOf(s string) []*Params {
	var out []*Params
	for _, p := range networks {
		if _, err := p.DecodeAddr(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}
