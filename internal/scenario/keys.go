package scenario

import (
	"crypto/sha256"
	"encoding/binary"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// scriptType is how a generated output is locked. The first four are
// spendable by the generator's own signer; the others are paid to by
// wallets but never spent (they belong to the "external" entity).
type scriptType uint8

const (
	stP2PKH  scriptType = iota // pay to pubkey hash, compressed key
	stP2WPKH                   // native segwit v0 key hash
	stP2TR                     // taproot key path, BIP86 tweak
	stP2PK                     // pay to an uncompressed pubkey (2009-style coinbase)
	stP2SH                     // P2SH of a 2-of-3 multisig redeem script
	stP2WSH                    // P2WSH of a 2-of-3 multisig witness script
	stBareMS                   // bare 1-of-2 multisig
)

// spendable reports whether the generator can sign for outputs of t.
func (t scriptType) spendable() bool { return t <= stP2PK }

func (t scriptType) chainType() chain.ScriptType {
	switch t {
	case stP2PKH:
		return chain.P2PKH
	case stP2WPKH:
		return chain.P2WPKH
	case stP2TR:
		return chain.P2TR
	case stP2PK:
		return chain.P2PK
	case stP2SH:
		return chain.P2SH
	case stP2WSH:
		return chain.P2WSH
	case stBareMS:
		return chain.BareMultisig
	}
	return chain.NonStandard
}

// addrRole says which list of its owner an output to the address joins.
type addrRole uint8

const (
	roleNormal  addrRole = iota
	roleDeposit          // an exchange deposit address: the output waits for a sweep
)

// addrInfo is one generated address: who owns it, its key and its output
// script. The serial planning phase creates it with owner, index and type;
// derive fills key, pub, script and str in the parallel phase. After that
// barrier it is read-only.
type addrInfo struct {
	wallet int32
	index  uint32
	typ    scriptType
	role   addrRole
	// customer is the wallet a deposit address was assigned to (-1 if none).
	customer int32
	key      btcec.PrivateKey // signing key; BIP86-tweaked for P2TR
	pub      []byte           // the key as pushed when spending (P2PKH, P2WPKH, P2PK)
	script   []byte           // output script
	str      string           // textual address (regtest)
}

// keyScalar derives private key number sub of address (wallet, index)
// from the seed: SHA-256("vestigo/scenario/key" || seed || wallet || index
// || sub), rehashed in the (astronomically unlikely) case that it is zero
// or not below the group order.
func keyScalar(seed uint64, wallet int32, index uint32, sub uint8) btcec.PrivateKey {
	var buf [21 + 8 + 4 + 4 + 1]byte
	copy(buf[:], "vestigo/scenario/key/")
	binary.LittleEndian.PutUint64(buf[21:], seed)
	binary.LittleEndian.PutUint32(buf[29:], uint32(wallet))
	binary.LittleEndian.PutUint32(buf[33:], index)
	buf[37] = sub
	h := sha256.Sum256(buf[:])
	var k btcec.PrivateKey
	for {
		overflow := k.Key.SetBytes(&h)
		if overflow == 0 && !k.Key.IsZero() {
			return k
		}
		h = sha256.Sum256(h[:])
	}
}

// derive computes the key, script and (withStr) textual form of a. It is safe to call
// concurrently for different addresses.
func (a *addrInfo) derive(seed uint64, p *btc.Params, withStr bool) {
	switch a.typ {
	case stP2PKH, stP2WPKH, stP2PK:
		a.key = keyScalar(seed, a.wallet, a.index, 0)
		pk := a.key.PubKey()
		if a.typ == stP2PK {
			a.pub = pk.SerializeUncompressed()
			a.script = make([]byte, 0, 67)
			a.script = append(a.script, txscript.OP_DATA_65)
			a.script = append(a.script, a.pub...)
			a.script = append(a.script, txscript.OP_CHECKSIG)
			break
		}
		a.pub = pk.SerializeCompressed()
		h := btcutil.Hash160(a.pub)
		if a.typ == stP2PKH {
			a.script = make([]byte, 0, 25)
			a.script = append(a.script, txscript.OP_DUP, txscript.OP_HASH160, txscript.OP_DATA_20)
			a.script = append(a.script, h...)
			a.script = append(a.script, txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG)
		} else {
			a.script = make([]byte, 0, 22)
			a.script = append(a.script, txscript.OP_0, txscript.OP_DATA_20)
			a.script = append(a.script, h...)
		}
	case stP2TR:
		internal := keyScalar(seed, a.wallet, a.index, 0)
		pk := internal.PubKey()
		// BIP86: the output key commits to the internal key only.
		out := txscript.ComputeTaprootKeyNoScript(pk)
		// The signing key is the matching tweak of the private key:
		// d' = (d or -d, whichever has an even-Y point) + H_TapTweak(P.x).
		// This is txscript.TweakTaprootPrivKey without recomputing P.
		pkBytes := pk.SerializeCompressed()
		d := internal.Key
		if pkBytes[0] == 0x03 {
			d.Negate()
		}
		tweak := chainhash.TaggedHash(chainhash.TagTapTweak, pkBytes[1:])
		var t btcec.ModNScalar
		t.SetBytes((*[32]byte)(tweak))
		d.Add(&t)
		a.key = btcec.PrivateKey{Key: d}
		x := out.SerializeCompressed()[1:]
		a.script = make([]byte, 0, 34)
		a.script = append(a.script, txscript.OP_1, txscript.OP_DATA_32)
		a.script = append(a.script, x...)
	case stP2SH, stP2WSH:
		ms := a.multisig(seed, 2, 3)
		if a.typ == stP2SH {
			h := btcutil.Hash160(ms)
			a.script = make([]byte, 0, 23)
			a.script = append(a.script, txscript.OP_HASH160, txscript.OP_DATA_20)
			a.script = append(a.script, h...)
			a.script = append(a.script, txscript.OP_EQUAL)
		} else {
			h := sha256.Sum256(ms)
			a.script = make([]byte, 0, 34)
			a.script = append(a.script, txscript.OP_0, txscript.OP_DATA_32)
			a.script = append(a.script, h[:]...)
		}
	case stBareMS:
		a.script = a.multisig(seed, 1, 2)
	}
	if withStr {
		_, addr := btc.Classify(a.script)
		a.str = p.EncodeAddr(addr)
	}
}

// multisig builds OP_m <key1> ... <keyn> OP_n OP_CHECKMULTISIG from keys
// 1..n of the address.
func (a *addrInfo) multisig(seed uint64, m, n int) []byte {
	s := make([]byte, 0, 3+34*n)
	s = append(s, byte(txscript.OP_1-1+m))
	for i := 1; i <= n; i++ {
		k := keyScalar(seed, a.wallet, a.index, uint8(i))
		s = append(s, txscript.OP_DATA_33)
		s = append(s, k.PubKey().SerializeCompressed()...)
	}
	return append(s, byte(txscript.OP_1-1+n), txscript.OP_CHECKMULTISIG)
}

// Sizes in bytes, used to estimate a transaction's weight before it is
// signed. Signature sizes are the maximum a low-S DER signature can take
// (71 bytes + sighash type), so the estimate never falls short.
const (
	outHeader       = 8 + 1 // value + script length
	inBaseNoScript  = 32 + 4 + 1 + 4
	p2pkhScriptSig  = 1 + 72 + 1 + 33
	p2pkScriptSig   = 1 + 72
	p2wpkhWitness   = 1 + 1 + 72 + 1 + 33
	p2trWitness     = 1 + 1 + 64
	emptyWitness    = 1
	segwitMarkerLen = 2
)

// scriptLen is the output script length of each type.
func (t scriptType) scriptLen() int {
	switch t {
	case stP2PKH:
		return 25
	case stP2WPKH:
		return 22
	case stP2TR, stP2WSH:
		return 34
	case stP2PK:
		return 67
	case stP2SH:
		return 23
	case stBareMS:
		return 71
	}
	return 0
}

// inSize returns the non-witness and witness bytes of an input spending t.
func (t scriptType) inSize() (base, wit int) {
	switch t {
	case stP2PKH:
		return inBaseNoScript + p2pkhScriptSig, emptyWitness
	case stP2PK:
		return inBaseNoScript + p2pkScriptSig, emptyWitness
	case stP2WPKH:
		return inBaseNoScript, p2wpkhWitness
	case stP2TR:
		return inBaseNoScript, p2trWitness
	}
	return inBaseNoScript, emptyWitness
}

// outSigOps is the legacy sigop count of an output script of type t.
func (t scriptType) outSigOps() int {
	switch t {
	case stP2PKH, stP2PK:
		return 1
	case stBareMS:
		return 20 // CHECKMULTISIG counted without its key count, as consensus does
	}
	return 0
}

// deriveChunk derives a chunk of addresses like derive, computing the
// public keys of single-key addresses with one shared field inversion per
// stage (Montgomery's batch inversion) instead of one per key: the
// inversion that turns a point into affine coordinates costs about as much
// as the rest of a base-point multiplication. The tests check the result
// against derive and txscript.ComputeTaprootKeyNoScript.
func deriveChunk(addrs []*addrInfo, seed uint64, p *btc.Params, withStr bool) {
	n := 0
	for _, a := range addrs {
		if a.typ <= stP2PK {
			n++
		}
	}
	single := make([]*addrInfo, 0, n)
	pts := make([]btcec.JacobianPoint, 0, n)
	for _, a := range addrs {
		if a.typ > stP2PK {
			a.derive(seed, p, withStr)
			continue
		}
		a.key = keyScalar(seed, a.wallet, a.index, 0)
		pts = append(pts, btcec.JacobianPoint{})
		btcec.ScalarBaseMultNonConst(&a.key.Key, &pts[len(pts)-1])
		single = append(single, a)
	}
	batchToAffine(pts)
	var tr []*addrInfo
	var qs []btcec.JacobianPoint
	for i, a := range single {
		pt := &pts[i]
		pk := btcec.NewPublicKey(&pt.X, &pt.Y)
		switch a.typ {
		case stP2PK:
			a.pub = pk.SerializeUncompressed()
			a.script = make([]byte, 0, 67)
			a.script = append(a.script, txscript.OP_DATA_65)
			a.script = append(a.script, a.pub...)
			a.script = append(a.script, txscript.OP_CHECKSIG)
		case stP2PKH, stP2WPKH:
			a.pub = pk.SerializeCompressed()
			h := btcutil.Hash160(a.pub)
			if a.typ == stP2PKH {
				a.script = make([]byte, 0, 25)
				a.script = append(a.script, txscript.OP_DUP, txscript.OP_HASH160, txscript.OP_DATA_20)
				a.script = append(a.script, h...)
				a.script = append(a.script, txscript.OP_EQUALVERIFY, txscript.OP_CHECKSIG)
			} else {
				a.script = make([]byte, 0, 22)
				a.script = append(a.script, txscript.OP_0, txscript.OP_DATA_20)
				a.script = append(a.script, h...)
			}
		case stP2TR:
			// BIP341/86: Q = P' + H_TapTweak(x(P))·G, where P' is P or -P,
			// whichever has an even Y; the signing key is d' = ±d + t.
			x := pt.X.Bytes()
			tweak := chainhash.TaggedHash(chainhash.TagTapTweak, x[:])
			var t btcec.ModNScalar
			t.SetBytes((*[32]byte)(tweak))
			if pt.Y.IsOdd() {
				a.key.Key.Negate()
				pt.Y.Negate(1).Normalize()
			}
			a.key.Key.Add(&t)
			var tg, q btcec.JacobianPoint
			btcec.ScalarBaseMultNonConst(&t, &tg)
			pt.Z.SetInt(1)
			btcec.AddNonConst(pt, &tg, &q)
			tr = append(tr, a)
			qs = append(qs, q)
		}
		if withStr && a.typ != stP2TR {
			_, addr := btc.Classify(a.script)
			a.str = p.EncodeAddr(addr)
		}
	}
	batchToAffine(qs)
	for i, a := range tr {
		x := qs[i].X.Bytes()
		a.script = make([]byte, 0, 34)
		a.script = append(a.script, txscript.OP_1, txscript.OP_DATA_32)
		a.script = append(a.script, x[:]...)
		if withStr {
			_, addr := btc.Classify(a.script)
			a.str = p.EncodeAddr(addr)
		}
	}
}

// batchToAffine converts points (none at infinity) to affine coordinates
// with a single field inversion.
func batchToAffine(pts []btcec.JacobianPoint) {
	if len(pts) == 0 {
		return
	}
	acc := make([]btcec.FieldVal, len(pts))
	acc[0].Set(&pts[0].Z)
	for i := 1; i < len(pts); i++ {
		acc[i].Mul2(&acc[i-1], &pts[i].Z)
	}
	var inv btcec.FieldVal
	inv.Set(&acc[len(pts)-1]).Inverse()
	for i := len(pts) - 1; i >= 0; i-- {
		var zInv btcec.FieldVal
		if i > 0 {
			zInv.Mul2(&inv, &acc[i-1])
			inv.Mul(&pts[i].Z)
		} else {
			zInv.Set(&inv)
		}
		var z2 btcec.FieldVal
		z2.SquareVal(&zInv)
		pts[i].X.Mul(&z2)
		pts[i].Y.Mul(z2.Mul(&zInv))
		pts[i].Z.SetInt(1)
		pts[i].X.Normalize()
		pts[i].Y.Normalize()
	}
}
