package index

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"hash/maphash"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/btc"
)

// Problem is one violated invariant.
type Problem struct {
	Check  string `json:"check"`
	Detail string `json:"detail"`
}

// VerifyReport is the outcome of Verify.
type VerifyReport struct {
	Height        int64     `json:"height"`
	Hash          string    `json:"hash"`
	Blocks        int64     `json:"blocks"`
	Txs           uint64    `json:"txs"`
	Inputs        uint64    `json:"inputs"`
	Outputs       uint64    `json:"outputs"`
	Addresses     uint64    `json:"addresses"`
	OutputEntries uint64    `json:"output_entries"`
	Unspent       uint64    `json:"unspent_outputs"`
	UnspentValue  uint64    `json:"unspent_value"`
	Subsidies     uint64    `json:"claimed_subsidies"`
	Checks        []string  `json:"checks"`
	Problems      []Problem `json:"problems"`
}

// OK reports whether every invariant holds.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

const maxProblems = 50

// multiset is an order-independent digest of a multiset of records: the
// lane-wise sum of two seeded 64-bit hashes of each record. Two sides of an
// invariant are digested independently and compared; only when they differ
// is the slower pass that names the culprit needed.
type multiset struct {
	a, b uint64
	n    uint64
}

type hasher struct{ s1, s2 maphash.Seed }

func (h *hasher) add(m *multiset, rec []byte) {
	m.a += maphash.Bytes(h.s1, rec)
	m.b += maphash.Bytes(h.s2, rec)
	m.n++
}

// VerifyProgress reports the height reached by the transaction pass.
type VerifyProgress func(height, tip int64)

// Verify checks every invariant of the index and names what is wrong:
//
//   - blocks: every height has a block whose hash maps back to it, linked to
//     its parent, with as many transactions as it says;
//   - balance: every transaction's inputs equal its outputs plus its fee,
//     the coinbase pays at most subsidy plus fees, block fee totals match;
//   - outputs: the outputs table holds exactly one entry per addressed
//     output, under its address, with its value;
//   - spends: every input's recorded previous output (value, address) is
//     exactly that output, and every spent output names exactly the input
//     that spends it, later in the chain; nothing is spent twice;
//   - unspent: the unspent set (outputs not spent) holds exactly what the
//     coinbases claimed in subsidies, less what was burnt;
//   - history: an address's history is derived from its outputs, each spent
//     after it was received, so its balance is its unspent outputs; it is
//     right when the outputs and spends above are;
//   - txids and addresses: the lookup tables cover every transaction and
//     address and nothing else; the tip's counters match.
func (ix *Index) Verify(ctx context.Context, progress VerifyProgress) (*VerifyReport, error) {
	v := &verifier{ix: ix, tip: ix.Tip(), h: hasher{maphash.MakeSeed(), maphash.MakeSeed()}}
	v.rep.Height = v.tip.Height
	v.rep.Hash = v.tip.Hash.String()
	if v.tip.Height < 0 {
		v.rep.Hash = ""
		// An empty index holds nothing but its metadata.
		it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tMeta + 1}})
		if err != nil {
			return nil, err
		}
		if it.First() {
			v.problem("tip", "the index is empty but holds key %x", it.Key())
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
		v.rep.Checks = append(v.rep.Checks, "empty index")
		return &v.rep, nil
	}
	steps := []struct {
		name string
		fn   func(context.Context, VerifyProgress) error
	}{
		{"blocks", v.blocks},
		{"transactions and their balance", v.transactions},
		{"outputs, spends, unspent set and histories", v.outputs},
		{"txid index", v.txids},
		{"address index", v.addresses},
		{"tip counters", v.counters},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := s.fn(ctx, progress); err != nil {
			return nil, fmt.Errorf("index: verify %s: %w", s.name, err)
		}
		v.rep.Checks = append(v.rep.Checks, s.name)
	}
	return &v.rep, nil
}

