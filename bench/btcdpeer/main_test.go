package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/blockchain/indexers"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/database"
	"github.com/btcsuite/btcd/wire"
)

// TestMain lets a test run main() in a child process to check the exit code.
func TestMain(m *testing.M) {
	if os.Getenv("BTCDPEER_RUN_MAIN") == "1" {
		os.Args = append([]string{"btcdpeer"}, strings.Fields(os.Getenv("BTCDPEER_ARGS"))...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

const (
	firstTxID    = "f4184fc596403b9d638783cf57adfe4c75c605f6356fbc91338530e9831e9e16"
	block170     = "00000000d1145790a8694403d4063f323d499e655c83426834d4ce2f8dd4a2ee"
	satoshiAddr  = "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"
	mainnetFile  = "blockchain/testdata/blk_0_to_14131.dat"
	mainnetBlock = 14132
	mainnetTxs   = 14247
)

// mainnetBlocks copies btcd's mainnet test chain (heights 0-14131) into a
// temporary directory as blk00000.dat, with a zero-filled tail like the
// space Bitcoin Core preallocates, and returns the directory.
func mainnetBlocks(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/btcsuite/btcd").Output()
	if err != nil {
		t.Fatalf("locate btcd module: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), mainnetFile))
	if err != nil {
		t.Fatalf("read btcd test chain: %v", err)
	}
	dir := t.TempDir()
	data = append(data, make([]byte, 4096)...)
	if err := os.WriteFile(filepath.Join(dir, "blk00000.dat"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestIndexMainnetChain(t *testing.T) {
	blocksDir := mainnetBlocks(t)
	dbDir := filepath.Join(t.TempDir(), "ffldb")

	var stdout, stderr bytes.Buffer
	args := []string{"-blocks", blocksDir, "-db", dbDir, "-network", "mainnet", "-json"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	if stderr.Len() != 0 {
		t.Errorf("unexpected stderr: %q", stderr.String())
	}

	// Exactly one JSON object with exactly the agreed keys.
	dec := json.NewDecoder(bytes.NewReader(stdout.Bytes()))
	var obj map[string]json.RawMessage
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("decode JSON %q: %v", stdout.String(), err)
	}
	if dec.More() {
		t.Errorf("more than one JSON value on stdout: %q", stdout.String())
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	want := []string{"blocks", "btcd_version", "db_bytes", "inputs", "io_per_sec", "outputs",
		"peak_rss_bytes", "seconds", "segments_tx_per_sec", "tool", "tx_per_sec", "txs"}
	if !slices.Equal(keys, want) {
		t.Errorf("JSON keys %v, want %v", keys, want)
	}
	var res result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Tool != "btcd-indexers" || res.BtcdVersion != "v0.24.2" {
		t.Errorf("tool %q version %q", res.Tool, res.BtcdVersion)
	}
	if res.Blocks != mainnetBlock || res.Txs != mainnetTxs {
		t.Errorf("indexed %d blocks, %d txs; want %d, %d", res.Blocks, res.Txs, mainnetBlock, mainnetTxs)
	}
	if res.Inputs <= 0 || res.Outputs < res.Txs {
		t.Errorf("implausible inputs %d / outputs %d", res.Inputs, res.Outputs)
	}
	if res.Seconds <= 0 || res.TxPerSec <= 0 || res.IOPerSec <= res.TxPerSec/2 {
		t.Errorf("implausible timing: %+v", res)
	}
	if res.DBBytes <= 0 {
		t.Errorf("db_bytes = %d", res.DBBytes)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil && res.PeakRSSBytes <= 0 {
		t.Errorf("peak_rss_bytes = %d", res.PeakRSSBytes)
	}
	if len(res.SegmentsTxSec) != 10 {
		t.Errorf("%d segments, want 10", len(res.SegmentsTxSec))
	}
	for i, r := range res.SegmentsTxSec {
		if r <= 0 {
			t.Errorf("segment %d rate %v", i, r)
		}
	}
	t.Logf("mainnet 0-14131: %d blocks, %d txs, %d inputs, %d outputs in %.3fs: %.0f tx/s, %.0f io/s, "+
		"peak RSS %d MiB, db %d KiB, segments %v",
		res.Blocks, res.Txs, res.Inputs, res.Outputs, res.Seconds, res.TxPerSec, res.IOPerSec,
		res.PeakRSSBytes>>20, res.DBBytes>>10, res.SegmentsTxSec)

	// Reopen the flushed database and query both indexes.
	db, err := database.Open("ffldb", dbDir, wire.MainNet)
	if err != nil {
		t.Fatalf("reopen database: %v", err)
	}
	defer db.Close()

	txIndex := indexers.NewTxIndex(db)
	txHash, err := chainhash.NewHashFromStr(firstTxID)
	if err != nil {
		t.Fatal(err)
	}
	region, err := txIndex.TxBlockRegion(txHash)
	if err != nil {
		t.Fatalf("TxBlockRegion: %v", err)
	}
	if region == nil {
		t.Fatalf("tx index does not know %s", firstTxID)
	}
	if region.Hash.String() != block170 {
		t.Errorf("tx %s indexed in block %s, want %s", firstTxID, region.Hash, block170)
	}
	// The region must cut exactly that transaction out of the block.
	if got := txAt(t, blocksDir, region); got != *txHash {
		t.Errorf("region %+v holds tx %s, want %s", region, got, txHash)
	}

	addrIndex := indexers.NewAddrIndex(db, &chaincfg.MainNetParams)
	addr, err := btcutil.DecodeAddress(satoshiAddr, &chaincfg.MainNetParams)
	if err != nil {
		t.Fatal(err)
	}
	regions, _, err := addrIndex.TxRegionsForAddress(nil, addr, 0, 1000, false)
	if err != nil {
		t.Fatalf("TxRegionsForAddress: %v", err)
	}
	if len(regions) == 0 {
		t.Fatalf("address index has no entries for %s", satoshiAddr)
	}
	// The address paid (block 9's coinbase, P2PK) and spent in tx f4184f…,
	// which the address index finds through the spent outputs it was fed.
	if !slices.ContainsFunc(regions, func(r database.BlockRegion) bool {
		return *r.Hash == *region.Hash && r.Offset == region.Offset && r.Len == region.Len
	}) {
		t.Errorf("address %s: %d regions, none is tx %s", satoshiAddr, len(regions), firstTxID)
	}

	// Both index tips are at the last block, as btcd's manager leaves them.
	err = db.View(func(dbTx database.Tx) error {
		tips := dbTx.Metadata().Bucket(indexTipsBucket)
		for _, key := range [][]byte{txIndex.Key(), addrIndex.Key()} {
			tip := tips.Get(key)
			if len(tip) != chainhash.HashSize+4 {
				t.Errorf("tip of %s: %x", key, tip)
				continue
			}
			if h := binary.LittleEndian.Uint32(tip[chainhash.HashSize:]); h != mainnetBlock-1 {
				t.Errorf("tip of %s at height %d, want %d", key, h, mainnetBlock-1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// txAt reads the transaction a tx index region points to out of the block
// files and returns its hash.
func txAt(t *testing.T, blocksDir string, region *database.BlockRegion) chainhash.Hash {
	t.Helper()
	files, err := blockFiles(blocksDir)
	if err != nil {
		t.Fatal(err)
	}
	br := &blockReader{files: files, net: wire.MainNet, netName: "mainnet"}
	defer br.closeFile()
	for {
		block, err := br.next()
		if err != nil {
			t.Fatalf("block %s not found in the block files: %v", region.Hash, err)
		}
		if *block.Hash() != *region.Hash {
			continue
		}
		raw, err := block.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		var tx wire.MsgTx
		if err := tx.Deserialize(bytes.NewReader(raw[region.Offset : region.Offset+region.Len])); err != nil {
			t.Fatalf("decode tx at region: %v", err)
		}
		return tx.TxHash()
	}
}

func TestWrongNetwork(t *testing.T) {
	blocksDir := mainnetBlocks(t)
	var stdout, stderr bytes.Buffer
	err := run([]string{"-blocks", blocksDir, "-network", "regtest"}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "magic f9beb4d9") {
		t.Fatalf("got %v, want a magic mismatch", err)
	}
}

// regtestChain writes a regtest block file with the given blocks after the
// regtest genesis block, each block's parent being the one before it.
func regtestChain(t *testing.T, blocks ...*wire.MsgBlock) string {
	t.Helper()
	var buf bytes.Buffer
	write := func(b *wire.MsgBlock) {
		var raw bytes.Buffer
		if err := b.Serialize(&raw); err != nil {
			t.Fatal(err)
		}
		var hdr [8]byte
		binary.LittleEndian.PutUint32(hdr[:4], uint32(chaincfg.RegressionNetParams.Net))
		binary.LittleEndian.PutUint32(hdr[4:], uint32(raw.Len()))
		buf.Write(hdr[:])
		buf.Write(raw.Bytes())
	}
	prev := chaincfg.RegressionNetParams.GenesisBlock
	write(prev)
	for _, b := range blocks {
		b.Header.PrevBlock = prev.BlockHash()
		write(b)
		prev = b
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "blk00000.dat"), buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

var p2pkh = []byte{0x76, 0xa9, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 0x88, 0xac}

func coinbase(tag byte, value int64) *wire.MsgTx {
	tx := wire.NewMsgTx(1)
	tx.AddTxIn(wire.NewTxIn(&wire.OutPoint{Index: wire.MaxPrevOutIndex}, []byte{0x51, tag}, nil))
	tx.AddTxOut(wire.NewTxOut(value, p2pkh))
	return tx
}

func spend(value int64, from ...wire.OutPoint) *wire.MsgTx {
	tx := wire.NewMsgTx(1)
	for i := range from {
		tx.AddTxIn(wire.NewTxIn(&from[i], nil, nil))
	}
	tx.AddTxOut(wire.NewTxOut(value, p2pkh))
	tx.AddTxOut(wire.NewTxOut(0, []byte{0x6a, 0x01, 0x42})) // OP_RETURN
	return tx
}

func newBlock(txs ...*wire.MsgTx) *wire.MsgBlock {
	b := wire.NewMsgBlock(&wire.BlockHeader{Version: 1, Timestamp: time.Unix(1700000000, 0)})
	for _, tx := range txs {
		_ = b.AddTransaction(tx)
	}
	return b
}

func TestSpentOutputsOrder(t *testing.T) {
	cb1 := coinbase(1, 5000)
	cb2 := coinbase(2, 6000)
	a := spend(4000, wire.OutPoint{Hash: cb1.TxHash(), Index: 0})
	// b spends an output created earlier in the same block.
	b := spend(3000, wire.OutPoint{Hash: a.TxHash(), Index: 0})
	blocksDir := regtestChain(t, newBlock(cb1), newBlock(cb2, a, b))

	files, err := blockFiles(blocksDir)
	if err != nil {
		t.Fatal(err)
	}
	br := &blockReader{files: files, net: chaincfg.RegressionNetParams.Net, netName: "regtest"}
	defer br.closeFile()
	sp := newSpender(&chaincfg.RegressionNetParams)
	var got [][]blockchain.SpentTxOut
	for height := int32(0); ; height++ {
		block, err := br.next()
		if err != nil {
			break
		}
		block.SetHeight(height)
		stxos, _, _, err := sp.connect(block)
		if err != nil {
			t.Fatalf("height %d: %v", height, err)
		}
		got = append(got, stxos)
	}
	want := [][]blockchain.SpentTxOut{
		{},
		{},
		{
			{Amount: 5000, PkScript: p2pkh, Height: 1, IsCoinBase: true},
			{Amount: 4000, PkScript: p2pkh, Height: 2, IsCoinBase: false},
		},
	}
	if len(got) != len(want) {
		t.Fatalf("%d blocks, want %d", len(got), len(want))
	}
	for i := range want {
		if !slices.EqualFunc(got[i], want[i], func(x, y blockchain.SpentTxOut) bool {
			return x.Amount == y.Amount && bytes.Equal(x.PkScript, y.PkScript) &&
				x.Height == y.Height && x.IsCoinBase == y.IsCoinBase
		}) {
			t.Errorf("block %d stxos %+v, want %+v", i, got[i], want[i])
		}
	}
	// The OP_RETURN outputs never entered the set: only b's first output
	// and cb2's remain.
	if len(sp.utxos) != 2 {
		t.Errorf("%d unspent outputs left, want 2", len(sp.utxos))
	}

	// The same chain goes through the whole program.
	var stdout, stderr bytes.Buffer
	if err := run([]string{"-blocks", blocksDir, "-json", "-segments", "5"}, &stdout, &stderr); err != nil {
		t.Fatalf("run: %v", err)
	}
	var res result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatal(err)
	}
	if res.Blocks != 3 || res.Txs != 5 || res.Inputs != 2 || res.Outputs != 7 {
		t.Errorf("counts %+v", res)
	}
	if len(res.SegmentsTxSec) != 5 {
		t.Errorf("%d segments, want 5", len(res.SegmentsTxSec))
	}
}

func TestUnknownOutpoint(t *testing.T) {
	bogus := wire.OutPoint{Hash: chainhash.Hash{0xde, 0xad}, Index: 3}
	blocksDir := regtestChain(t, newBlock(coinbase(1, 5000), spend(1, bogus)))
	var stdout, stderr bytes.Buffer
	err := run([]string{"-blocks", blocksDir}, &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "spends unknown outpoint "+bogus.String()) {
		t.Fatalf("got %v, want an unknown outpoint error", err)
	}
}

func TestBrokenChain(t *testing.T) {
	blocksDir := regtestChain(t, newBlock(coinbase(1, 5000)))
	// Drop the genesis block: the first block no longer starts the chain.
	path := filepath.Join(blocksDir, "blk00000.dat")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	size := binary.LittleEndian.Uint32(data[4:8])
	if err := os.WriteFile(path, data[8+size:], 0o644); err != nil {
		t.Fatal(err)
	}
	err = run([]string{"-blocks", blocksDir}, &bytes.Buffer{}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "height order from genesis") {
		t.Fatalf("got %v, want a chain order error", err)
	}
}

func TestExitCode(t *testing.T) {
	for _, args := range []string{"-blocks " + t.TempDir(), "-network nonet -blocks x", "-blocks"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "BTCDPEER_RUN_MAIN=1", "BTCDPEER_ARGS="+args)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("%q: got %v, want exit code 1", args, err)
		}
		msg := stderr.String()
		if !strings.HasPrefix(msg, "btcdpeer: ") || strings.Count(msg, "\n") != 1 {
			t.Errorf("%q: stderr %q, want one btcdpeer: line", args, msg)
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: stdout %q", args, stdout.String())
		}
	}
}

func TestSegmentRates(t *testing.T) {
	s := func(d float64) time.Duration { return time.Duration(d * float64(time.Second)) }
	cases := []struct {
		marks []mark
		n     int
		want  []float64
	}{
		{[]mark{{0, 0}, {10, s(1)}, {20, s(2)}}, 2, []float64{10, 10}},
		{[]mark{{0, 0}, {10, s(1)}, {20, s(3)}}, 2, []float64{10, 5}},
		// One block spanning every segment: interpolated.
		{[]mark{{0, 0}, {100, s(2)}}, 4, []float64{50, 50, 50, 50}},
		// More segments than transactions.
		{[]mark{{0, 0}, {3, s(3)}}, 10, []float64{1, 1, 1}},
		{[]mark{{0, 0}}, 10, []float64{}},
	}
	for i, c := range cases {
		if got := segmentRates(c.marks, c.n); !slices.Equal(got, c.want) {
			t.Errorf("case %d: got %v, want %v", i, got, c.want)
		}
	}
}
