package evmindex

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/cockroachdb/pebble"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
)

// MaxMovesPerTx bounds the moves of one transaction (or block slot).
const MaxMovesPerTx = 1<<16 - 1

type holdingKeyT struct {
	id    AddrID
	asset AssetID
}

// applier writes one block into a batch.
type applier struct {
	ix    *Index
	b     *BlockData
	batch *pebble.Batch

	addrs     map[eth.Address]AddrID
	newAddrs  map[AddrID]*Address
	changed   map[AddrID]*Address // known addresses marked as contracts
	assets    map[eth.Address]AssetID
	holdings  map[holdingKeyT]*holding
	nextAddr  AddrID
	nextAsset AssetID
	tokens    map[eth.Address]*eth.TokenMetadata
	moves     uint64
	// err is the first failure of an address lookup (addr has no error
	// result, to keep the call sites readable); apply returns it.
	err error
}

// Apply writes block b on top of the tip in one atomic batch. On an empty
// index b may have any height (the import's first block); after that b
// must be the tip's next block and name the tip as its parent. Nothing is
// written when b is refused.
func (ix *Index) Apply(b *BlockData) error {
	if ix.readOnly {
		return fmt.Errorf("evmindex: the index is open read-only")
	}
	ix.write.Lock()
	defer ix.write.Unlock()
	tip, has, _ := ix.Tip()
	if has {
		if b.Number != tip.Height+1 {
			return fmt.Errorf("evmindex: %w: block %d does not follow the tip %d", ErrInconsistent, b.Number, tip.Height)
		}
		if b.ParentHash != tip.Hash {
			return fmt.Errorf("evmindex: %w: block %d's parent %s is not the tip %s", ErrInconsistent, b.Number, b.ParentHash, tip.Hash)
		}
	}
	if err := checkBlock(b); err != nil {
		return err
	}
	a := &applier{
		ix: ix, b: b, batch: ix.db.NewBatch(),
		addrs: map[eth.Address]AddrID{}, newAddrs: map[AddrID]*Address{}, changed: map[AddrID]*Address{},
		assets: map[eth.Address]AssetID{}, holdings: map[holdingKeyT]*holding{},
		nextAddr: ix.nextAddr, nextAsset: ix.nextAsset, tokens: map[eth.Address]*eth.TokenMetadata{},
	}
	defer a.batch.Close()
	for i := range b.Tokens {
		a.tokens[b.Tokens[i].Token] = &b.Tokens[i]
	}
	rec, err := a.apply()
	if err != nil {
		return err
	}
	nt := Tip{
		Height: b.Number, Hash: b.Hash,
		Txs: tip.Txs + uint64(len(b.Txs)), Moves: tip.Moves + a.moves,
		Addresses: uint64(a.nextAddr - 1), Assets: uint64(a.nextAsset - 1), Untraced: tip.Untraced,
	}
	if !b.Traced {
		nt.Untraced++
	}
	if !has {
		nt.Txs, nt.Moves, nt.Untraced = uint64(len(b.Txs)), a.moves, 0
		if !b.Traced {
			nt.Untraced = 1
		}
	}
	rec.Moves = a.moves
	a.batch.Set(blockKey(b.Number), encodeBlock(rec), nil)
	a.batch.Set(blockHashKey(b.Hash), be64(nil, b.Number), nil)
	a.batch.Set(keyTip, encodeTip(nt), nil)
	if err := a.batch.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("evmindex: write block %d: %w", b.Number, err)
	}
	ix.mu.Lock()
	ix.tip, ix.empty = nt, false
	ix.mu.Unlock()
	ix.nextAddr, ix.nextAsset = a.nextAddr, a.nextAsset
	return nil
}

func inconsistent(b *BlockData, format string, args ...any) error {
	return fmt.Errorf("evmindex: %w: block %d: %s", ErrInconsistent, b.Number, fmt.Sprintf(format, args...))
}