type verifier struct {
	ix  *Index
	tip Tip
	h   hasher
	rep VerifyReport

	brecs []blockRecord // by height

	// Digests of the two sides of each invariant, from the transaction
	// records and from the outputs table.
	expOut, expSpend, expTxids multiset
	maxAddr                    AddrID
	burnt, subsidyClaims       uint64
}

func (v *verifier) problem(check, format string, args ...any) {
	if len(v.rep.Problems) < maxProblems {
		v.rep.Problems = append(v.rep.Problems, Problem{Check: check, Detail: fmt.Sprintf(format, args...)})
	}
}

func (v *verifier) blocks(ctx context.Context, _ VerifyProgress) error {
	ix := v.ix
	v.brecs = make([]blockRecord, v.tip.Height+1)
	var prev chainhash.Hash
	for h := int64(0); h <= v.tip.Height; h++ {
		if h%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var br blockRecord
		val, closer, err := ix.db.Get(blockKey(h))
		if err != nil {
			v.problem("blocks", "height %d has no block record", h)
			continue
		}
		err = decodeBlock(val, &br)
		closer.Close()
		if err != nil {
			v.problem("blocks", "height %d: %v", h, err)
			continue
		}
		v.rep.Blocks++
		v.brecs[h] = br
		if got, err := ix.HeightOf(br.Hash); err != nil || got != h {
			v.problem("blocks", "block %s at height %d is not found by its hash (got %d, %v)", br.Hash, h, got, err)
		}
		if h == 0 && br.Hash != ix.params.GenesisHash() {
			v.problem("blocks", "block 0 is %s, not the %s genesis block", br.Hash, ix.params.Network)
		}
		if h > 0 && br.Prev != prev {
			v.problem("blocks", "block %s at height %d has parent %s, but height %d is %s", br.Hash, h, br.Prev, h-1, prev)
		}
		prev = br.Hash
	}
	if prev != v.tip.Hash {
		v.problem("blocks", "tip is %s but the block at height %d is %s", v.tip.Hash, v.tip.Height, prev)
	}
	// The hash table holds exactly one entry per block.
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tHash}, UpperBound: []byte{tHash + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	n := int64(0)
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if n != v.rep.Blocks {
		v.problem("blocks", "the block-hash table holds %d entries for %d blocks", n, v.rep.Blocks)
	}
	return it.Error()
}

// outTuple and spendTuple are the records both sides digest.
func outTuple(b []byte, id AddrID, key TxKey, vout uint32, value uint64) []byte {
	b = outKey(b, id, key, vout)
	return binary.AppendUvarint(b, value)
}

func spendTuple(b []byte, id AddrID, key TxKey, vout uint32, value uint64, spender TxKey, vin uint32) []byte {
	b = outTuple(b, id, key, vout, value)
	b = binary.BigEndian.AppendUint64(b, uint64(spender))
	return binary.BigEndian.AppendUint32(b, vin)
}

