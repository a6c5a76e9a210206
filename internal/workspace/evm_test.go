package workspace

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// TestEVMChains: several EVM chains in one data directory; an address on
// two of them is ambiguous until a chain id is chosen.
func TestEVMChains(t *testing.T) {
	dir := t.TempDir()
	shared := eth.Address{0xaa, 19: 1}
	other := eth.Address{0xbb, 19: 2}
	for i, id := range []uint64{137, 1} {
		ix, err := evmindex.Open(evmindex.Dir(filepath.Join(dir, "index"), id), evmindex.Options{ChainID: id})
		if err != nil {
			t.Fatal(err)
		}
		to := other
		b := &evmindex.BlockData{Number: 7, Hash: eth.Hash{byte(i + 1)}, Traced: true, Txs: []evmindex.TxData{{Hash: eth.Hash{0x70, byte(i)},
			From: shared, To: &to, Status: eth.StatusSuccess, Value: chain.Sats(5), Fee: chain.Sats(1)}},
			Openings: []evmindex.Opening{{Address: shared, Amount: chain.Sats(100)}}}
		if err := ix.Apply(b); err != nil {
			t.Fatal(err)
		}
		ix.Close()
	}
	ws, err := Open(dir, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if ids, err := ws.EVMChains(); err != nil || len(ids) != 2 || ids[0] != 1 || ids[1] != 137 {
		t.Fatalf("%v %v", ids, err)
	}
	if _, _, _, err := ws.EVMAddress(shared.String(), Selector{}); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("an address on two chains: %v", err)
	}
	ix, id, a, err := ws.EVMAddress(shared.String(), Selector{ChainID: 137})
	if err != nil || ix.Meta().ChainID != 137 || id != 1 || a != shared {
		t.Fatalf("%v %d %v", ix, id, err)
	}
	if _, _, _, err := ws.EVMAddress("0x00000000000000000000000000000000000000ff", Selector{}); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if _, _, _, err := ws.EVMAddress(shared.String(), Selector{ChainID: 5}); !errors.Is(err, ErrNoData) {
		t.Fatalf("a chain without index: %v", err)
	}
	if _, err := ws.EVMOnly(Selector{}); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("two chains, none chosen: %v", err)
	}
	// Items: resolved in one chain, refused without a chain id when in none.
	it, err := ws.ResolveItem(ItemRequest{Kind: casestore.ItemAddress, Ref: strings.ToLower(shared.String()), Network: "1", Via: "test"})
	if err != nil || it.Chain != "eth" || it.Network != "1" || it.Ref != shared.String() || it.Provenance.BlockHash == "" {
		t.Fatalf("%+v %v", it, err)
	}
	if _, err := ws.ResolveItem(ItemRequest{Kind: casestore.ItemAddress, Ref: "0x00000000000000000000000000000000000000ff"}); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("an item on no chain, without a chain id: %v", err)
	}
	for in, want := range map[string]bool{shared.String(): true, "0X" + shared.String()[2:]: true, "0x12": false, shared.String() + "0": false,
		"0x" + "ab" + "cd": false, "1BoatSLRHtKNngkdXEeobR76b53LETtpyT": false} {
		if IsEVMInput(in) != want {
			t.Errorf("IsEVMInput(%q) != %v", in, want)
		}
	}
}