// checkBlock refuses a block that contradicts itself, before anything is
// resolved or written.
func checkBlock(b *BlockData) error {
	if len(b.Txs) > MaxBlockTxs {
		return inconsistent(b, "%d transactions", len(b.Txs))
	}
	seen := make(map[eth.Hash]bool, len(b.Txs))
	for i := range b.Txs {
		t := &b.Txs[i]
		if seen[t.Hash] {
			return inconsistent(b, "transaction %s twice", t.Hash)
		}
		seen[t.Hash] = true
		if t.Tip.Cmp(t.Fee) > 0 {
			return inconsistent(b, "transaction %s: tip %s above its fee %s", t.Hash, t.Tip, t.Fee)
		}
		if t.To == nil && t.Created == nil && t.Status == eth.StatusSuccess {
			return inconsistent(b, "transaction %s creates no contract and has no recipient", t.Hash)
		}
		if t.Status == eth.StatusFailed && (len(t.Internal) > 0 || len(t.Tokens) > 0 || len(t.CreatedContracts) > 0 || len(t.Swaps) > 0 || t.Created != nil) {
			return inconsistent(b, "failed transaction %s moved value", t.Hash)
		}
		if !b.Traced && len(t.Internal) > 0 {
			return inconsistent(b, "transaction %s has internal moves in a block not traced", t.Hash)
		}
		if n := 2 + len(t.Internal) + len(t.Tokens); n > MaxMovesPerTx {
			return inconsistent(b, "transaction %s has %d moves, more than %d", t.Hash, n, MaxMovesPerTx)
		}
	}
	if len(b.Openings)+1 > MaxMovesPerTx || len(b.Withdrawals)+1 > MaxMovesPerTx {
		return inconsistent(b, "%d openings, %d withdrawals", len(b.Openings), len(b.Withdrawals))
	}
	return nil
}