func (v *verifier) transactions(ctx context.Context, progress VerifyProgress) error {
	var buf []byte
	n := len(v.brecs)
	txCount := make([]int, n)
	fees := make([]uint64, n)
	coinbaseOut := make([]uint64, n)
	ins, outs := make([]uint64, n), make([]uint64, n)
	lastHeight := int64(-1)
	var txids []chainhash.Hash
	// endBlock checks what a block's record says against its transactions.
	endBlock := func(h int64) {
		if h < 0 {
			return
		}
		br := &v.brecs[h]
		if root := btc.MerkleRoot(txids); br.TxCount > 0 && root != br.Merkle {
			v.problem("blocks", "block %s at height %d: its stored txids give merkle root %s, the header says %s", br.Hash, h, root, br.Merkle)
		}
		if br.Inputs != ins[h] || br.Outputs != outs[h] {
			v.problem("blocks", "block at height %d records %d inputs and %d outputs, its transactions have %d and %d", h, br.Inputs, br.Outputs, ins[h], outs[h])
		}
		txids = txids[:0]
	}
	err := v.ix.scanBlocks(0, v.tip.Height, true, func(r *TxRecord) error {
		h := r.Key.Height()
		if h != lastHeight {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if progress != nil && h%256 == 0 {
				progress(h, v.tip.Height)
			}
			endBlock(lastHeight)
			lastHeight = h
			// Address ids are handed out in order of first appearance, so
			// the block's first new id follows the highest one so far.
			if br := &v.brecs[h]; br.TxCount > 0 && br.FirstAddr != v.maxAddr+1 {
				v.problem("addresses", "block at height %d says its first new address id is %d, but the ids so far end at %d", h, br.FirstAddr, v.maxAddr)
			}
		}
		txids = append(txids, r.Txid)
		ins[h] += uint64(len(r.In))
		outs[h] += uint64(len(r.Out))
		if r.Key.Pos() != txCount[h] {
			v.problem("blocks", "height %d: transaction %d is stored at position %d", h, txCount[h], r.Key.Pos())
		}
		txCount[h]++
		v.rep.Txs++
		v.rep.Inputs += uint64(len(r.In))
		v.rep.Outputs += uint64(len(r.Out))
		if r.Coinbase != (r.Key.Pos() == 0) {
			v.problem("balance", "transaction %s at %d:%d: coinbase flag %v", r.Txid, h, r.Key.Pos(), r.Coinbase)
		}
		in, out := r.InputValue(), r.OutputValue()
		if r.Coinbase {
			coinbaseOut[h] = out
		} else if in < out {
			v.problem("balance", "transaction %s spends %d but pays out %d", r.Txid, in, out)
		} else {
			fees[h] += in - out
		}
		v.h.add(&v.expTxids, txidKey(buf[:0], r.Txid[:], r.Key))
		for i, x := range r.In {
			if x.Addr == 0 {
				v.problem("spends", "%s input %d spends an output without address", r.Txid, i)
			}
			if x.PrevKey >= r.Key {
				v.problem("spends", "%s input %d spends a later transaction", r.Txid, i)
			}
			v.h.add(&v.expSpend, spendTuple(buf[:0], x.Addr, x.PrevKey, x.Vout, x.Value, r.Key, uint32(i)))
			v.maxAddr = max(v.maxAddr, x.Addr)
		}
		for j, o := range r.Out {
			switch {
			case o.Addr != 0:
				v.h.add(&v.expOut, outTuple(buf[:0], o.Addr, r.Key, uint32(j), o.Value))
				v.maxAddr = max(v.maxAddr, o.Addr)
			case o.Type == codeOpReturn:
				v.burnt += o.Value // never spendable, never in the unspent set
			default:
				v.problem("outputs", "%s output %d of type %s has no address", r.Txid, j, ScriptTypeOf(o.Type))
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	endBlock(lastHeight)
	var totalCB, totalFees uint64
	for h := range txCount {
		if txCount[h] != v.brecs[h].TxCount {
			v.problem("blocks", "block at height %d says %d transactions, the index holds %d", h, v.brecs[h].TxCount, txCount[h])
		}
		if fees[h] != v.brecs[h].Fees {
			v.problem("balance", "block at height %d records fees %d, its transactions pay %d", h, v.brecs[h].Fees, fees[h])
		}
		limit := btc.Subsidy(v.ix.params, int64(h)) + fees[h]
		if coinbaseOut[h] > limit {
			v.problem("balance", "coinbase at height %d pays %d, more than subsidy and fees (%d)", h, coinbaseOut[h], limit)
		}
		totalCB += coinbaseOut[h]
		totalFees += fees[h]
	}
	// Fees move value from inputs into the coinbase, so what the coinbases
	// created beyond the fees is the subsidy claimed.
	v.subsidyClaims = totalCB - min(totalCB, totalFees)
	v.rep.Subsidies = v.subsidyClaims
	return nil
}

// outputs reads the outputs table once: its entries must be exactly the
// addressed outputs, its spends exactly the inputs.
func (v *verifier) outputs(ctx context.Context, _ VerifyProgress) error {
	it, err := v.ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tOut}, UpperBound: []byte{tOut + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	var gotOut, gotSpend multiset
	var buf []byte
	var lastID AddrID
	var ids uint64
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n++; n%(1<<16) == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		id, key, vout, good := parseOutKey(it.Key())
		if !good {
			v.problem("outputs", "malformed output key %x", it.Key())
			continue
		}
		if id != lastID {
			ids++
			lastID = id
		}
		var e OutEntry
		if err := decodeOutValue(key, it.Value(), &e); err != nil {
			v.problem("outputs", "output %d:%d:%d of address %s: %v", key.Height(), key.Pos(), vout, v.name(id), err)
			continue
		}
		v.rep.OutputEntries++
		v.h.add(&gotOut, outTuple(buf[:0], id, key, vout, e.Value))
		if e.Spent {
			v.h.add(&gotSpend, spendTuple(buf[:0], id, key, vout, e.Value, e.Spender, e.Vin))
		} else {
			v.rep.Unspent++
			v.rep.UnspentValue += e.Value
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	// Every address id is born with an output and leaves only with it.
	if ids != uint64(v.tip.NextAddr-1) {
		v.problem("addresses", "%d addresses have outputs, but the tip counts %d addresses", ids, v.tip.NextAddr-1)
	}
	if v.rep.UnspentValue+v.burnt != v.subsidyClaims {
		v.problem("unspent", "unspent outputs hold %d and burnt outputs %d, but the coinbases claimed %d in subsidies",
			v.rep.UnspentValue, v.burnt, v.subsidyClaims)
	}
	if gotOut == v.expOut && gotSpend == v.expSpend {
		return nil
	}
	if gotOut != v.expOut {
		v.problem("outputs", "the outputs table (%d entries) differs from the transactions' %d addressed outputs", gotOut.n, v.expOut.n)
	}
	if gotSpend != v.expSpend {
		v.problem("spends", "the spends recorded on outputs (%d) differ from the transactions' %d inputs", gotSpend.n, v.expSpend.n)
	}
	return v.locate(ctx)
}

// locate names the culprits once the digests differ: every output must
// have its entry, every input must be the recorded spender of the output
// it names, and every entry must belong to an output.
func (v *verifier) locate(ctx context.Context) error {
	ix := v.ix
	var buf []byte
	var prev TxRecord
	err := ix.scanBlocks(0, v.tip.Height, true, func(r *TxRecord) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		for j, o := range r.Out {
			if o.Addr == 0 {
				continue
			}
			val, closer, err := ix.db.Get(outKey(buf[:0], o.Addr, r.Key, uint32(j)))
			if err != nil {
				v.problem("outputs", "output %s:%d (value %d) of %s has no entry in the outputs table", r.Txid, j, o.Value, v.name(o.Addr))
				continue
			}
			var e OutEntry
			derr := decodeOutValue(r.Key, val, &e)
			closer.Close()
			if derr != nil || e.Value != o.Value {
				v.problem("outputs", "output %s:%d of %s: the table says value %d (%v), the transaction %d", r.Txid, j, v.name(o.Addr), e.Value, derr, o.Value)
			}
		}
		for i, in := range r.In {
			if err := ix.txByKey(in.PrevKey, &prev); err != nil || int(in.Vout) >= len(prev.Out) {
				v.problem("spends", "%s input %d spends %d:%d:%d, which is not in the index", r.Txid, i, in.PrevKey.Height(), in.PrevKey.Pos(), in.Vout)
				continue
			}
			o := prev.Out[in.Vout]
			if o.Value != in.Value || o.Addr != in.Addr || o.Type != in.Type {
				v.problem("spends", "%s input %d records %s:%d as value %d address %s, but that output is value %d address %s",
					r.Txid, i, prev.Txid, in.Vout, in.Value, v.name(in.Addr), o.Value, v.name(o.Addr))
			}
			spender, vin, ok, err := ix.spender(o.Addr, in.PrevKey, in.Vout)
			if err != nil || !ok || spender != r.Key || vin != uint32(i) {
				v.problem("spends", "%s:%d is spent by %s input %d, but its entry says spent %v by %d:%d input %d (%v)",
					prev.Txid, in.Vout, r.Txid, i, ok, spender.Height(), spender.Pos(), vin, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tOut}, UpperBound: []byte{tOut + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	var r TxRecord
	for ok := it.First(); ok; ok = it.Next() {
		id, key, vout, good := parseOutKey(it.Key())
		if !good {
			continue
		}
		if err := ix.txByKey(key, &r); err != nil || int(vout) >= len(r.Out) || r.Out[vout].Addr != id {
			v.problem("outputs", "outputs-table entry %d:%d:%d of %s names no output of that address", key.Height(), key.Pos(), vout, v.name(id))
			continue
		}
		var e OutEntry
		if decodeOutValue(key, it.Value(), &e) != nil || !e.Spent {
			continue
		}
		var sp TxRecord
		if err := ix.txByKey(e.Spender, &sp); err != nil || int(e.Vin) >= len(sp.In) ||
			sp.In[e.Vin].PrevKey != key || sp.In[e.Vin].Vout != vout {
			v.problem("spends", "output %s:%d says it is spent by %d:%d input %d, which spends something else", r.Txid, vout, e.Spender.Height(), e.Spender.Pos(), e.Vin)
		}
	}
	return it.Error()
}

func (v *verifier) name(id AddrID) string {
	s, err := v.ix.Address(id)
	if err != nil || s == "" {
		return fmt.Sprintf("#%d", id)
	}
	return s
}

func (v *verifier) txids(ctx context.Context, _ VerifyProgress) error {
	it, err := v.ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tTxid}, UpperBound: []byte{tTxid + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	var got multiset
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != txidKeyLen {
			v.problem("txids", "malformed txid key %x", k)
			continue
		}
		v.h.add(&got, k)
	}
	if err := it.Error(); err != nil {
		return err
	}
	if got == v.expTxids {
		return nil
	}
	v.problem("txids", "the txid index holds %d entries for %d transactions, or entries that differ", got.n, v.expTxids.n)
	var r TxRecord
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()
		if len(k) != txidKeyLen {
			continue
		}
		key := getTxKey6(k[1+txidPrefix:])
		if err := v.ix.txByKey(key, &r); err != nil || !bytes.Equal(r.Txid[:txidPrefix], k[1:1+txidPrefix]) {
			v.problem("txids", "txid index entry %x names no matching transaction", k)
		}
	}
	return v.ix.scanBlocks(0, v.tip.Height, true, func(r *TxRecord) error {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := v.ix.Record(r.Txid); err != nil {
			v.problem("txids", "transaction %s is not found by its txid", r.Txid)
		}
		return nil
	})
}

func (v *verifier) addresses(ctx context.Context, _ VerifyProgress) error {
	ix := v.ix
	chunks, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tAddrRev}, UpperBound: []byte{tAddrRev + 1}})
	if err != nil {
		return err
	}
	defer chunks.Close()
	var exp, got multiset
	var buf []byte
	next := AddrID(1)
	for ok := chunks.First(); ok; ok = chunks.Next() {
		k := chunks.Key()
		if len(k) != 1+addrIDLen {
			v.problem("addresses", "malformed address chunk key %x", k)
			continue
		}
		c := uint64(getAddrID(k[1:]))
		if first := firstOfChunk(c); first != next {
			v.problem("addresses", "address chunk %d starts at id %d, but the previous chunks end at %d", c, first, next-1)
			next = first
		}
		n, err := addrRecords(chunks.Value(), func(i int, a btc.Addr, _ []byte) bool {
			v.h.add(&exp, addrKey(buf[:0], a.Bytes(), next+AddrID(i)))
			return true
		})
		if err != nil {
			v.problem("addresses", "address chunk %d: %v", c, err)
		}
		if next+AddrID(n) > firstOfChunk(c+1) {
			v.problem("addresses", "address chunk %d holds %d records, more than fit", c, n)
		}
		next += AddrID(n)
		if next != firstOfChunk(c+1) && next != v.tip.NextAddr {
			v.problem("addresses", "address chunk %d is partial (%d records) but is not the last", c, n)
		}
	}
	if err := chunks.Error(); err != nil {
		return err
	}
	v.rep.Addresses = uint64(next - 1)
	if next != v.tip.NextAddr {
		v.problem("addresses", "the tip says %d addresses, the index holds %d", v.tip.NextAddr-1, next-1)
	}
	if v.maxAddr != v.tip.NextAddr-1 {
		v.problem("addresses", "transactions use address ids up to %d, the tip counts %d addresses", v.maxAddr, v.tip.NextAddr-1)
	}
	fwd, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tAddr}, UpperBound: []byte{tAddr + 1}})
	if err != nil {
		return err
	}
	defer fwd.Close()
	n := 0
	var prev []byte
	for ok := fwd.First(); ok; ok = fwd.Next() {
		if n++; n%(1<<16) == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		k := fwd.Key()
		v.h.add(&got, k)
		// Ids sharing a lookup prefix must be different addresses.
		if len(k) == addrKeyLen && len(prev) == addrKeyLen && bytes.Equal(k[:1+addrPrefix], prev[:1+addrPrefix]) {
			a1, _, err1 := ix.addrByID(getAddrID(prev[1+addrPrefix:]))
			a2, _, err2 := ix.addrByID(getAddrID(k[1+addrPrefix:]))
			if err1 == nil && err2 == nil && a1 == a2 {
				v.problem("addresses", "address %s has two ids, %d and %d", ix.params.EncodeAddr(a1), getAddrID(prev[1+addrPrefix:]), getAddrID(k[1+addrPrefix:]))
			}
		}
		prev = append(prev[:0], k...)
	}
	if got == exp {
		return nil
	}
	v.problem("addresses", "the address lookup table (%d entries) does not match the %d address records", got.n, exp.n)
	for ok := fwd.First(); ok; ok = fwd.Next() {
		k := fwd.Key()
		if len(k) != addrKeyLen {
			v.problem("addresses", "malformed address lookup key %x", k)
			continue
		}
		id := getAddrID(k[1+addrPrefix:])
		a, _, err := ix.addrByID(id)
		if err != nil || !bytes.Equal(addrKey(buf[:0], a.Bytes(), id), k) {
			v.problem("addresses", "address lookup entry %x does not match address record %d", k, id)
		}
	}
	for id := AddrID(1); id < v.tip.NextAddr; id++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		a, _, err := ix.addrByID(id)
		if err != nil {
			continue
		}
		if got, err := ix.lookupAddr(&a); err != nil || got != id {
			v.problem("addresses", "address %s (id %d) is not found by its lookup key", ix.params.EncodeAddr(a), id)
		}
	}
	return nil
}

func (v *verifier) counters(context.Context, VerifyProgress) error {
	t := v.tip
	if t.Txs != v.rep.Txs || t.Inputs != v.rep.Inputs || t.Outputs != v.rep.Outputs {
		v.problem("tip", "the tip counts %d transactions, %d inputs, %d outputs; the index holds %d, %d, %d",
			t.Txs, t.Inputs, t.Outputs, v.rep.Txs, v.rep.Inputs, v.rep.Outputs)
	}
	return nil
}
