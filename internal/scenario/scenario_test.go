package scenario

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/btcsuite/btcd/btcec/v2"
	"github.com/btcsuite/btcd/btcec/v2/schnorr"
	"github.com/btcsuite/btcd/txscript"

	"github.com/vestigo-forensics/vestigo/internal/blockfile"
	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// dirContents maps every file name of dir to its bytes.
func dirContents(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}

func sameContents(a, b map[string][]byte) (string, bool) {
	if len(a) != len(b) {
		return "file count", false
	}
	for name, x := range a {
		if y, ok := b[name]; !ok || !bytes.Equal(x, y) {
			return name, false
		}
	}
	return "", true
}

func TestDeterministic(t *testing.T) {
	cfg := Config{Seed: 42, Scenario: Ransomware, Txs: 1500}
	gen := func(procs int, c Config) map[string][]byte {
		old := runtime.GOMAXPROCS(procs)
		defer runtime.GOMAXPROCS(old)
		dir, _ := generateForTest(t, c)
		return dirContents(t, dir)
	}
	a := gen(2, cfg)
	for _, want := range []string{"blk00000.dat", TruthFile, ManifestFile} {
		if _, ok := a[want]; !ok {
			t.Fatalf("no %s in the output: %v", want, slices.Collect(func(yield func(string) bool) {
				for k := range a {
					if !yield(k) {
						return
					}
				}
			}))
		}
	}
	if name, ok := sameContents(a, gen(2, cfg)); !ok {
		t.Fatalf("two runs with the same seed differ in %s", name)
	}
	if name, ok := sameContents(a, gen(1, cfg)); !ok {
		t.Fatalf("GOMAXPROCS 1 and 2 differ in %s", name)
	}
	other := cfg
	other.Seed = 43
	b := gen(2, other)
	if bytes.Equal(a["blk00000.dat"], b["blk00000.dat"]) || bytes.Equal(a[TruthFile], b[TruthFile]) {
		t.Fatal("different seeds give the same chain")
	}
	// The baseline's block files do not depend on whether the truth is
	// written.
	base := Config{Seed: 42, Txs: 800}
	withTruth := base
	withTruth.Truth = true
	x, y := gen(2, base), gen(2, withTruth)
	if !bytes.Equal(x["blk00000.dat"], y["blk00000.dat"]) {
		t.Fatal("writing the ground truth changes the chain")
	}
	if _, ok := x[TruthFile]; ok {
		t.Fatal("baseline wrote a ground truth without Config.Truth")
	}
}

func TestConfigRejected(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "x"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		cfg  Config
		dir  string
	}{
		{"unknown scenario", Config{Scenario: "heist"}, t.TempDir()},
		{"negative txs", Config{Txs: -1}, t.TempDir()},
		{"too few txs", Config{Txs: MinTxs - 1}, t.TempDir()},
		{"too few ransomware txs", Config{Txs: MinRansomwareTxs - 1, Scenario: Ransomware}, t.TempDir()},
		{"too many txs", Config{Txs: MaxTxs + 1}, t.TempDir()},
		{"non-empty directory", Config{}, full},
		{"directory is a file", Config{}, file},
		{"no directory", Config{}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Generate(context.Background(), c.cfg, c.dir)
			if !errors.Is(err, chain.ErrInvalid) {
				t.Fatalf("got %v, want an error wrapping chain.ErrInvalid", err)
			}
		})
	}
	if got := Scenarios(); !slices.Equal(got, []string{Baseline, Ransomware}) {
		t.Fatalf("Scenarios() = %v", got)
	}
}

