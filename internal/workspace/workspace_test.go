package workspace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// fill adds the first n mainnet blocks (btcd's testdata) or, for regtest,
// the genesis block to the ledger's index.
func fill(t *testing.T, ws *Workspace, l chain.Ledger, n int) {
	t.Helper()
	ix, err := ws.Index(l, true)
	if err != nil {
		t.Fatal(err)
	}
	w, err := ix.NewWriter(index.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var raws [][]byte
	if l.Network == chain.Regtest {
		p, _ := btc.ParamsFor(chain.Regtest)
		var b bytes.Buffer
		p.Net.GenesisBlock.Serialize(&b)
		raws = [][]byte{b.Bytes()}
	} else {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "blockchain", "testdata", "blk_0_to_14131.dat"))
		if err != nil {
			t.Fatal(err)
		}
		for len(raws) < n {
			size := binary.LittleEndian.Uint32(data[4:8])
			raws = append(raws, data[8:8+size])
			data = data[8+size:]
		}
	}
	for _, r := range raws {
		b, err := btc.DecodeBlock(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Add(b); err != nil {
			t.Fatal(err)
		}
	}
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	ws, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, _, err := ws.Tx(strings.Repeat("ab", 32), Selector{}); !errors.Is(err, ErrNoData) {
		t.Fatalf("empty data directory: %v", err)
	}
	mainnet := chain.Ledger{Chain: chain.Bitcoin, Network: chain.Mainnet}
	regtest := chain.Ledger{Chain: chain.Bitcoin, Network: chain.Regtest}
	fill(t, ws, mainnet, 200)
	fill(t, ws, regtest, 1)
	if ls, _ := ws.Ledgers(); len(ls) != 2 {
		t.Fatalf("ledgers %v", ls)
	}

	ix, _, err := ws.Address("12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", Selector{})
	if err != nil || ix.Ledger() != mainnet {
		t.Fatalf("mainnet address: %v", err)
	}
	if _, _, err := ws.Address("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", Selector{}); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("a regtest-valid address never seen: %v", err)
	}
	if _, _, err := ws.Address("12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", Selector{Network: chain.Regtest}); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("a mainnet address with --network regtest: %v", err)
	}
	if _, _, err := ws.Address("not-an-address", Selector{}); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("garbage address: %v", err)
	}
	if _, _, err := ws.Address("12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S", Selector{Chain: "eth"}); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("--chain eth: %v", err)
	}

	// Mainnet's and regtest's genesis blocks share their coinbase: the txid
	// is on both networks.
	genesisCoinbase := "4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b"
	if _, _, err := ws.Tx(genesisCoinbase, Selector{}); !errors.Is(err, ErrAmbiguous) {
		t.Fatalf("genesis coinbase on two networks: %v", err)
	}
	if ix, _, err := ws.Tx(genesisCoinbase, Selector{Network: chain.Regtest}); err != nil || ix.Ledger() != regtest {
		t.Fatalf("genesis coinbase --network regtest: %v", err)
	}
	ix, _, err = ws.Tx("f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16", Selector{})
	if err != nil || ix.Ledger() != mainnet {
		t.Fatalf("tx 170: %v", err)
	}
	if _, _, err := ws.Tx(strings.Repeat("ab", 32), Selector{}); !errors.Is(err, chain.ErrNotFound) {
		t.Fatalf("unknown txid: %v", err)
	}
	if _, _, err := ws.Tx("xyz", Selector{}); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("bad txid: %v", err)
	}

	// Height 0 exists on both networks: ambiguous unless chosen.
	if _, _, err := ws.Block("0", Selector{}); !errors.Is(err, ErrAmbiguous) || !strings.Contains(err.Error(), "--network") {
		t.Fatalf("block 0 on two networks: %v", err)
	}
	if ix, h, err := ws.Block("0", Selector{Network: chain.Regtest}); err != nil || h != 0 || ix.Ledger() != regtest {
		t.Fatalf("block 0 --network regtest: %v", err)
	}
	if ix, h, err := ws.Block("150", Selector{}); err != nil || h != 150 || ix.Ledger() != mainnet {
		t.Fatalf("block 150 (mainnet only): %v", err)
	}
	if _, h, err := ws.Block("000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f", Selector{}); err != nil || h != 0 {
		t.Fatalf("block by hash: %v", err)
	}
	for _, bad := range []string{"-1", "1.5", "abc"} {
		if _, _, err := ws.Block(bad, Selector{}); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("block %q: %v", bad, err)
		}
	}
}

func TestReadOnlyDoesNotCreate(t *testing.T) {
	ws, err := Open(t.TempDir(), Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if _, err := ws.Index(chain.Ledger{Chain: chain.Bitcoin, Network: chain.Regtest}, true); err == nil {
		t.Fatal("a read-only workspace created an index")
	}
	if _, err := ws.Index(chain.Ledger{Chain: chain.Bitcoin, Network: chain.Regtest}, false); !errors.Is(err, ErrNoData) {
		t.Fatalf("missing index: %v", err)
	}
}
