// Command btcdpeer is the benchmark peer for Vestigo's Bitcoin index: it
// feeds a directory of Bitcoin Core block files (blk00000.dat, ...) to btcd's
// own transaction and address indexes (indexers.NewTxIndex and
// indexers.NewAddrIndex over an ffldb database) and reports how fast they go.
//
// The blocks are connected the way btcd's index manager connects them: one
// database transaction per block, the transaction index first and the address
// index second, each given the block's spent outputs in spend-journal order.
// Nothing is validated (no scripts, no consensus rules), which is also how
// Vestigo's side of the benchmark runs.
//
// It lives in its own module so that the product never links btcd's database
// and indexers, and it imports nothing from the product for the same reason.
//
// Usage:
//
//	btcdpeer -blocks DIR [-db DIR] [-keep] [-network regtest|mainnet|testnet|signet] [-json] [-segments N]
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/blockchain"
	"github.com/btcsuite/btcd/blockchain/indexers"
	"github.com/btcsuite/btcd/btcutil"
	"github.com/btcsuite/btcd/chaincfg"
	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/btcsuite/btcd/database"
	_ "github.com/btcsuite/btcd/database/ffldb" // registers the "ffldb" driver
	"github.com/btcsuite/btcd/txscript"
	"github.com/btcsuite/btcd/wire"
)

const (
	toolName    = "btcd-indexers"
	btcdVersion = "v0.24.2"

	// pipelineDepth is how many parsed blocks (with their spent outputs)
	// the reader may run ahead of the indexer.
	pipelineDepth = 32
)

func main() {
	err := run(os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), "\n", "; ")
		fmt.Fprintf(os.Stderr, "btcdpeer: %s\n", msg)
		os.Exit(1)
	}
}

// result is what one run reports. The JSON field set is the benchmark's
// contract with the harness that compares it with Vestigo; the fields tagged
// "-" only appear in the readable summary.
type result struct {
	Tool          string    `json:"tool"`
	BtcdVersion   string    `json:"btcd_version"`
	Blocks        int64     `json:"blocks"`
	Txs           int64     `json:"txs"`
	Inputs        int64     `json:"inputs"`
	Outputs       int64     `json:"outputs"`
	Seconds       float64   `json:"seconds"`
	TxPerSec      float64   `json:"tx_per_sec"`
	IOPerSec      float64   `json:"io_per_sec"`
	PeakRSSBytes  int64     `json:"peak_rss_bytes"`
	DBBytes       int64     `json:"db_bytes"`
	SegmentsTxSec []float64 `json:"segments_tx_per_sec"`

	Network       string  `json:"-"`
	DBPath        string  `json:"-"`
	DBKept        bool    `json:"-"`
	UpdateSeconds float64 `json:"-"`
	CloseSeconds  float64 `json:"-"`
}