func TestBlockFilesRollOver(t *testing.T) {
	const limit = 300_000
	dir, res := generateForTest(t, Config{Seed: 3, Txs: 1500, maxFileSize: limit})
	if len(res.Files) < 3 {
		t.Fatalf("%d files for %d bytes at a %d-byte limit", len(res.Files), res.Bytes, limit)
	}
	var total int64
	for _, f := range res.Files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > limit {
			t.Fatalf("%s is %d bytes, over the %d limit", f, st.Size(), limit)
		}
		total += st.Size()
	}
	if total != res.Bytes {
		t.Fatalf("files hold %d bytes, result says %d", total, res.Bytes)
	}
	blocks := readBlockFiles(t, dir, res.Files)
	// The same chain as with one file.
	one, res1 := generateForTest(t, Config{Seed: 3, Txs: 1500})
	if len(res1.Files) != 1 || res1.TipHash != res.TipHash {
		t.Fatalf("single-file run: %d files, tip %s vs %s", len(res1.Files), res1.TipHash, res.TipHash)
	}
	single := readBlockFiles(t, one, res1.Files)
	if len(single) != len(blocks) {
		t.Fatalf("%d vs %d blocks", len(single), len(blocks))
	}
	// Vestigo's own block-file reader finds the same best chain.
	r, err := blockfile.Open(context.Background(), dir, blockfile.Options{MaxHeight: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Height() != res.TipHeight || r.Chain()[r.Height()].Hash != res.TipHash || r.Stats().Records != len(blocks) {
		t.Fatalf("blockfile reads tip %d of %d records, generator %s at %d", r.Height(), r.Stats().Records, res.TipHash, res.TipHeight)
	}
	for h, e := range r.Chain() {
		raw, err := r.ReadBlock(e, nil)
		if err != nil || !bytes.Equal(raw, single[h]) {
			t.Fatalf("block %d read by blockfile differs from the single-file chain (%v)", h, err)
		}
	}
	m, err := LoadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.TipHash != res.TipHash.String() || m.Blocks != res.Blocks || len(m.Files) != len(res.Files) || m.Bytes != res.Bytes || m.Seed != 3 {
		t.Fatalf("manifest %+v does not match result %+v", m, res)
	}
}

func TestCancelLeavesNoManifest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	calls := 0
	_, err := Generate(ctx, Config{Seed: 1, Progress: func(done, total int) {
		calls++
		if calls == 120 {
			cancel()
		}
	}}, dir)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	if _, err := LoadManifest(dir); err == nil {
		t.Fatal("a cancelled run has a manifest")
	}
	if _, err := os.Stat(filepath.Join(dir, "blk00000.dat")); err != nil {
		t.Fatalf("partial output missing: %v", err)
	}
}

func TestProgress(t *testing.T) {
	var last, calls int
	res, err := Generate(context.Background(), Config{Seed: 9, Txs: 700, Progress: func(done, total int) {
		if total != 700 || done < last || done > total {
			t.Errorf("progress %d/%d after %d", done, total, last)
		}
		last = done
		calls++
	}}, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if last != 700 || calls != res.Blocks-1 {
		t.Fatalf("last progress %d after %d calls for %d blocks", last, calls, res.Blocks)
	}
}

// TestKeyDerivation checks the batched derivation against the
// straightforward one and against btcd: the P2TR output key is
// txscript.ComputeTaprootKeyNoScript of the internal key, the signing key is
// txscript.TweakTaprootPrivKey of it, and a Schnorr signature by the
// signing key verifies under the output key.
func TestKeyDerivation(t *testing.T) {
	p, err := btc.ParamsFor(chain.Regtest)
	if err != nil {
		t.Fatal(err)
	}
	var batch, single []*addrInfo
	for i := range 300 {
		typ := scriptType(i % 7)
		batch = append(batch, &addrInfo{wallet: int32(i % 5), index: uint32(i), typ: typ})
		single = append(single, &addrInfo{wallet: int32(i % 5), index: uint32(i), typ: typ})
	}
	for i := 0; i < len(batch); i += 37 {
		deriveChunk(batch[i:min(i+37, len(batch))], 77, p, true)
	}
	for _, a := range single {
		a.derive(77, p, true)
	}
	for i := range batch {
		a, b := batch[i], single[i]
		if !bytes.Equal(a.script, b.script) || !bytes.Equal(a.pub, b.pub) || a.key.Key != b.key.Key || a.str != b.str || a.str == "" {
			t.Fatalf("address %d (type %d): batch and single derivation differ", i, a.typ)
		}
		if typ, _ := btc.Classify(a.script); typ != a.typ.chainType() {
			t.Fatalf("address %d: script classifies as %s, want %s", i, typ, a.typ.chainType())
		}
		if a.typ != stP2TR {
			continue
		}
		internal := keyScalar(77, a.wallet, a.index, 0)
		out := txscript.ComputeTaprootKeyNoScript(internal.PubKey())
		if !bytes.Equal(a.script[2:], schnorr.SerializePubKey(out)) {
			t.Fatalf("address %d: output key differs from ComputeTaprootKeyNoScript", i)
		}
		if tw := txscript.TweakTaprootPrivKey(internal, nil); tw.Key != a.key.Key {
			t.Fatalf("address %d: signing key differs from TweakTaprootPrivKey", i)
		}
		msg := bytes.Repeat([]byte{byte(i)}, 32)
		sig, err := schnorr.Sign(&a.key, msg, schnorr.FastSign())
		if err != nil || !sig.Verify(msg, out) {
			t.Fatalf("address %d: signature does not verify under the output key (%v)", i, err)
		}
	}
	// Keys depend on seed, wallet and index.
	k := keyScalar(1, 2, 3, 0)
	for _, o := range []btcec.PrivateKey{keyScalar(2, 2, 3, 0), keyScalar(1, 3, 3, 0), keyScalar(1, 2, 4, 0), keyScalar(1, 2, 3, 1)} {
		if o.Key == k.Key {
			t.Fatal("distinct key coordinates give the same key")
		}
	}
}
