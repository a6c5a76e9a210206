package index

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/cockroachdb/pebble"
	"github.com/cockroachdb/pebble/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/sstable"
	"github.com/cockroachdb/pebble/vfs"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// WriterOptions tune a Writer.
type WriterOptions struct {
	// BatchBytes commits the pending batch once it holds this many bytes
	// (default 32 MiB). Add commits on its own; Flush commits the rest.
	BatchBytes int
	// CacheTxs is the number of recent transactions per generation of the
	// unspent-output cache (default 1<<20).
	CacheTxs int
	// CacheAddrs is the number of addresses per generation of the address
	// cache (default 1<<21).
	CacheAddrs int
	// Sync makes every commit durable on disk before it returns (for
	// following a live node). Without it a commit survives a crash of the
	// process but not of the machine.
	Sync bool
	// Bulk sets the writer up for a long import. Each batch's transaction
	// chunks are written as a table of their own and linked into the
	// store, where they land in the bottom level, untouched by
	// compactions: chunks are nearly half of the data and are written in
	// key order, after everything else. And a Bloom filter of the stored
	// addresses (about 1.8 bytes per address, built when the writer
	// starts) spares a store lookup for each new address. A follower's
	// small batches are better off without either.
	Bulk bool
	// ExpectedAddrs sizes a bulk writer's address filter from the start
	// (each rebuild reads every stored address), e.g. from the size of
	// the blocks to import.
	ExpectedAddrs uint
}

// Writer appends blocks to the index and rolls them back. Blocks are
// buffered in an atomic batch together with the tip they lead to; a batch
// is committed when it is large enough, on Flush, and before Rollback.
type Writer struct {
	ix    *Index
	opt   WriterOptions
	batch *pebble.Batch
	tip   Tip // tip including the uncommitted blocks
	utxo  *utxoCache
	addrs *addrCache

	rec    TxRecord
	chunk  chunkWriter
	val    []byte
	tail   addrTail
	filter addrFilter

	stage      *stager    // the writes of the next batch, sorted at commit
	spare      *stager    // the other stager, free when no commit is in flight
	committing chan error // the commit in flight
	stats      WriterStats
	failed     error // a failed commit: the writer is unusable
	key        []byte
	closed     bool
}

// WriterStats counts the writer's trips to the store, which bound an
// import once the caches no longer hold what it needs.
type WriterStats struct {
	StoredOutputs  uint64 `json:"stored_output_lookups"`   // inputs whose output was not cached
	AddrLookups    uint64 `json:"address_lookups"`         // addresses not cached that the filter did not rule out
	AddrFound      uint64 `json:"address_lookups_found"`   // of those, addresses that were stored
	FilterRebuilds uint64 `json:"address_filter_rebuilds"` // times the address filter was rebuilt larger
	// CommitWait is how long the writer waited for pebble to take the
	// previous batch: when it is a large part of an import, the store's
	// write path (flushes, compactions) bounds the import.
	CommitWait time.Duration `json:"commit_wait_ns"`
}

// Stats returns the writer's counters.
func (w *Writer) Stats() WriterStats { return w.stats }

// NewWriter returns the index's single writer.
func (ix *Index) NewWriter(opt WriterOptions) (*Writer, error) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.writing {
		return nil, fmt.Errorf("index: %s already has a writer", ix.dir)
	}
	if opt.BatchBytes <= 0 {
		opt.BatchBytes = 32 << 20
	}
	if opt.CacheTxs <= 0 {
		opt.CacheTxs = 1 << 20
	}
	if opt.CacheAddrs <= 0 {
		opt.CacheAddrs = 1 << 21
	}
	w := &Writer{
		ix: ix, opt: opt, batch: ix.db.NewBatchWithSize(opt.BatchBytes + opt.BatchBytes/8), tip: ix.tip,
		stage: &stager{}, spare: &stager{},
		utxo: newUtxoCache(opt.CacheTxs), addrs: newAddrCache(opt.CacheAddrs),
	}
	if err := ix.dropChunksAbove(ix.tip.Height); err != nil {
		w.batch.Close()
		return nil, err
	}
	// Tables of an interrupted commit that were never ingested.
	if err := os.RemoveAll(filepath.Join(ix.dir, ingestDir)); err != nil {
		w.batch.Close()
		return nil, fmt.Errorf("index: %w", err)
	}
	if err := w.loadTail(); err != nil {
		w.batch.Close()
		return nil, err
	}
	if opt.Bulk {
		if err := w.buildFilter(); err != nil {
			w.batch.Close()
			return nil, err
		}
	}
	ix.writing = true
	return w, nil
}