func (a *applier) apply() (*blockRecord, error) {
	b := a.b
	rec := &blockRecord{Block: Block{
		Height: b.Number, Hash: b.Hash, Parent: b.ParentHash, Time: b.Time, Miner: b.Miner, BaseFee: b.BaseFee,
		GasUsed: b.GasUsed, TxCount: len(b.Txs), Withdrawal: len(b.Withdrawals), Traced: b.Traced,
		FirstAddr: a.nextAddr, FirstAsset: a.nextAsset,
	}}

	// Slot 0: opening balances of pairs the index has not seen.
	if len(b.Openings) > 0 {
		key := MakeTxKey(b.Number, SlotOpening)
		t := &Tx{Key: key}
		seen := map[Holding]bool{}
		for _, o := range b.Openings {
			h := Holding{Address: o.Address, Token: o.Token}
			if seen[h] {
				return nil, inconsistent(b, "two openings of %s in %s", o.Address, tokenName(o.Token))
			}
			seen[h] = true
			id := a.addr(o.Address, key)
			asset, err := a.asset(o.Token, key)
			if err != nil {
				return nil, err
			}
			if hd, err := a.holding(id, asset); err != nil {
				return nil, err
			} else if hd.Entries > 0 {
				return nil, inconsistent(b, "opening of %s in %s, which has a ledger already", o.Address, tokenName(o.Token))
			}
			if o.Amount.IsZero() {
				continue
			}
			if err := a.move(t, KindOpening, asset, 0, id, o.Amount, 0, ""); err != nil {
				return nil, err
			}
		}
		if len(t.Moves) > 0 {
			a.batch.Set(txKey(key), encodeTx(t), nil)
		}
	}

	// The transactions.
	var tips chain.Amount
	for i := range b.Txs {
		d := &b.Txs[i]
		key := TxKeyOf(b.Number, i)
		t := &Tx{Key: key, Hash: d.Hash, Nonce: d.Nonce, Type: d.Type, Status: d.Status, Value: d.Value,
			GasUsed: d.GasUsed, EffectiveGasPrice: d.EffectiveGasPrice, Fee: d.Fee, Tip: d.Tip, InputLen: uint32(len(d.Input))}
		copy(t.Selector[:], d.Input)
		if len(d.Input) > 1<<31 {
			return nil, inconsistent(b, "transaction %s: input of %d bytes", d.Hash, len(d.Input))
		}
		t.From = a.addr(d.From, key)
		if d.To != nil {
			t.To = a.addr(*d.To, key)
		}
		if d.Created != nil {
			t.Created = a.addr(*d.Created, key)
		}
		if !d.Fee.IsZero() {
			if err := a.move(t, KindFee, Native, t.From, 0, d.Fee, 0, ""); err != nil {
				return nil, err
			}
		}
		var err error
		if tips, err = tips.Add(d.Tip); err != nil {
			return nil, inconsistent(b, "tips: %v", err)
		}
		if d.Status != eth.StatusFailed && !d.Value.IsZero() {
			to := t.To
			if to == 0 {
				to = t.Created
			}
			if to == 0 {
				return nil, inconsistent(b, "transaction %s sends value to no one", d.Hash)
			}
			if err := a.move(t, KindValue, Native, t.From, to, d.Value, 0, ""); err != nil {
				return nil, err
			}
		}
		for _, v := range d.Internal {
			frame := make([]string, len(v.Path))
			for j, p := range v.Path {
				frame[j] = strconv.Itoa(p)
			}
			if err := a.move(t, KindInternal, Native, a.addr(v.From, key), a.addr(v.To, key), v.Value, 0, strings.Join(frame, ".")); err != nil {
				return nil, err
			}
		}
		for _, tr := range d.Tokens {
			asset, err := a.asset(tr.Token, key)
			if err != nil {
				return nil, err
			}
			if err := a.move(t, KindToken, asset, a.addr(tr.From, key), a.addr(tr.To, key), tr.Value, tr.LogIndex, ""); err != nil {
				return nil, err
			}
		}
		for _, s := range d.Swaps {
			t.Swaps = append(t.Swaps, Swap{Pool: a.addr(s.Pool, key), Version: s.Version, LogIndex: s.LogIndex,
				Sender: a.addr(s.Sender, key), Recipient: a.addr(s.Recipient, key), Amounts: s.Amounts})
		}
		if d.Status != eth.StatusFailed {
			if t.Created != 0 {
				if err := a.contract(t.Created, key, t.From); err != nil {
					return nil, err
				}
			}
			for _, c := range d.CreatedContracts {
				id := a.addr(c, key)
				t.Contracts = append(t.Contracts, id)
				if err := a.contract(id, key, t.From); err != nil {
					return nil, err
				}
			}
		}
		a.batch.Set(txKey(key), encodeTx(t), nil)
		a.batch.Set(txHashKey(d.Hash), be64(nil, uint64(key)), nil)
	}

	// Contracts found with code when first seen.
	for _, c := range b.Code {
		id, ok := a.addrs[c]
		if !ok {
			return nil, inconsistent(b, "code given for %s, which the block does not show", c)
		}
		na, ok := a.newAddrs[id]
		if !ok {
			return nil, inconsistent(b, "code given for %s, which the index knew before", c)
		}
		na.Contract = true
	}

	// The block's end: tips to the fee recipient, withdrawals.
	if !tips.IsZero() || len(b.Withdrawals) > 0 {
		key := MakeTxKey(b.Number, SlotBlockEnd)
		t := &Tx{Key: key}
		if !tips.IsZero() {
			if err := a.move(t, KindTips, Native, 0, a.addr(b.Miner, key), tips, 0, ""); err != nil {
				return nil, err
			}
		}
		for _, w := range b.Withdrawals {
			if w.Amount.IsZero() {
				continue
			}
			if err := a.move(t, KindWithdrawal, Native, 0, a.addr(w.Address, key), w.Amount, 0, ""); err != nil {
				return nil, err
			}
		}
		a.batch.Set(txKey(key), encodeTx(t), nil)
	}

	if a.err != nil {
		return nil, a.err
	}
	for id, na := range a.newAddrs {
		a.batch.Set(addrKey(na.Address), be64(nil, uint64(id)), nil)
		a.batch.Set(addrIDKey(id), encodeAddress(na), nil)
	}
	for id, ca := range a.changed {
		a.batch.Set(addrIDKey(id), encodeAddress(ca), nil)
	}
	for k, h := range a.holdings {
		if h.Entries > 0 {
			a.batch.Set(holdingKey(k.id, k.asset), encodeHolding(h), nil)
		}
	}
	return rec, nil
}

func tokenName(t eth.Address) string {
	if t.IsZero() {
		return "the native coin"
	}
	return "token " + t.String()
}

// addr returns the id of a, assigning the next one to an address the index
// has not seen (first seen at key).
func (a *applier) addr(addr eth.Address, key TxKey) AddrID {
	if id, ok := a.addrs[addr]; ok {
		return id
	}
	id, err := a.ix.AddrID(addr)
	if err != nil && !errors.Is(err, chain.ErrNotFound) {
		if a.err == nil {
			a.err = err
		}
		return 0
	}
	if err != nil {
		id = a.nextAddr
		a.nextAddr++
		a.newAddrs[id] = &Address{ID: id, Address: addr, FirstSeen: key}
	}
	a.addrs[addr] = id
	return id
}