func run(args []string, stdout, stderr io.Writer) error {
	fset := flag.NewFlagSet("btcdpeer", flag.ContinueOnError)
	fset.SetOutput(io.Discard)
	blocksDir := fset.String("blocks", "", "directory of Bitcoin Core block files blk00000.dat, blk00001.dat, ... (required)")
	dbDir := fset.String("db", "", "directory for the ffldb database (default: a temporary directory, removed at the end unless -keep)")
	keep := fset.Bool("keep", false, "keep the temporary database directory")
	network := fset.String("network", "regtest", "network of the block files: regtest, mainnet, testnet or signet")
	asJSON := fset.Bool("json", false, "print one JSON object on stdout instead of a readable summary")
	segments := fset.Int("segments", 10, "number of equal-transaction segments to report rates for")
	if err := fset.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fset.SetOutput(stderr)
			fmt.Fprintln(stderr, "usage: btcdpeer -blocks DIR [-db DIR] [-keep] [-network NET] [-json] [-segments N]")
			fset.PrintDefaults()
			return err
		}
		return fmt.Errorf("%w (see -h)", err)
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see -h)", fset.Arg(0))
	}
	if *blocksDir == "" {
		return errors.New("missing -blocks DIR (see -h)")
	}
	if *segments < 1 {
		return fmt.Errorf("-segments must be at least 1, got %d", *segments)
	}
	params, err := networkParams(*network)
	if err != nil {
		return err
	}
	files, err := blockFiles(*blocksDir)
	if err != nil {
		return err
	}

	dbPath := *dbDir
	kept := true
	if dbPath == "" {
		tmp, err := os.MkdirTemp("", "btcdpeer-")
		if err != nil {
			return fmt.Errorf("create temporary database directory: %w", err)
		}
		if !*keep {
			kept = false
			defer os.RemoveAll(tmp)
		}
		dbPath = filepath.Join(tmp, "ffldb")
	}

	p, err := openPeer(dbPath, params)
	if err != nil {
		return err
	}

	var pr *progressLine
	var progress func(*indexStats)
	if isTerminal(stderr) {
		pr = &progressLine{w: stderr}
		progress = pr.update
	}
	st, err := p.index(files, progress)
	if pr != nil {
		pr.clear()
	}
	if err != nil {
		_ = p.close()
		return err
	}

	// Closing flushes ffldb's write cache to leveldb; that deferred work is
	// part of the indexing cost, so it is timed too.
	closeStart := time.Now()
	if err := p.close(); err != nil {
		return err
	}
	closeTime := time.Since(closeStart)

	dbBytes, err := dirBytes(dbPath)
	if err != nil {
		return err
	}

	total := st.loop + closeTime
	secs := total.Seconds()
	res := result{
		Tool:          toolName,
		BtcdVersion:   btcdVersion,
		Blocks:        st.blocks,
		Txs:           st.txs,
		Inputs:        st.inputs,
		Outputs:       st.outputs,
		Seconds:       round(secs, 6),
		TxPerSec:      round(perSecond(st.txs, secs), 1),
		IOPerSec:      round(perSecond(st.inputs+st.outputs, secs), 1),
		PeakRSSBytes:  peakRSS(),
		DBBytes:       dbBytes,
		SegmentsTxSec: segmentRates(st.marks, *segments),
		Network:       *network,
		DBPath:        dbPath,
		DBKept:        kept,
		UpdateSeconds: st.update.Seconds(),
		CloseSeconds:  closeTime.Seconds(),
	}

	if *asJSON {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(&res); err != nil {
			return fmt.Errorf("write JSON result: %w", err)
		}
		if *dbDir == "" && *keep {
			fmt.Fprintf(stderr, "btcdpeer: database kept in %s\n", dbPath)
		}
		return nil
	}
	return writeSummary(stdout, &res)
}

// networkParams maps the -network flag to btcd's chain parameters.
func networkParams(name string) (*chaincfg.Params, error) {
	switch name {
	case "regtest":
		return &chaincfg.RegressionNetParams, nil
	case "mainnet":
		return &chaincfg.MainNetParams, nil
	case "testnet":
		return &chaincfg.TestNet3Params, nil
	case "signet":
		return &chaincfg.SigNetParams, nil
	}
	return nil, fmt.Errorf("unknown -network %q (want regtest, mainnet, testnet or signet)", name)
}

// ---------------------------------------------------------------------------
// The peer: an ffldb database with btcd's tx and address indexes.
// ---------------------------------------------------------------------------

// indexTipsBucket is the bucket btcd's index manager keeps each index's tip
// in (blockchain/indexers/manager.go, indexTipsBucketName).
var indexTipsBucket = []byte("idxtips")

type peer struct {
	db        database.DB
	params    *chaincfg.Params
	txIndex   *indexers.TxIndex
	addrIndex *indexers.AddrIndex
	manager   *indexers.Manager
}

// openPeer creates a new ffldb database at dbPath and sets up the transaction
// and address indexes in it exactly as indexers.Manager.Init does for a fresh
// database: the index tips bucket, each index's Create plus an "uninitialized"
// tip (zero hash, height -1) in one transaction, then each index's Init.
// Manager.Init itself cannot be used because it needs a *blockchain.BlockChain
// to catch the indexes up from; the blocks are fed here instead.
func openPeer(dbPath string, params *chaincfg.Params) (*peer, error) {
	db, err := database.Create("ffldb", dbPath, params.Net)
	if err != nil {
		return nil, fmt.Errorf("create ffldb database in %s: %w", dbPath, err)
	}
	txIndex := indexers.NewTxIndex(db)
	addrIndex := indexers.NewAddrIndex(db, params)
	enabled := []indexers.Indexer{txIndex, addrIndex}

	err = db.Update(func(dbTx database.Tx) error {
		tips, err := dbTx.Metadata().CreateBucketIfNotExists(indexTipsBucket)
		if err != nil {
			return fmt.Errorf("create index tips bucket: %w", err)
		}
		for _, idx := range enabled {
			if err := idx.Create(dbTx); err != nil {
				return fmt.Errorf("create %s: %w", idx.Name(), err)
			}
			if err := tips.Put(idx.Key(), uninitializedTip()); err != nil {
				return fmt.Errorf("set %s tip: %w", idx.Name(), err)
			}
		}
		return nil
	})
	if err == nil {
		for _, idx := range enabled {
			if err = idx.Init(); err != nil {
				err = fmt.Errorf("init %s: %w", idx.Name(), err)
				break
			}
		}
	}
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &peer{
		db:        db,
		params:    params,
		txIndex:   txIndex,
		addrIndex: addrIndex,
		manager:   indexers.NewManager(db, enabled),
	}, nil
}