// Tip returns the tip including blocks added but not yet committed.
func (w *Writer) Tip() Tip { return w.tip }

// Close commits what is pending and releases the writer.
func (w *Writer) Close() error {
	if w.closed {
		return nil
	}
	err := w.Flush()
	w.batch.Close()
	w.closed = true
	w.ix.mu.Lock()
	w.ix.writing = false
	w.ix.mu.Unlock()
	return err
}

// Flush commits the pending batch with its tip and waits until every
// batch is committed.
func (w *Writer) Flush() error { return w.commit(true) }

// commit hands the pending batch to a committing goroutine, so that the
// next batch is staged while pebble applies this one. Before that it waits
// for the previous commit: the caches drop only what is committed, since
// the writer reads the store for what they miss. With wait, it also waits
// for this commit.
func (w *Writer) commit(wait bool) error {
	if err := w.waitCommit(); err != nil {
		return err
	}
	if w.batch.Empty() && w.stage.len() == 0 {
		return nil
	}
	w.utxo.rotate()
	w.addrs.rotate()
	w.set(keyTip, w.tip.encode())
	opt := pebble.NoSync
	if w.opt.Sync {
		opt = pebble.Sync
	}
	// The committing goroutine takes the staged writes and the batch; the
	// writer stages the next batch into the spare stager meanwhile.
	b, tip, st := w.batch, w.tip, w.stage
	w.stage, w.spare = w.spare, nil
	done := make(chan error, 1)
	go func() {
		err := w.ix.commitStaged(b, st, tip, opt, w.opt.Bulk)
		b.Close()
		w.spare = st
		done <- err
	}()
	w.committing = done
	// A fresh batch of the full size: a reused one would drop its large
	// buffer and grow it again by copying.
	w.batch = w.ix.db.NewBatchWithSize(w.opt.BatchBytes + w.opt.BatchBytes/8)
	full := w.filter.f != nil && w.filter.n > w.filter.limit
	if wait || full {
		if err := w.waitCommit(); err != nil {
			return err
		}
	}
	if full {
		w.stats.FilterRebuilds++
		return w.buildFilter() // reads the store: everything is committed
	}
	return nil
}

// commitStaged commits the staged writes with the tip: chunks first, as a
// table of their own when ingest is set, then the batch with everything
// else. A crash between the two leaves chunks above the committed tip,
// which no reader looks at and the next writer removes.
func (ix *Index) commitStaged(b *pebble.Batch, st *stager, tip Tip, opt *pebble.WriteOptions, ingest bool) error {
	fail := func(err error) error { return fmt.Errorf("index: commit at height %d: %w", tip.Height, err) }
	var sst *sstable.Writer
	var path string
	if ingest {
		ix.ingests++
		path = filepath.Join(ix.dir, ingestDir, fmt.Sprintf("%d.sst", ix.ingests))
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return fail(err)
		}
		f, err := vfs.Default.Create(path)
		if err != nil {
			return fail(err)
		}
		sst = sstable.NewWriter(objstorageprovider.NewFileWritable(f),
			ix.opts.MakeWriterOptions(len(ix.opts.Levels)-1, ix.db.FormatMajorVersion().MaxTableFormat()))
		defer os.Remove(path) // pebble links it into the store
	}
	if err := st.sortInto(b, tChunk, sst); err != nil {
		if sst != nil {
			sst.Close()
		}
		return fail(err)
	}
	if sst != nil {
		empty := sst.EstimatedSize() == 0
		if err := sst.Close(); err != nil {
			return fail(err)
		}
		meta, err := sst.Metadata()
		if err != nil {
			return fail(err)
		}
		if meta.HasPointKeys && !empty {
			if err := ix.db.Ingest([]string{path}); err != nil {
				return fail(err)
			}
		}
	}
	if err := b.Commit(opt); err != nil {
		return fail(err)
	}
	ix.mu.Lock()
	ix.tip = tip
	ix.mu.Unlock()
	return nil
}

// ingestDir, inside the store's directory, holds the tables being written
// for ingestion.
const ingestDir = "ingest"

