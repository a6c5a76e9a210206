package evmindex

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

// each calls fn with the key and value of every record in [lower, upper),
// in key order (desc: reversed), until fn returns false or an error.
func (ix *Index) each(lower, upper []byte, desc bool, fn func(k, v []byte) (bool, error)) error {
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("evmindex: %w", err)
	}
	defer it.Close()
	first, next := it.First, it.Next
	if desc {
		first, next = it.Last, it.Prev
	}
	for ok := first(); ok; ok = next() {
		more, err := fn(it.Key(), it.Value())
		if err != nil || !more {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("evmindex: %w", err)
	}
	return nil
}

// get reads one value; a missing key wraps chain.ErrNotFound with what.
func (ix *Index) get(key []byte, what string, fn func(v []byte) error) error {
	v, closer, err := ix.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return fmt.Errorf("evmindex: %w: %s", chain.ErrNotFound, what)
	}
	if err != nil {
		return fmt.Errorf("evmindex: %s: %w", what, err)
	}
	defer closer.Close()
	return fn(v)
}

// Block returns the block at height.
func (ix *Index) Block(height uint64) (Block, error) {
	r, err := ix.blockRecord(height)
	return r.Block, err
}

func (ix *Index) blockRecord(height uint64) (blockRecord, error) {
	var r blockRecord
	err := ix.get(blockKey(height), fmt.Sprintf("block %d", height), func(v []byte) (err error) {
		r, err = decodeBlock(height, v)
		return err
	})
	return r, err
}

// FirstBlock returns the height of the index's first block (an import
// may start above 0); an empty index wraps chain.ErrNotFound.
func (ix *Index) FirstBlock() (uint64, error) {
	it, err := ix.db.NewIter(&pebble.IterOptions{LowerBound: []byte{tBlock}, UpperBound: []byte{tBlock + 1}})
	if err != nil {
		return 0, fmt.Errorf("evmindex: %w", err)
	}
	defer it.Close()
	if !it.First() {
		if err := it.Error(); err != nil {
			return 0, fmt.Errorf("evmindex: %w", err)
		}
		return 0, fmt.Errorf("evmindex: %w: the index holds no block", chain.ErrNotFound)
	}
	if len(it.Key()) != 9 {
		return 0, fmt.Errorf("evmindex: %w: block key", ErrCorrupt)
	}
	return binary.BigEndian.Uint64(it.Key()[1:]), nil
}

// BlockByHash returns the block with hash h.
func (ix *Index) BlockByHash(h eth.Hash) (Block, error) {
	var height uint64
	err := ix.get(blockHashKey(h), "block "+h.String(), func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("evmindex: %w: block hash record", ErrCorrupt)
		}
		height = binary.BigEndian.Uint64(v)
		return nil
	})
	if err != nil {
		return Block{}, err
	}
	return ix.Block(height)
}

// TxKeyOfHash returns the key of the transaction with hash h.
func (ix *Index) TxKeyOfHash(h eth.Hash) (TxKey, error) {
	var k TxKey
	err := ix.get(txHashKey(h), "transaction "+h.String(), func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("evmindex: %w: transaction hash record", ErrCorrupt)
		}
		k = TxKey(binary.BigEndian.Uint64(v))
		return nil
	})
	return k, err
}

// Tx returns the transaction with hash h.
func (ix *Index) Tx(h eth.Hash) (*Tx, error) {
	k, err := ix.TxKeyOfHash(h)
	if err != nil {
		return nil, err
	}
	return ix.TxByKey(k)
}

// TxByKey returns the record at k: a transaction, or the opening or
// block-end slot of a block (Hash zero).
func (ix *Index) TxByKey(k TxKey) (*Tx, error) {
	var t *Tx
	err := ix.get(txKey(k), "transaction "+k.String(), func(v []byte) (err error) {
		t, err = decodeTx(k, v)
		return err
	})
	return t, err
}