// asset returns the asset of a token contract (zero: the native coin).
func (a *applier) asset(contract eth.Address, key TxKey) (AssetID, error) {
	if contract.IsZero() {
		return Native, nil
	}
	if id, ok := a.assets[contract]; ok {
		return id, nil
	}
	as, err := a.ix.AssetByContract(contract)
	if err == nil {
		a.assets[contract] = as.ID
		return as.ID, nil
	}
	if !errors.Is(err, chain.ErrNotFound) {
		return 0, err
	}
	id := a.nextAsset
	a.nextAsset++
	as = Asset{ID: id, Contract: contract, FirstSeen: key}
	if md, ok := a.tokens[contract]; ok {
		as.Name, as.Symbol, as.Decimals = md.Name, md.Symbol, md.Decimals
		as.MetadataOK = md.NameOK && md.SymbolOK && md.DecimalsOK
		as.Problems = md.Problems
	} else {
		as.Problems = []string{"metadata not read"}
	}
	a.batch.Set(assetKey(id), encodeAsset(&as), nil)
	a.batch.Set(assetAddrKey(contract), binaryAsset(id), nil)
	a.assets[contract] = id
	return id, nil
}

func binaryAsset(id AssetID) []byte {
	return []byte{byte(id >> 24), byte(id >> 16), byte(id >> 8), byte(id)}
}

// contract marks id as a contract created at key by creator.
func (a *applier) contract(id AddrID, key TxKey, creator AddrID) error {
	if na, ok := a.newAddrs[id]; ok {
		na.Contract, na.CreatedAt, na.Creator = true, key, creator
		return nil
	}
	ca, ok := a.changed[id]
	if !ok {
		rec, err := a.ix.Address(id)
		if err != nil {
			return err
		}
		ca = &rec
		a.changed[id] = ca
	}
	ca.Contract, ca.CreatedAt, ca.Creator = true, key, creator
	return nil
}

func (a *applier) holding(id AddrID, asset AssetID) (*holding, error) {
	k := holdingKeyT{id, asset}
	if h, ok := a.holdings[k]; ok {
		return h, nil
	}
	h := &holding{In: new(big.Int), Out: new(big.Int)}
	if _, isNew := a.newAddrs[id]; !isNew {
		v, closer, err := a.ix.db.Get(holdingKey(id, asset))
		switch {
		case err == nil:
			*h, err = decodeHolding(v)
			closer.Close()
			if err != nil {
				return nil, err
			}
		case !errors.Is(err, pebble.ErrNotFound):
			return nil, fmt.Errorf("evmindex: %w", err)
		}
	}
	a.holdings[k] = h
	return h, nil
}

// move records one move in t and in the ledgers of both sides.
func (a *applier) move(t *Tx, kind Kind, asset AssetID, from, to AddrID, amt chain.Amount, logIndex uint64, frame string) error {
	seq := uint16(len(t.Moves))
	if len(t.Moves) >= MaxMovesPerTx {
		return inconsistent(a.b, "slot %s has more than %d moves", t.Key, MaxMovesPerTx)
	}
	t.Moves = append(t.Moves, Move{Seq: seq, Kind: kind, Asset: asset, From: from, To: to, Amount: amt, LogIndex: logIndex, Frame: frame})
	a.moves++
	if from != 0 {
		if err := a.entry(from, asset, t.Key, seq, kind, false, to, amt); err != nil {
			return err
		}
	}
	if to != 0 {
		if err := a.entry(to, asset, t.Key, seq, kind, true, from, amt); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) entry(id AddrID, asset AssetID, key TxKey, seq uint16, kind Kind, in bool, cp AddrID, amt chain.Amount) error {
	h, err := a.holding(id, asset)
	if err != nil {
		return err
	}
	bal := h.Balance.Big()
	v := amt.Big()
	if in {
		bal.Add(bal, v)
		h.In.Add(h.In, v)
	} else {
		bal.Sub(bal, v)
		h.Out.Add(h.Out, v)
	}
	nb, err := balanceOf(bal)
	if err != nil {
		return inconsistent(a.b, "balance of address %d: %v", id, err)
	}
	h.Balance = nb
	if h.Entries == 0 {
		h.First = key
	}
	h.Entries++
	h.Last = key
	e := Entry{Kind: kind, In: in, Counterparty: cp, Amount: amt, Balance: nb}
	a.batch.Set(entryKey(id, asset, key, seq, in), encodeEntry(&e), nil)
	return nil
}

func balanceOf(v *big.Int) (Balance, error) { return BalanceFromBig(v) }