// uninitializedTip is the serialized index tip of an index with no blocks:
// the zero hash and height -1, as the index manager writes it.
func uninitializedTip() []byte {
	tip := make([]byte, chainhash.HashSize+4)
	binary.LittleEndian.PutUint32(tip[chainhash.HashSize:], ^uint32(0))
	return tip
}

func (p *peer) close() error {
	if err := p.db.Close(); err != nil {
		return fmt.Errorf("close ffldb database: %w", err)
	}
	return nil
}

// indexStats counts what was indexed and when.
type indexStats struct {
	blocks, txs, inputs, outputs int64

	// marks holds the cumulative transaction count and elapsed time after
	// each block, starting with {0, 0}; segment rates are computed from it.
	marks []mark

	loop   time.Duration // reading, spent-output tracking and indexing
	update time.Duration // of which inside db.Update (the indexes proper)
}

type mark struct {
	txs int64
	at  time.Duration
}

// fedBlock is a block ready for the indexes, or the error that stopped the
// reader.
type fedBlock struct {
	block           *btcutil.Block
	stxos           []blockchain.SpentTxOut
	inputs, outputs int
	err             error
}

// index connects every block of files to both indexes, in order. A reader
// goroutine parses the blocks and builds their spent outputs while this one
// runs the database transactions, as a node's download and index stages
// overlap. Progress, if non-nil, is called after each block.
func (p *peer) index(files []string, progress func(*indexStats)) (*indexStats, error) {
	st := &indexStats{marks: []mark{{}}}
	feed := make(chan fedBlock, pipelineDepth)
	done := make(chan struct{})
	defer close(done)

	start := time.Now()
	go readBlocks(files, p.params, feed, done)

	for fb := range feed {
		if fb.err != nil {
			return nil, fb.err
		}
		block := fb.block
		t0 := time.Now()
		err := p.db.Update(func(dbTx database.Tx) error {
			// Manager.ConnectBlock is what btcd's chain calls for a
			// connected block: for each index in order it checks the
			// index tip is the block's parent, calls the index's
			// ConnectBlock and moves the tip.
			return p.manager.ConnectBlock(dbTx, block, fb.stxos)
		})
		now := time.Now()
		st.update += now.Sub(t0)
		if err != nil {
			return nil, fmt.Errorf("index block %d (%s): %w", block.Height(), block.Hash(), err)
		}
		st.blocks++
		st.txs += int64(len(block.Transactions()))
		st.inputs += int64(fb.inputs)
		st.outputs += int64(fb.outputs)
		st.marks = append(st.marks, mark{txs: st.txs, at: now.Sub(start)})
		if progress != nil {
			progress(st)
		}
	}
	st.loop = time.Since(start)
	if st.blocks == 0 {
		return nil, errors.New("the block files hold no blocks")
	}
	return st, nil
}

// readBlocks sends every block of files, with its spent outputs, to feed and
// closes it; on error it sends the error and stops. It gives up when done is
// closed.
func readBlocks(files []string, params *chaincfg.Params, feed chan<- fedBlock, done <-chan struct{}) {
	defer close(feed)
	send := func(fb fedBlock) bool {
		select {
		case feed <- fb:
			return true
		case <-done:
			return false
		}
	}

	br := &blockReader{files: files, net: params.Net, netName: params.Name}
	defer br.closeFile()
	sp := newSpender(params)
	for height := int32(0); ; height++ {
		block, err := br.next()
		if err == io.EOF {
			return
		}
		if err != nil {
			send(fedBlock{err: err})
			return
		}
		block.SetHeight(height)
		stxos, inputs, outputs, err := sp.connect(block)
		if err != nil {
			send(fedBlock{err: fmt.Errorf("%s: %w", br.where(), err)})
			return
		}
		if !send(fedBlock{block: block, stxos: stxos, inputs: inputs, outputs: outputs}) {
			return
		}
	}
}