// Scan calls fn with every record (transactions and the opening and
// block-end slots) of blocks from..to inclusive, in chain order; an error
// from fn ends the scan and is returned.
func (ix *Index) Scan(from, to uint64, fn func(*Tx) error) error {
	if to < from {
		return nil
	}
	upper := append(txKey(MakeTxKey(to, SlotBlockEnd)), 0)
	return ix.each(txKey(MakeTxKey(from, 0)), upper, false, func(k, v []byte) (bool, error) {
		if len(k) != 9 {
			return false, fmt.Errorf("evmindex: %w: transaction key of %d bytes", ErrCorrupt, len(k))
		}
		t, err := decodeTx(TxKey(binary.BigEndian.Uint64(k[1:])), v)
		if err != nil {
			return false, err
		}
		return true, fn(t)
	})
}

// AddrID returns the id of an address; an address the index has not seen
// wraps chain.ErrNotFound.
func (ix *Index) AddrID(a eth.Address) (AddrID, error) {
	var id AddrID
	err := ix.get(addrKey(a), "address "+a.String(), func(v []byte) error {
		if len(v) != 8 {
			return fmt.Errorf("evmindex: %w: address id record", ErrCorrupt)
		}
		id = AddrID(binary.BigEndian.Uint64(v))
		return nil
	})
	return id, err
}

// Address returns what the index knows of address id.
func (ix *Index) Address(id AddrID) (Address, error) {
	var a Address
	err := ix.get(addrIDKey(id), fmt.Sprintf("address id %d", id), func(v []byte) (err error) {
		a, err = decodeAddress(id, v)
		return err
	})
	return a, err
}

// Asset returns asset id; the native coin is described by the index's
// Meta.
func (ix *Index) Asset(id AssetID) (Asset, error) {
	if id == Native {
		return Asset{ID: Native, Symbol: ix.meta.Symbol, Name: ix.meta.Symbol, Decimals: 18, MetadataOK: true}, nil
	}
	var a Asset
	err := ix.get(assetKey(id), fmt.Sprintf("asset %d", id), func(v []byte) (err error) {
		a, err = decodeAsset(id, v)
		return err
	})
	return a, err
}

// AssetByContract returns the token asset of a contract.
func (ix *Index) AssetByContract(c eth.Address) (Asset, error) {
	var id AssetID
	err := ix.get(assetAddrKey(c), "token "+c.String(), func(v []byte) error {
		if len(v) != 4 {
			return fmt.Errorf("evmindex: %w: token id record", ErrCorrupt)
		}
		id = AssetID(binary.BigEndian.Uint32(v))
		return nil
	})
	if err != nil {
		return Asset{}, err
	}
	return ix.Asset(id)
}

// Assets calls fn with the native coin and every token, in id order, until
// fn returns false.
func (ix *Index) Assets(fn func(Asset) bool) error {
	native, _ := ix.Asset(Native)
	if !fn(native) {
		return nil
	}
	return ix.each([]byte{tAsset}, []byte{tAsset + 1}, false, func(k, v []byte) (bool, error) {
		if len(k) != 5 {
			return false, fmt.Errorf("evmindex: %w: asset key", ErrCorrupt)
		}
		a, err := decodeAsset(AssetID(binary.BigEndian.Uint32(k[1:])), v)
		if err != nil {
			return false, err
		}
		return fn(a), nil
	})
}

// Ledger calls fn with address id's entries in asset with Key >= from, in
// chain order, until fn returns false.
func (ix *Index) Ledger(id AddrID, asset AssetID, from TxKey, fn func(Entry) bool) error {
	p := entryPrefix(id, asset)
	return ix.each(be64(bytes.Clone(p), uint64(from)), prefixEnd(p), false, entries(fn))
}

// LedgerDesc calls fn with address id's entries in asset with Key < before
// (before 0: every entry), newest first, until fn returns false.
func (ix *Index) LedgerDesc(id AddrID, asset AssetID, before TxKey, fn func(Entry) bool) error {
	p := entryPrefix(id, asset)
	upper := prefixEnd(p)
	if before != 0 {
		upper = be64(bytes.Clone(p), uint64(before))
	}
	return ix.each(p, upper, true, entries(fn))
}

// entries decodes ledger records for fn.
func entries(fn func(Entry) bool) func(k, v []byte) (bool, error) {
	return func(k, v []byte) (bool, error) {
		e, err := decodeEntry(k, v)
		if err != nil {
			return false, err
		}
		return fn(e), nil
	}
}

