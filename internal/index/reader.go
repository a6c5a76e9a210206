package index

import (
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// headerCache keeps decoded block records by height for readers. A
// rollback resets it and bumps its generation, so that a record read
// before the rollback is not cached after it.
type headerCache struct {
	mu  sync.Mutex
	m   map[int64]blockRecord
	gen uint64
}

func (c *headerCache) init() { c.m = make(map[int64]blockRecord) }

func (c *headerCache) reset() {
	c.mu.Lock()
	c.m = make(map[int64]blockRecord)
	c.gen++
	c.mu.Unlock()
}

const headerCacheMax = 1 << 16

// blockRecord returns the stored record of the block at height.
func (ix *Index) blockRecord(height int64) (blockRecord, error) {
	ix.headers.mu.Lock()
	b, ok := ix.headers.m[height]
	gen := ix.headers.gen
	ix.headers.mu.Unlock()
	if ok {
		return b, nil
	}
	if height < 0 || height > ix.Tip().Height {
		return blockRecord{}, fmt.Errorf("index: block at height %d: %w", height, chain.ErrNotFound)
	}
	v, closer, err := ix.db.Get(blockKey(height))
	if err != nil {
		return blockRecord{}, fmt.Errorf("index: block at height %d: %w", height, notFound(err))
	}
	err = decodeBlock(v, &b)
	closer.Close()
	if err != nil {
		return blockRecord{}, fmt.Errorf("index: block at height %d: %w", height, err)
	}
	ix.headers.mu.Lock()
	if len(ix.headers.m) >= headerCacheMax {
		ix.headers.m = make(map[int64]blockRecord)
	}
	if ix.headers.gen == gen {
		ix.headers.m[height] = b
	}
	ix.headers.mu.Unlock()
	return b, nil
}

// HeightOf returns the height of the block with the given hash.
func (ix *Index) HeightOf(hash chainhash.Hash) (int64, error) {
	v, closer, err := ix.db.Get(hashKey(hash[:]))
	if err != nil {
		return 0, fmt.Errorf("index: block %s: %w", hash, notFound(err))
	}
	defer closer.Close()
	if len(v) != 4 {
		return 0, fmt.Errorf("index: %w: height of block %s", ErrCorrupt, hash)
	}
	h := int64(binary.BigEndian.Uint32(v))
	if h > ix.Tip().Height {
		return 0, fmt.Errorf("index: block %s: %w", hash, chain.ErrNotFound)
	}
	// A stale row (a block rolled back and replaced) must not answer for
	// the block now at that height.
	if br, err := ix.blockRecord(h); err != nil || br.Hash != hash {
		return 0, fmt.Errorf("index: block %s: %w", hash, chain.ErrNotFound)
	}
	return h, nil
}

// Block returns the block at height, with its txids if withTxids.
func (ix *Index) Block(height int64, withTxids bool) (*chain.Block, error) {
	br, err := ix.blockRecord(height)
	if err != nil {
		return nil, err
	}
	b := &chain.Block{
		Ledger: ix.Ledger(), Height: height, Hash: br.Hash.String(), PrevHash: br.Prev.String(),
		Time: time.Unix(int64(br.Time), 0).UTC(), Version: br.Version, MerkleRoot: br.Merkle.String(),
		Bits: br.Bits, Nonce: br.Nonce, Size: br.Size, StrippedSize: br.Stripped, Weight: br.Weight,
		TxCount: br.TxCount, Fees: chain.Sats(br.Fees), Subsidy: chain.Sats(btc.Subsidy(ix.params, height)),
	}
	if height == 0 {
		b.PrevHash = ""
	}
	if next, err := ix.blockRecord(height + 1); err == nil {
		b.NextHash = next.Hash.String()
	}
	if withTxids {
		b.Txids = make([]string, 0, br.TxCount)
		err := ix.scanBlocks(height, height, true, func(r *TxRecord) error {
			b.Txids = append(b.Txids, r.Txid.String())
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Record returns the stored record of a transaction.
func (ix *Index) Record(txid chainhash.Hash) (*TxRecord, error) {
	var r TxRecord
	if _, err := ix.findTx(&txid, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// RecordByKey returns the stored record of the transaction at key.
func (ix *Index) RecordByKey(key TxKey) (*TxRecord, error) {
	if key.Height() > ix.Tip().Height {
		return nil, fmt.Errorf("index: transaction %d:%d: %w", key.Height(), key.Pos(), chain.ErrNotFound)
	}
	var r TxRecord
	if err := ix.txByKey(key, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// SpentBy returns the input that spends output vout of the transaction at
// key, which pays address id; ok is false while the output is unspent.
func (ix *Index) SpentBy(id AddrID, key TxKey, vout uint32) (spender TxKey, vin uint32, ok bool, err error) {
	return ix.spender(id, key, vout)
}

func (ix *Index) spender(id AddrID, key TxKey, vout uint32) (TxKey, uint32, bool, error) {
	if id == 0 {
		return 0, 0, false, nil
	}
	v, closer, err := ix.db.Get(outKey(nil, id, key, vout))
	if err != nil {
		return 0, 0, false, corrupt(notFound(err), "the entry of output %d:%d:%d", key.Height(), key.Pos(), vout)
	}
	defer closer.Close()
	var e OutEntry
	if err := decodeOutValue(key, v, &e); err != nil {
		return 0, 0, false, err
	}
	if !e.Spent || e.Spender.Height() > ix.Tip().Height {
		return 0, 0, false, nil
	}
	return e.Spender, e.Vin, true, nil
}

// txidOf returns the txid of the transaction at key.
func (ix *Index) txidOf(key TxKey) (chainhash.Hash, error) {
	var r TxRecord
	if err := ix.txByKey(key, &r); err != nil {
		return chainhash.Hash{}, corrupt(err, "transaction %d:%d", key.Height(), key.Pos())
	}
	return r.Txid, nil
}

// Address returns the textual form of an address id.
func (ix *Index) Address(id AddrID) (string, error) {
	if id == 0 {
		return "", nil
	}
	a, _, err := ix.addrByID(id)
	if err != nil {
		return "", err
	}
	return ix.params.EncodeAddr(a), nil
}

// AddrIDOf returns the id of an address, or an error wrapping
// chain.ErrNotFound if the index has never seen it.
func (ix *Index) AddrIDOf(a btc.Addr) (AddrID, error) {
	id, err := ix.lookupAddr(&a)
	if err != nil {
		return 0, err
	}
	if id == 0 || id >= ix.Tip().NextAddr {
		return 0, fmt.Errorf("index: address %s: %w", ix.params.EncodeAddr(a), chain.ErrNotFound)
	}
	return id, nil
}

// Tx returns a transaction with its inputs' previous outputs and its
// outputs' spending transactions resolved.
func (ix *Index) Tx(txid chainhash.Hash) (*chain.Tx, error) {
	r, err := ix.Record(txid)
	if err != nil {
		return nil, err
	}
	br, err := ix.blockRecord(r.Key.Height())
	if err != nil {
		return nil, err
	}
	t := &chain.Tx{
		Ledger: ix.Ledger(), Txid: r.Txid.String(), BlockHeight: r.Key.Height(), BlockHash: br.Hash.String(),
		Position: r.Key.Pos(), Time: time.Unix(int64(br.Time), 0).UTC(), Version: r.Version, LockTime: r.LockTime,
		Size: r.Size, VSize: (r.Weight + 3) / 4, Weight: r.Weight, Fee: chain.Sats(r.Fee()), Coinbase: r.Coinbase,
		InputValue: chain.Sats(r.InputValue()), OutputValue: chain.Sats(r.OutputValue()),
	}
	names := map[AddrID]string{}
	name := func(id AddrID) (string, error) {
		if s, ok := names[id]; ok {
			return s, nil
		}
		s, err := ix.Address(id)
		names[id] = s
		return s, err
	}
	if r.Coinbase {
		t.Inputs = []chain.Input{{N: 0, PrevVout: 0xffffffff, Sequence: r.CoinbaseSequence,
			CoinbaseScript: hex.EncodeToString(r.CoinbaseScript)}}
	}
	for i, in := range r.In {
		prev, err := ix.txidOf(in.PrevKey)
		if err != nil {
			return nil, err
		}
		addr, err := name(in.Addr)
		if err != nil {
			return nil, err
		}
		t.Inputs = append(t.Inputs, chain.Input{N: i, PrevTxid: prev.String(), PrevVout: in.Vout, Address: addr,
			ScriptType: ScriptTypeOf(in.Type), Value: chain.Sats(in.Value), Sequence: in.Sequence})
	}
	for i, o := range r.Out {
		out := chain.Output{N: uint32(i), ScriptType: ScriptTypeOf(o.Type), Value: chain.Sats(o.Value)}
		if o.Type == codeOpReturn {
			out.Data = hex.EncodeToString(o.Data)
		} else {
			if out.Address, err = name(o.Addr); err != nil {
				return nil, err
			}
			if ScriptTypeOf(o.Type) == chain.BareMultisig {
				if out.Multisig, err = ix.multisig(o.Addr); err != nil {
					return nil, err
				}
			}
		}
		spender, vin, ok, err := ix.SpentBy(o.Addr, r.Key, uint32(i))
		if err != nil {
			return nil, err
		}
		if ok {
			st, err := ix.txidOf(spender)
			if err != nil {
				return nil, err
			}
			out.SpentByTxid = st.String()
			out.SpentByVin = &vin
		}
		t.Outputs = append(t.Outputs, out)
	}
	return t, nil
}

func (ix *Index) multisig(id AddrID) (*chain.MultisigInfo, error) {
	_, script, err := ix.addrByID(id)
	if err != nil {
		return nil, err
	}
	m, keys, ok := btc.MultisigKeys(script)
	if !ok {
		return nil, nil
	}
	info := &chain.MultisigInfo{Required: m}
	for _, k := range keys {
		info.Keys = append(info.Keys, ix.params.EncodeAddr(k))
	}
	return info, nil
}

// Outputs calls fn for every output ever paid to id, in chain order, with
// its spender if it is spent (as of the committed tip), until fn returns
// false.
func (ix *Index) Outputs(id AddrID, fn func(OutEntry) bool) error {
	prefix := outPrefix(id)
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixUpperBound(prefix)})
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer it.Close()
	tipHeight := ix.Tip().Height
	for ok := it.SeekPrefixGE(prefix); ok; ok = it.Next() {
		_, key, vout, good := parseOutKey(it.Key())
		if !good {
			return fmt.Errorf("index: %w: output key %x", ErrCorrupt, it.Key())
		}
		if key.Height() > tipHeight {
			break
		}
		e := OutEntry{Key: key, Vout: vout}
		if err := decodeOutValue(key, it.Value(), &e); err != nil {
			return err
		}
		if e.Spent && e.Spender.Height() > tipHeight {
			e.Spent, e.Spender, e.Vin = false, 0, 0
		}
		if !fn(e) {
			break
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	return nil
}

// HistoryEntry is one transaction of an address's history.
type HistoryEntry struct {
	Key          TxKey
	Received     uint64
	Sent         uint64
	BalanceAfter uint64
}

// History returns id's history in chain order: every transaction that paid
// the address or spent one of its outputs, with what it received and sent
// and the balance after it, and the number of unspent outputs left.
func (ix *Index) History(id AddrID) ([]HistoryEntry, int, error) {
	type event struct {
		key        TxKey
		recv, sent uint64
	}
	var events []event
	unspent := 0
	err := ix.Outputs(id, func(e OutEntry) bool {
		events = append(events, event{key: e.Key, recv: e.Value})
		if e.Spent {
			events = append(events, event{key: e.Spender, sent: e.Value})
		} else {
			unspent++
		}
		return true
	})
	if err != nil {
		return nil, 0, err
	}
	slices.SortStableFunc(events, func(a, b event) int { return cmp.Compare(a.key, b.key) })
	var out []HistoryEntry
	var balance uint64
	for _, e := range events {
		if n := len(out); n > 0 && out[n-1].Key == e.key {
			out[n-1].Received += e.recv
			out[n-1].Sent += e.sent
		} else {
			out = append(out, HistoryEntry{Key: e.key, Received: e.recv, Sent: e.sent})
		}
	}
	for i := range out {
		if balance+out[i].Received < out[i].Sent {
			return nil, 0, fmt.Errorf("index: %w: address %d spends more than it received at %d:%d", ErrCorrupt, id, out[i].Key.Height(), out[i].Key.Pos())
		}
		balance = balance + out[i].Received - out[i].Sent
		out[i].BalanceAfter = balance
	}
	return out, unspent, nil
}

// Order of a history page.
type Order int

// History orders.
const (
	Oldest Order = iota // oldest first
	Newest              // newest first
)

// AddressSummary returns an address's totals and one page of its history.
func (ix *Index) AddressSummary(a btc.Addr, offset, limit int, order Order) (*chain.AddressSummary, error) {
	if offset < 0 || limit < 0 {
		return nil, fmt.Errorf("index: %w: negative offset or limit", chain.ErrInvalid)
	}
	id, err := ix.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	s := &chain.AddressSummary{Ledger: ix.Ledger(), Address: ix.params.EncodeAddr(a), Offset: offset, Limit: limit,
		ScriptType: addrScriptType(a), Txs: []chain.AddressTx{}}
	all, unspent, err := ix.History(id)
	if err != nil {
		return nil, err
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("index: address %s: %w", s.Address, chain.ErrNotFound)
	}
	var recv, sent uint64
	for _, e := range all {
		recv += e.Received
		sent += e.Sent
	}
	s.TotalReceived, s.TotalSent, s.Balance = chain.Sats(recv), chain.Sats(sent), chain.Sats(recv-sent)
	s.TxCount = len(all)
	s.UnspentCount = unspent
	first, last := all[0].Key.Height(), all[len(all)-1].Key.Height()
	s.FirstSeenHeight, s.LastSeenHeight = first, last
	if b, err := ix.blockRecord(first); err == nil {
		s.FirstSeen = time.Unix(int64(b.Time), 0).UTC()
	}
	if b, err := ix.blockRecord(last); err == nil {
		s.LastSeen = time.Unix(int64(b.Time), 0).UTC()
	}
	if order == Newest {
		slices.Reverse(all)
	}
	if offset < len(all) {
		page := all[offset:]
		if limit > 0 && len(page) > limit {
			page = page[:limit]
		}
		for _, e := range page {
			txid, err := ix.txidOf(e.Key)
			if err != nil {
				return nil, err
			}
			b, err := ix.blockRecord(e.Key.Height())
			if err != nil {
				return nil, err
			}
			s.Txs = append(s.Txs, chain.AddressTx{Txid: txid.String(), Height: e.Key.Height(),
				Time: time.Unix(int64(b.Time), 0).UTC(), Received: chain.Sats(e.Received), Sent: chain.Sats(e.Sent),
				BalanceAfter: chain.Sats(e.BalanceAfter)})
		}
	}
	return s, nil
}

func addrScriptType(a btc.Addr) chain.ScriptType {
	switch a.Kind {
	case btc.KindPubKeyHash:
		return chain.P2PKH
	case btc.KindScriptHash:
		return chain.P2SH
	case btc.KindWitnessV0Key:
		return chain.P2WPKH
	case btc.KindWitnessV0Sc:
		return chain.P2WSH
	case btc.KindTaproot:
		return chain.P2TR
	case btc.KindWitnessUnknown:
		return chain.WitnessUnknown
	case btc.KindScript:
		return "script"
	}
	return ""
}

// Unspent lists the unspent outputs of an address.
func (ix *Index) Unspent(a btc.Addr) ([]chain.Unspent, error) {
	id, err := ix.AddrIDOf(a)
	if err != nil {
		return nil, err
	}
	var out []chain.Unspent
	var ferr error
	err = ix.Outputs(id, func(e OutEntry) bool {
		if e.Spent {
			return true
		}
		txid, err := ix.txidOf(e.Key)
		if err != nil {
			ferr = err
			return false
		}
		out = append(out, chain.Unspent{Txid: txid.String(), Vout: e.Vout, Value: chain.Sats(e.Value), Height: e.Key.Height()})
		return true
	})
	if err == nil {
		err = ferr
	}
	return out, err
}

// BlockHash returns the hash of the block at height.
func (ix *Index) BlockHash(height int64) (chainhash.Hash, error) {
	b, err := ix.blockRecord(height)
	if err != nil {
		return chainhash.Hash{}, err
	}
	return b.Hash, nil
}

// BlockTime returns the header time of the block at height.
func (ix *Index) BlockTime(height int64) (time.Time, error) {
	b, err := ix.blockRecord(height)
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(int64(b.Time), 0).UTC(), nil
}

// TxidOf returns the txid of the transaction at key.
func (ix *Index) TxidOf(key TxKey) (chainhash.Hash, error) { return ix.txidOf(key) }