// ---------------------------------------------------------------------------
// Spent outputs.
// ---------------------------------------------------------------------------

// unspent is what the spend journal needs to know about an unspent output.
type unspent struct {
	amount   int64 // satoshis
	pkScript []byte
	height   int32
	coinbase bool
}

// spender keeps the unspent outputs in memory and builds each block's
// []blockchain.SpentTxOut in the order btcd's chain does
// (UtxoViewpoint.connectTransactions): for every non-coinbase transaction in
// block order, for every input in order. Outputs become spendable as soon as
// their transaction is processed, so spends within a block are found.
type spender struct {
	utxos   map[wire.OutPoint]unspent
	genesis chainhash.Hash
	prev    chainhash.Hash // hash of the previous block; zero before genesis
}

func newSpender(params *chaincfg.Params) *spender {
	return &spender{
		utxos:   make(map[wire.OutPoint]unspent),
		genesis: *params.GenesisHash,
	}
}

// connect checks block extends the previous one, spends its inputs and adds
// its outputs. It returns the spent outputs and the block's input
// (non-coinbase) and output counts.
func (s *spender) connect(block *btcutil.Block) ([]blockchain.SpentTxOut, int, int, error) {
	msg := block.MsgBlock()
	if msg.Header.PrevBlock != s.prev {
		return nil, 0, 0, fmt.Errorf("block %s at height %d has parent %s, not %s "+
			"(the files must hold one chain in height order from genesis)",
			block.Hash(), block.Height(), msg.Header.PrevBlock, s.prev)
	}
	s.prev = *block.Hash()

	txs := block.Transactions()
	nIn, nOut := 0, 0
	for _, tx := range txs[min(1, len(txs)):] {
		nIn += len(tx.MsgTx().TxIn)
	}
	stxos := make([]blockchain.SpentTxOut, 0, nIn)

	// btcd never adds the genesis coinbase to its UTXO set.
	isGenesis := block.Height() == 0 && *block.Hash() == s.genesis
	for txIdx, tx := range txs {
		// Like the address index, take the first transaction as the
		// coinbase: it has no previous outputs to spend.
		if txIdx > 0 {
			for inIdx, in := range tx.MsgTx().TxIn {
				u, ok := s.utxos[in.PreviousOutPoint]
				if !ok {
					return nil, 0, 0, fmt.Errorf("block %s at height %d: tx %s input %d spends unknown outpoint %s",
						block.Hash(), block.Height(), tx.Hash(), inIdx, in.PreviousOutPoint)
				}
				stxos = append(stxos, blockchain.SpentTxOut{
					Amount:     u.amount,
					PkScript:   u.pkScript,
					Height:     u.height,
					IsCoinBase: u.coinbase,
				})
				delete(s.utxos, in.PreviousOutPoint)
			}
		}
		outs := tx.MsgTx().TxOut
		nOut += len(outs)
		if isGenesis {
			continue
		}
		op := wire.OutPoint{Hash: *tx.Hash()}
		for i, out := range outs {
			// Provably unspendable outputs never enter btcd's UTXO
			// set (UtxoViewpoint.addTxOut).
			if txscript.IsUnspendable(out.PkScript) {
				continue
			}
			op.Index = uint32(i)
			s.utxos[op] = unspent{
				amount: out.Value,
				// Own copy, so the UTXO set does not pin whole
				// blocks' script buffers in memory.
				pkScript: bytes.Clone(out.PkScript),
				height:   block.Height(),
				coinbase: txIdx == 0,
			}
		}
	}
	return stxos, nIn, nOut, nil
}

// ---------------------------------------------------------------------------
// Bitcoin Core block files.
// ---------------------------------------------------------------------------

var blkFileName = regexp.MustCompile(`^blk([0-9]{5,})\.dat$`)