// BalanceAt returns address id's balance of asset after every entry with
// Key <= at.
func (ix *Index) BalanceAt(id AddrID, asset AssetID, at TxKey) (Balance, error) {
	var b Balance
	err := ix.LedgerDesc(id, asset, at+1, func(e Entry) bool {
		b = e.Balance
		return false
	})
	return b, err
}

// HoldingInfo summarises an address's ledger in one asset.
type HoldingInfo struct {
	Asset   AssetID
	Balance Balance
	Entries uint64
	// In and Out are the totals received and sent (fees included in Out);
	// they may exceed 256 bits.
	In, Out     *big.Int
	First, Last TxKey
}

// Holdings returns address id's ledgers, one per asset, in asset order.
func (ix *Index) Holdings(id AddrID) ([]HoldingInfo, error) {
	p := be64([]byte{tHolding}, uint64(id))
	var out []HoldingInfo
	err := ix.each(p, prefixEnd(p), false, func(k, v []byte) (bool, error) {
		if len(k) != 13 {
			return false, fmt.Errorf("evmindex: %w: holding key", ErrCorrupt)
		}
		h, err := decodeHolding(v)
		if err != nil {
			return false, err
		}
		out = append(out, HoldingInfo{Asset: AssetID(binary.BigEndian.Uint32(k[9:])), Balance: h.Balance, Entries: h.Entries,
			In: h.In, Out: h.Out, First: h.First, Last: h.Last})
		return true, nil
	})
	return out, err
}

// Holding returns address id's ledger summary in one asset; an empty
// ledger wraps chain.ErrNotFound.
func (ix *Index) Holding(id AddrID, asset AssetID) (HoldingInfo, error) {
	var h holding
	err := ix.get(holdingKey(id, asset), fmt.Sprintf("ledger of address %d in asset %d", id, asset), func(v []byte) (err error) {
		h, err = decodeHolding(v)
		return err
	})
	if err != nil {
		return HoldingInfo{}, err
	}
	return HoldingInfo{Asset: asset, Balance: h.Balance, Entries: h.Entries, In: h.In, Out: h.Out, First: h.First, Last: h.Last}, nil
}

// unseen returns, each once and in their order, the items of xs for which
// known reports false; a failing lookup ends it.
func unseen[T comparable](xs []T, known func(T) (bool, error)) ([]T, error) {
	var out []T
	seen := map[T]bool{}
	for _, x := range xs {
		if seen[x] {
			continue
		}
		seen[x] = true
		ok, err := known(x)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, x)
		}
	}
	return out, nil
}

// found turns a lookup's error into whether it found something.
func found(err error) (bool, error) {
	if errors.Is(err, chain.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// NewAddresses returns those of addrs the index has not seen, each once, in
// their order.
func (ix *Index) NewAddresses(addrs []eth.Address) ([]eth.Address, error) {
	return unseen(addrs, func(a eth.Address) (bool, error) {
		_, err := ix.AddrID(a)
		return found(err)
	})
}

// NewTokens returns those token contracts that have no asset yet, each
// once, in their order (the zero address is no token).
func (ix *Index) NewTokens(contracts []eth.Address) ([]eth.Address, error) {
	return unseen(contracts, func(c eth.Address) (bool, error) {
		if c.IsZero() {
			return true, nil
		}
		_, err := ix.AssetByContract(c)
		return found(err)
	})
}

// NewHoldings returns those address–asset pairs that have no ledger yet,
// each once, in their order.
func (ix *Index) NewHoldings(hs []Holding) ([]Holding, error) {
	return unseen(hs, func(h Holding) (bool, error) {
		id, err := ix.AddrID(h.Address)
		if ok, err := found(err); !ok {
			return false, err
		}
		asset := Native
		if !h.Token.IsZero() {
			a, err := ix.AssetByContract(h.Token)
			if ok, err := found(err); !ok {
				return false, err
			}
			asset = a.ID
		}
		_, err = ix.Holding(id, asset)
		return found(err)
	})
}
