package ingest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/blockfile"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func mainnetDir(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
	if err != nil {
		t.Fatalf("locate btcd module: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "blockchain", "testdata", "blk_0_to_14131.dat"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blk00000.dat"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestImportResumesAfterCancel interrupts an import half way, imports
// again, and checks the result against an uninterrupted import.
func TestImportResumesAfterCancel(t *testing.T) {
	dir := mainnetDir(t)
	p := mustParams(t, chain.Mainnet)
	open := func(max int64) *blockfile.Reader {
		r, err := blockfile.Open(context.Background(), dir, blockfile.Options{MaxHeight: max})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })
		return r
	}

	ix := openIndex(t, p)
	ctx, cancel := context.WithCancel(context.Background())
	opt := Options{Writer: smallBatches(), ProgressEvery: 1, Progress: func(pr Progress) {
		if pr.Height >= 6000 {
			cancel()
		}
	}}
	st, err := Import(ctx, ix, open(-1), opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("interrupted import: %v", err)
	}
	if st.Tip.Height < 6000 || st.Tip.Height >= 14131 {
		t.Fatalf("interrupted at %d", st.Tip.Height)
	}
	st, err = Import(context.Background(), ix, open(-1), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.From != st.Tip.Height-st.Blocks+1 || st.Tip.Height != 14131 || st.Tip.Txs != 14247 {
		t.Fatalf("resumed import: %+v", st)
	}
	rep, err := ix.Verify(context.Background(), nil)
	if err != nil || !rep.OK() {
		t.Fatalf("verify: %v %+v", err, rep)
	}

	// A second run has nothing to do; --to below the tip changes nothing.
	st, err = Import(context.Background(), ix, open(-1), Options{})
	if err != nil || st.Blocks != 0 || st.RolledBack != 0 {
		t.Fatalf("idempotent import: %+v %v", st, err)
	}
	st, err = Import(context.Background(), ix, open(100), Options{})
	if err != nil || st.Blocks != 0 || st.RolledBack != 0 || ix.Tip().Height != 14131 {
		t.Fatalf("import --to 100 over a longer index: %+v %v", st, err)
	}
}

func TestImportRefusesAnotherNetwork(t *testing.T) {
	r, err := blockfile.Open(context.Background(), mainnetDir(t), blockfile.Options{MaxHeight: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ix := openIndex(t, regtest(t))
	if _, err := Import(context.Background(), ix, r, Options{}); err == nil || !strings.Contains(err.Error(), "mainnet") {
		t.Fatalf("mainnet files into a regtest index: %v", err)
	}
	if ix.Tip().Height != -1 {
		t.Fatal("index changed")
	}
}