// blockFiles lists dir's blkNNNNN.dat files in numeric order.
func blockFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read block directory: %w", err)
	}
	type numbered struct {
		n    uint64
		path string
	}
	var found []numbered
	for _, e := range entries {
		m := blkFileName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		n, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("block file %s: bad number: %w", e.Name(), err)
		}
		found = append(found, numbered{n, filepath.Join(dir, e.Name())})
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("no blk00000.dat-style block files in %s", dir)
	}
	sort.Slice(found, func(i, j int) bool { return found[i].n < found[j].n })
	files := make([]string, len(found))
	for i, f := range found {
		files[i] = f.path
	}
	return files, nil
}

// blockReader reads the records of Bitcoin Core block files: 4 magic bytes,
// a 4-byte little-endian size and a serialized block. A file ends at its end
// or at a zero magic (the zero-filled tail Core preallocates).
type blockReader struct {
	files   []string
	net     wire.BitcoinNet
	netName string

	nextFile int // index of the next file to open
	name     string
	f        *os.File
	r        *bufio.Reader
	off      int64 // offset of the current record in the current file
	size     int64 // size of the current record, header included
}

// where names the record last read, for error messages.
func (br *blockReader) where() string {
	return fmt.Sprintf("%s offset %d", filepath.Base(br.name), br.off)
}

func (br *blockReader) closeFile() {
	if br.f != nil {
		_ = br.f.Close()
		br.f, br.r = nil, nil
	}
}

// next returns the next block, or io.EOF after the last one.
func (br *blockReader) next() (*btcutil.Block, error) {
	for {
		if br.r == nil {
			if br.nextFile >= len(br.files) {
				return nil, io.EOF
			}
			br.name = br.files[br.nextFile]
			br.nextFile++
			f, err := os.Open(br.name)
			if err != nil {
				return nil, fmt.Errorf("open block file: %w", err)
			}
			br.f, br.r = f, bufio.NewReaderSize(f, 1<<20)
			br.off, br.size = 0, 0
		}
		br.off += br.size
		br.size = 0

		var hdr [8]byte
		n, err := io.ReadFull(br.r, hdr[:])
		switch {
		case err == io.EOF:
			br.closeFile()
			continue
		case err == io.ErrUnexpectedEOF && allZero(hdr[:n]):
			br.closeFile()
			continue
		case err == io.ErrUnexpectedEOF:
			return nil, fmt.Errorf("%s: truncated record header", br.where())
		case err != nil:
			return nil, fmt.Errorf("%s: read: %w", br.where(), err)
		}
		magic := binary.LittleEndian.Uint32(hdr[:4])
		if magic == 0 {
			br.closeFile()
			continue
		}
		if wire.BitcoinNet(magic) != br.net {
			return nil, fmt.Errorf("%s: magic %x is not the %s network's (%x); wrong -network?",
				br.where(), hdr[:4], br.netName, magicBytes(br.net))
		}
		size := binary.LittleEndian.Uint32(hdr[4:])
		if size < wire.MaxBlockHeaderPayload || size > wire.MaxBlockPayload {
			return nil, fmt.Errorf("%s: implausible block size %d", br.where(), size)
		}
		buf := make([]byte, size)
		if _, err := io.ReadFull(br.r, buf); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return nil, fmt.Errorf("%s: truncated block (record says %d bytes)", br.where(), size)
			}
			return nil, fmt.Errorf("%s: read: %w", br.where(), err)
		}
		br.size = int64(len(hdr)) + int64(size)

		var msg wire.MsgBlock
		rd := bytes.NewReader(buf)
		if err := msg.Deserialize(rd); err != nil {
			return nil, fmt.Errorf("%s: decode block: %w", br.where(), err)
		}
		if rd.Len() != 0 {
			return nil, fmt.Errorf("%s: %d bytes after the block inside its record", br.where(), rd.Len())
		}
		if len(msg.Transactions) == 0 {
			return nil, fmt.Errorf("%s: block %s has no transactions", br.where(), msg.BlockHash())
		}
		return btcutil.NewBlockFromBlockAndBytes(&msg, buf), nil
	}
}

func magicBytes(net wire.BitcoinNet) []byte {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(net))
	return b[:]
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// ---------------------------------------------------------------------------
// Measurements and output.
// ---------------------------------------------------------------------------

