package btc

import (
	"encoding/hex"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func TestTestnet4Genesis(t *testing.T) {
	p, err := ParamsFor(chain.Testnet4)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := p.GenesisHash().String(), "00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043"; got != want {
		t.Fatalf("testnet4 genesis %s, want %s", got, want)
	}
	if got := p.Net.GenesisBlock.Header.MerkleRoot.String(); got != "7aa0a7ae1e223414cb807e40cd57e667b718e42aaf9306db9102fe28912b7b4e" {
		t.Fatalf("merkle root %s", got)
	}
	if p.Magic != [4]byte{0x1c, 0x16, 0x3f, 0x28} {
		t.Fatalf("magic % x", p.Magic)
	}
}

func TestMagicBytes(t *testing.T) {
	want := map[chain.Network][4]byte{
		chain.Mainnet: {0xf9, 0xbe, 0xb4, 0xd9},
		chain.Testnet: {0x0b, 0x11, 0x09, 0x07},
		chain.Signet:  {0x0a, 0x03, 0xcf, 0x40},
		chain.Regtest: {0xfa, 0xbf, 0xb5, 0xda},
	}
	for n, m := range want {
		p, err := ParamsFor(n)
		if err != nil {
			t.Fatal(err)
		}
		if p.Magic != m {
			t.Errorf("%s magic % x, want % x", n, p.Magic, m)
		}
		if q, ok := ParamsByMagic(m); !ok || q != p {
			t.Errorf("%s not found by magic", n)
		}
	}
	if _, err := ParamsFor("simnet"); err == nil {
		t.Error("unknown network accepted")
	}
}

func hexDecode(s string) ([]byte, error) { return hex.DecodeString(s) }

func TestBlockHeight(t *testing.T) {
	cases := []struct {
		script string
		height int64
		ok     bool
	}{{"00", 0, true}, {"51", 1, true}, {"60", 16, true}, {"0111", 17, true}, {"03ab7c08", 556203, true}, {"", 0, false}, {"09ffffffffffffffffff", 0, false}}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.script)
		if h, ok := BlockHeight(b); h != c.height || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.script, h, ok, c.height, c.ok)
		}
	}
}