// dropChunksAbove deletes transaction chunks above height, left by a crash
// between an ingested table and its batch, and flushes the deletions so
// that later tables ingest without overlapping the memtable.
func (ix *Index) dropChunksAbove(height int64) error {
	lo := chunkKey(nil, height+1, 0)
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: []byte{tChunk + 1}})
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	b := ix.db.NewBatch()
	defer b.Close()
	for ok := it.First(); ok; ok = it.Next() {
		b.Delete(it.Key(), nil)
	}
	if err := it.Close(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if b.Empty() {
		return nil
	}
	ix.log.Warn("removing transaction chunks above the tip, left by an interrupted commit", "tip", height, "keys", b.Count())
	if err := b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err := ix.db.Flush(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// waitCommit waits for the commit in flight, if any.
func (w *Writer) waitCommit() error {
	if w.committing == nil {
		return nil
	}
	t0 := time.Now()
	err := <-w.committing
	w.stats.CommitWait += time.Since(t0)
	w.committing = nil
	if err != nil {
		w.failed = err
	}
	return w.failed
}

// Sync makes everything committed so far durable on disk.
func (w *Writer) Sync() error {
	if err := w.Flush(); err != nil {
		return err
	}
	if err := w.ix.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("index: sync: %w", err)
	}
	return nil
}

func (w *Writer) set(key, value []byte) { w.stage.set(key, value) }

// Add appends block b at the tip. b must extend the tip (or be the
// network's genesis block on an empty index). On error nothing of b is
// written and the blocks added before it are committed. Add checks what an
// index needs (the chain links, every input spends a known output, values
// add up); it does not validate consensus rules, and a double spend across
// uncommitted blocks is caught by Verify, not here.
func (w *Writer) Add(b *btc.Block) error {
	if w.failed != nil {
		return w.failed
	}
	height := w.tip.Height + 1
	if w.tip.Height < 0 {
		if b.Hash != w.ix.params.GenesisHash() {
			return fmt.Errorf("index: %w: block %s is not the %s genesis block", ErrInconsistent, b.Hash, w.ix.params.Network)
		}
	} else if b.Header.PrevBlock != w.tip.Hash {
		return fmt.Errorf("index: %w: block %s (parent %s) does not extend the tip %s at height %d",
			ErrInconsistent, b.Hash, b.Header.PrevBlock, w.tip.Hash, w.tip.Height)
	}
	if len(b.Txs) > maxPos+1 {
		return fmt.Errorf("index: %w: block %s has %d transactions", ErrInconsistent, b.Hash, len(b.Txs))
	}
	if height >= 1<<(8*txKeyLen-posBits) {
		return fmt.Errorf("index: %w: height %d out of range", ErrInconsistent, height)
	}
	br := blockRecord{
		Hash: b.Hash, Prev: b.Header.PrevBlock, Merkle: b.Header.MerkleRoot,
		Version: b.Header.Version, Time: uint32(b.Header.Timestamp.Unix()), Bits: b.Header.Bits, Nonce: b.Header.Nonce,
		Size: b.Size, Stripped: b.StrippedSize, Weight: b.Weight, TxCount: len(b.Txs), FirstAddr: w.tip.NextAddr,
	}
	// Work on a copy of the tip: it becomes the writer's tip only when the
	// whole block has been staged.
	mark := w.stage.mark()
	tip := w.tip
	var coinbaseOut uint64
	w.chunk.reset()
	for i := range b.Txs {
		tx := &b.Txs[i]
		key := MakeTxKey(height, i)
		if err := w.stageTx(tx, key, &tip, &br); err != nil {
			w.abort(mark)
			return fmt.Errorf("index: block %s at height %d: %w", b.Hash, height, err)
		}
		if tx.Coinbase {
			coinbaseOut = w.rec.OutputValue()
		}
		w.chunk.add(&w.rec)
		if w.chunk.n == chunkTxs || i == len(b.Txs)-1 {
			w.key = chunkKey(w.key, height, i/chunkTxs)
			w.val = w.chunk.encode(w.val)
			w.set(w.key, w.val)
			w.chunk.reset()
		}
	}
	if limit := btc.Subsidy(w.ix.params, height) + br.Fees; coinbaseOut > limit && height > 0 {
		w.abort(mark)
		return fmt.Errorf("index: %w: block %s coinbase pays %d, more than subsidy and fees (%d)", ErrInconsistent, b.Hash, coinbaseOut, limit)
	}
	w.flushTail()
	w.set(blockKey(height), br.encode())
	var hv [4]byte
	binary.BigEndian.PutUint32(hv[:], uint32(height))
	w.set(hashKey(b.Hash[:]), hv[:])
	tip.Height = height
	tip.Hash = b.Hash
	w.tip = tip
	if w.stage.len()+w.batch.Len() >= w.opt.BatchBytes {
		return w.commit(false)
	}
	return nil
}

// abort discards what a failed block staged and commits the blocks added
// before it, so that the tip stays where the last good block left it. The
// caches and the address chunk may hold entries of the failed block; they
// are rebuilt from the store. If that fails, the writer refuses further
// work.
func (w *Writer) abort(mark stageMark) {
	w.stage.truncate(mark)
	err := w.commit(true)
	w.utxo = newUtxoCache(w.opt.CacheTxs)
	w.addrs = newAddrCache(w.opt.CacheAddrs)
	if err == nil {
		err = w.loadTail()
	}
	if err != nil && w.failed == nil {
		w.failed = fmt.Errorf("index: after a failed block: %w", err)
	}
}

// stageTx resolves tx's inputs and addresses into w.rec and stages every
// table entry of the transaction in the batch.
func (w *Writer) stageTx(tx *btc.Tx, key TxKey, tip *Tip, br *blockRecord) error {
	r := &w.rec
	r.Key = key
	r.Txid = tx.Txid
	r.Coinbase = tx.Coinbase
	r.Segwit = tx.Segwit
	r.Version = tx.Version
	r.LockTime = tx.LockTime
	r.Size = tx.Size
	r.Weight = tx.Weight
	r.CoinbaseScript = nil
	r.In = r.In[:0]
	r.Out = r.Out[:0]
	if tx.Coinbase {
		r.CoinbaseScript = tx.CoinbaseScript
		r.CoinbaseSequence = tx.In[0].Sequence
	} else {
		for j := range tx.In {
			in := &tx.In[j]
			prevKey, out, err := w.resolve(&in.PrevTxid, in.PrevVout)
			if err != nil {
				return fmt.Errorf("transaction %s input %d: %w", tx.Txid, j, err)
			}
			r.In = append(r.In, InRecord{PrevKey: prevKey, Vout: in.PrevVout, Sequence: in.Sequence,
				Value: out.value, Addr: out.addr, Type: out.typ})
			// The spent output's entry gains its spender.
			w.key = outKey(w.key, out.addr, prevKey, in.PrevVout)
			w.val = appendOutValue(w.val[:0], out.value, key-prevKey, uint32(j))
			w.set(w.key, w.val)
		}
	}
	for j := range tx.Out {
		o := &tx.Out[j]
		code := scriptCodes[o.Type]
		rec := OutRecord{Value: o.Value, Type: code}
		if code == codeOpReturn {
			rec.Data = o.Script
		} else {
			id, err := w.addrID(&o.Addr, o.Script, tip)
			if err != nil {
				return err
			}
			rec.Addr = id
			w.key = outKey(w.key, id, key, uint32(j))
			w.val = appendOutValue(w.val[:0], o.Value, 0, 0)
			w.set(w.key, w.val)
		}
		r.Out = append(r.Out, rec)
	}
	in, out := r.InputValue(), r.OutputValue()
	if !tx.Coinbase && in < out {
		return fmt.Errorf("transaction %s spends %d but pays out %d", tx.Txid, in, out)
	}
	br.Fees += r.Fee()
	br.Inputs += uint64(len(r.In))
	br.Outputs += uint64(len(r.Out))
	tip.Txs++
	tip.Inputs += uint64(len(r.In))
	tip.Outputs += uint64(len(r.Out))
	w.key = txidKey(w.key, tx.Txid[:], key)
	w.set(w.key, nil)
	w.utxo.add(tx.Txid, key, r.Out)
	return nil
}

// resolve finds the output an input spends: in the cache of recent
// transactions, else in the store.
func (w *Writer) resolve(txid *chainhash.Hash, vout uint32) (TxKey, utxoOut, error) {
	key, out, found, double := w.utxo.spend(txid, vout)
	if double {
		return 0, utxoOut{}, fmt.Errorf("%w: output %s:%d does not exist or is already spent", ErrInconsistent, txid, vout)
	}
	if found {
		return key, out, nil
	}
	w.stats.StoredOutputs++
	key, o, err := w.ix.storedOutput(txid, vout)
	if err != nil {
		return 0, utxoOut{}, err
	}
	return key, utxoOut{value: o.Value, addr: o.Addr, typ: o.Type}, nil
}

// addrID returns the id of a, assigning the next id to a new address.
func (w *Writer) addrID(a *btc.Addr, script []byte, tip *Tip) (AddrID, error) {
	if id, ok := w.addrs.get(a); ok {
		return id, nil
	}
	var id AddrID
	if w.mayExist(a) {
		w.stats.AddrLookups++
		var err error
		if id, err = w.ix.lookupAddr(a); err != nil {
			return 0, err
		}
		if id != 0 {
			w.stats.AddrFound++
		}
	}
	if id == 0 {
		id = tip.NextAddr
		tip.NextAddr++
		w.newAddr(id, a, script)
	}
	w.addrs.put(a, id)
	return id, nil
}

// storedOutput reads output vout of txid from the store and checks that it
// is unspent.
func (ix *Index) storedOutput(txid *chainhash.Hash, vout uint32) (TxKey, OutRecord, error) {
	var r TxRecord
	key, err := ix.findTx(txid, &r)
	if err != nil {
		return 0, OutRecord{}, fmt.Errorf("%w: input spends unknown transaction %s", ErrInconsistent, txid)
	}
	if int(vout) >= len(r.Out) || r.Out[vout].Type == codeOpReturn {
		return 0, OutRecord{}, fmt.Errorf("%w: transaction %s has no spendable output %d", ErrInconsistent, txid, vout)
	}
	o := r.Out[vout]
	if _, _, spent, err := ix.spender(o.Addr, key, vout); err != nil || spent {
		return 0, OutRecord{}, fmt.Errorf("%w: output %s:%d is already spent (%v)", ErrInconsistent, txid, vout, err)
	}
	o.Data = nil
	return key, o, nil
}

// findTx finds the transaction txid and decodes it into r. Of duplicate
// txids (two mainnet coinbases before BIP30) the latest wins, as in Core.
func (ix *Index) findTx(txid *chainhash.Hash, r *TxRecord) (TxKey, error) {
	prefix := append([]byte{tTxid}, txid[:txidPrefix]...)
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixUpperBound(prefix)})
	if err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	defer it.Close()
	found := false
	var key TxKey
	for ok := it.SeekPrefixGE(prefix); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != txidKeyLen {
			return 0, fmt.Errorf("index: %w: txid key %x", ErrCorrupt, k)
		}
		cand := getTxKey6(k[len(prefix):])
		if err := ix.txByKey(cand, r); err != nil {
			return 0, corrupt(err, "the txid index names transaction %d:%d", cand.Height(), cand.Pos())
		}
		if r.Txid == *txid {
			found, key = true, cand
		}
	}
	if err := it.Error(); err != nil {
		return 0, fmt.Errorf("index: %w", err)
	}
	if !found {
		return 0, fmt.Errorf("index: transaction %s: %w", txid, chain.ErrNotFound)
	}
	if r.Key != key {
		if err := ix.txByKey(key, r); err != nil {
			return 0, err
		}
	}
	return key, nil
}