// segmentRates splits the run into n segments of (nearly) equal transaction
// counts and returns the transactions per second of each. The time at which a
// segment boundary was reached is interpolated within the block that crossed
// it, so segments stay meaningful when one block spans several of them.
func segmentRates(marks []mark, n int) []float64 {
	if len(marks) < 2 {
		return []float64{}
	}
	total := marks[len(marks)-1].txs
	if total <= 0 {
		return []float64{}
	}
	if int64(n) > total {
		n = int(total)
	}
	timeAt := func(x int64) float64 {
		j := sort.Search(len(marks), func(i int) bool { return marks[i].txs >= x })
		if j == 0 {
			return marks[0].at.Seconds()
		}
		a, b := marks[j-1], marks[j]
		frac := float64(x-a.txs) / float64(b.txs-a.txs)
		return a.at.Seconds() + frac*(b.at-a.at).Seconds()
	}
	rates := make([]float64, n)
	prevX, prevT := int64(0), timeAt(0)
	for i := 1; i <= n; i++ {
		x := total * int64(i) / int64(n)
		t := timeAt(x)
		if dt := t - prevT; dt > 0 {
			rates[i-1] = round(float64(x-prevX)/dt, 1)
		}
		prevX, prevT = x, t
	}
	return rates
}

// peakRSS returns the process's peak resident set size (VmHWM) in bytes, or
// 0 where /proc/self/status is not available.
func peakRSS() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		rest, ok := strings.CutPrefix(line, "VmHWM:")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) != 2 || fields[1] != "kB" {
			return 0
		}
		kb, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return 0
		}
		return kb * 1024
	}
	return 0
}

// dirBytes adds up the sizes of the regular files under dir.
func dirBytes(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("measure database size: %w", err)
	}
	return total, nil
}

func perSecond(n int64, secs float64) float64 {
	if secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

func round(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// progressLine rewrites one terminal line with the indexing progress, at
// most once a second.
type progressLine struct {
	w       io.Writer
	last    time.Duration
	printed bool
}

func (p *progressLine) update(st *indexStats) {
	at := st.marks[len(st.marks)-1].at
	if at-p.last < time.Second {
		return
	}
	p.last = at
	p.printed = true
	fmt.Fprintf(p.w, "\r\033[Kbtcdpeer: %d blocks, %d txs, %.0f tx/s",
		st.blocks, st.txs, perSecond(st.txs, at.Seconds()))
}

// clear erases the progress line, if one was printed.
func (p *progressLine) clear() {
	if p.printed {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

func writeSummary(w io.Writer, r *result) error {
	var b strings.Builder
	fmt.Fprintf(&b, "btcd %s indexes (txindex + addrindex over ffldb), network %s\n", r.BtcdVersion, r.Network)
	fmt.Fprintf(&b, "  blocks              %d\n", r.Blocks)
	fmt.Fprintf(&b, "  transactions        %d\n", r.Txs)
	fmt.Fprintf(&b, "  inputs (non-cb)     %d\n", r.Inputs)
	fmt.Fprintf(&b, "  outputs             %d\n", r.Outputs)
	fmt.Fprintf(&b, "  seconds             %.3f (%.3f in db.Update, %.3f closing/flushing)\n",
		r.Seconds, r.UpdateSeconds, r.CloseSeconds)
	fmt.Fprintf(&b, "  tx/s                %.0f\n", r.TxPerSec)
	fmt.Fprintf(&b, "  (inputs+outputs)/s  %.0f\n", r.IOPerSec)
	if r.PeakRSSBytes > 0 {
		fmt.Fprintf(&b, "  peak RSS            %s\n", mib(r.PeakRSSBytes))
	} else {
		fmt.Fprintf(&b, "  peak RSS            n/a\n")
	}
	where := "removed"
	if r.DBKept {
		where = "in " + r.DBPath
	}
	fmt.Fprintf(&b, "  database on disk    %s (%s)\n", mib(r.DBBytes), where)
	fmt.Fprintf(&b, "  tx/s by segment     ")
	for i, rate := range r.SegmentsTxSec {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%.0f", rate)
	}
	b.WriteString("\n")
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	return nil
}

// mib formats a byte count in MiB with one decimal, using integers only.
func mib(n int64) string {
	tenths := (n*10 + 512*1024) / (1024 * 1024)
	return fmt.Sprintf("%d.%d MiB", tenths/10, tenths%10)
}
