package btc

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"time"

	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Params describes one Bitcoin network.
type Params struct {
	Network chain.Network
	// Magic is the 4-byte network marker in front of every block record of
	// Bitcoin Core's blk*.dat files (and of every P2P message).
	Magic [4]byte
	// Net holds the address encodings, genesis block and proof-of-work limit.
	Net *chaincfg.Params
}

// Ledger returns the ledger these parameters describe.
func (p *Params) Ledger() chain.Ledger { return chain.Ledger{Chain: chain.Bitcoin, Network: p.Network} }

// GenesisHash returns the hash of the network's genesis block.
func (p *Params) GenesisHash() chainhash.Hash { return *p.Net.GenesisHash }

func magicOf(n wire.BitcoinNet) [4]byte {
	var m [4]byte
	binary.LittleEndian.PutUint32(m[:], uint32(n))
	return m
}

var (
	mainnet  = &Params{Network: chain.Mainnet, Magic: magicOf(chaincfg.MainNetParams.Net), Net: &chaincfg.MainNetParams}
	testnet3 = &Params{Network: chain.Testnet, Magic: magicOf(chaincfg.TestNet3Params.Net), Net: &chaincfg.TestNet3Params}
	signet   = &Params{Network: chain.Signet, Magic: magicOf(chaincfg.SigNetParams.Net), Net: &chaincfg.SigNetParams}
	regtest  = &Params{Network: chain.Regtest, Magic: magicOf(chaincfg.RegressionNetParams.Net), Net: &chaincfg.RegressionNetParams}
	testnet4 = newTestnet4()
)

// networks lists every supported network, mainnet first.
var networks = []*Params{mainnet, testnet3, testnet4, signet, regtest}

// Networks returns the parameters of every supported network.
func Networks() []*Params { return append([]*Params(nil), networks...) }

// ParamsFor returns the parameters of a network by name. "testnet3" is
// accepted for "testnet".
func ParamsFor(n chain.Network) (*Params, error) {
	if n == "testnet3" {
		n = chain.Testnet
	}
	for _, p := range networks {
		if p.Network == n {
			return p, nil
		}
	}
	return nil, fmt.Errorf("btc: %w: unknown network %q (want mainnet, testnet, testnet4, signet or regtest)", chain.ErrInvalid, n)
}

// ParamsByMagic returns the network whose block files start with magic.
func ParamsByMagic(magic [4]byte) (*Params, bool) {
	for _, p := range networks {
		if p.Magic == magic {
			return p, true
		}
	}
	return nil, false
}

// newTestnet4 builds the BIP94 testnet4 parameters, which btcd v0.24 does
// not ship: testnet3's address encodings with testnet4's magic and genesis.
func newTestnet4() *Params {
	const net = wire.BitcoinNet(0x283f161c) // bytes 1c 16 3f 28
	genesis := testnet4Genesis()
	hash := genesis.BlockHash()
	p := chaincfg.TestNet3Params
	p.Name = "testnet4"
	p.Net = net
	p.DefaultPort = "48333"
	p.DNSSeeds = nil
	p.Checkpoints = nil
	p.GenesisBlock = genesis
	p.GenesisHash = &hash
	p.PowLimit = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 224), big.NewInt(1))
	p.PowLimitBits = 0x1d00ffff
	return &Params{Network: chain.Testnet4, Magic: magicOf(net), Net: &p}
}

// testnet4Genesis is the genesis block of Bitcoin Core's CTestNet4Params.
func testnet4Genesis() *wire.MsgBlock {
	msg := []byte("03/May/2024 000000000000000000001ebd58c244970b3aa9d783bb001011fbe8ea8e98e00e")
	// CScript() << 486604799 << CScriptNum(4) << msg, pushed exactly as Core
	// does (a one-byte push of 4, not OP_4; OP_PUSHDATA1 for the 76 bytes).
	sig := []byte{0x04, 0xff, 0xff, 0x00, 0x1d, 0x01, 0x04, txscript.OP_PUSHDATA1, byte(len(msg))}
	sig = append(sig, msg...)
	pk := append([]byte{0x21}, make([]byte, 33)...)
	pk = append(pk, 0xac) // <33 zero bytes> OP_CHECKSIG
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(&wire.TxIn{PreviousOutPoint: wire.OutPoint{Index: 0xffffffff}, SignatureScript: sig, Sequence: 0xffffffff})
	tx.AddTxOut(&wire.TxOut{Value: 50 * 1e8, PkScript: pk})
	b := &wire.MsgBlock{Header: wire.BlockHeader{
		Version:    1,
		MerkleRoot: tx.TxHash(),
		Timestamp:  time.Unix(1714777860, 0),
		Bits:       0x1d00ffff,
		Nonce:      393743547,
	}}
	b.Transactions = []*wire.MsgTx{tx}
	return b
}