// txByKey decodes the transaction at key into r.
func (ix *Index) txByKey(key TxKey, r *TxRecord) error {
	v, closer, err := ix.db.Get(chunkKey(nil, key.Height(), key.Pos()/chunkTxs))
	if err != nil {
		return fmt.Errorf("index: transaction %d:%d: %w", key.Height(), key.Pos(), notFound(err))
	}
	defer closer.Close()
	want := key.Pos() % chunkTxs
	c, err := openChunk(v, key-TxKey(want))
	if err != nil {
		return err
	}
	if want >= c.n {
		return fmt.Errorf("index: transaction %d:%d: %w", key.Height(), key.Pos(), chain.ErrNotFound)
	}
	for i := 0; i < want; i++ {
		if err := c.skip(); err != nil {
			return err
		}
	}
	if err := c.next(r, true); err != nil {
		return err
	}
	// The record may alias pebble's buffer, which closer releases.
	r.CoinbaseScript = slices.Clone(r.CoinbaseScript)
	for i := range r.Out {
		r.Out[i].Data = slices.Clone(r.Out[i].Data)
	}
	return nil
}

// corrupt turns a miss on a lookup that stored data led to into damage:
// such a record must exist.
func corrupt(err error, format string, args ...any) error {
	if errors.Is(err, chain.ErrNotFound) {
		return fmt.Errorf("index: %w: %s, which is missing", ErrCorrupt, fmt.Sprintf(format, args...))
	}
	return err
}

func notFound(err error) error {
	if err == pebble.ErrNotFound {
		return chain.ErrNotFound
	}
	return err
}
