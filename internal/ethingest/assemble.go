package ethingest

import (
	"fmt"

	"github.com/holiman/uint256"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// fetched is one block as the node gave it, checked and assembled into the
// index's input, before the steps that depend on the index (openings,
// token metadata, code of new addresses).
type fetched struct {
	data *evmindex.BlockData
	// problems are what the block's contracts got wrong (malformed
	// Transfer or Swap logs), one line each; the moves stay out of the
	// ledger.
	problems  []string
	malformed int
}

// feeAndTip returns what the sender of a transaction paid (gas and blob
// gas: eth.Receipt.Fee) and the part of it credited to the fee recipient:
// gas used × (effective gas price − base fee), or the whole gas fee when
// the block has no base fee (before London). The blob fee is burnt.
func feeAndTip(r *eth.Receipt, baseFee *chain.Amount) (fee, tip chain.Amount, err error) {
	if fee, err = r.Fee(); err != nil {
		return chain.Amount{}, chain.Amount{}, err
	}
	price := r.EffectiveGasPrice
	if baseFee != nil {
		if price.Cmp(*baseFee) < 0 {
			return chain.Amount{}, chain.Amount{}, fmt.Errorf("ethingest: receipt of %s: effective gas price %s is below the block's base fee %s",
				r.TxHash, price, *baseFee)
		}
		if price, err = price.Sub(*baseFee); err != nil {
			return chain.Amount{}, chain.Amount{}, fmt.Errorf("ethingest: receipt of %s: %w", r.TxHash, err)
		}
	}
	var p, t uint256.Int
	p.SetFromBig(price.Big())
	if _, over := t.MulOverflow(uint256.NewInt(r.GasUsed), &p); over {
		return chain.Amount{}, chain.Amount{}, fmt.Errorf("ethingest: receipt of %s: tip %d × %s overflows 256 bits", r.TxHash, r.GasUsed, price)
	}
	if tip, err = chain.AmountFromBig(t.ToBig()); err != nil {
		return chain.Amount{}, chain.Amount{}, err
	}
	if tip.Cmp(fee) > 0 {
		return chain.Amount{}, chain.Amount{}, fmt.Errorf("ethingest: receipt of %s: tip %s is more than the fee %s", r.TxHash, tip, fee)
	}
	return fee, tip, nil
}

// assemble checks a block, its receipts and (when traced) its call traces
// against each other and turns them into the index's input. It needs
// nothing but what the node sent, so it runs on the fetchers.
func assemble(b *eth.Block, receipts []eth.Receipt, traces []eth.TxTrace, traced bool) (*fetched, error) {
	if len(b.Txs) > evmindex.MaxBlockTxs {
		return nil, fmt.Errorf("ethingest: block %d has %d transactions, more than the index's %d", b.Number, len(b.Txs), evmindex.MaxBlockTxs)
	}
	if err := eth.CheckReceipts(b, receipts); err != nil {
		return nil, fmt.Errorf("ethingest: %w", err)
	}
	var internal [][]eth.ValueTransfer
	if traced {
		if err := eth.CheckTraces(b, traces); err != nil {
			return nil, fmt.Errorf("ethingest: %w", err)
		}
		internal = make([][]eth.ValueTransfer, len(b.Txs))
		for _, v := range eth.InternalTransfers(frames(traces)) {
			internal[v.Tx] = append(internal[v.Tx], v)
		}
	}
	f := &fetched{data: &evmindex.BlockData{
		Number: b.Number, Hash: b.Hash, ParentHash: b.ParentHash, Time: b.Timestamp, Miner: b.Miner,
		BaseFee: b.BaseFeePerGas, GasUsed: b.GasUsed, Traced: traced,
		Txs: make([]evmindex.TxData, len(b.Txs)),
	}}
	for i := range b.Txs {
		t, r := &b.Txs[i], &receipts[i]
		fee, tip, err := feeAndTip(r, b.BaseFeePerGas)
		if err != nil {
			return nil, err
		}
		d := &f.data.Txs[i]
		*d = evmindex.TxData{
			Hash: t.Hash, From: t.From, To: t.To, Nonce: t.Nonce, Type: t.Type, Status: r.Status, Value: t.Value,
			GasUsed: r.GasUsed, EffectiveGasPrice: r.EffectiveGasPrice, Fee: fee, Tip: tip, Input: t.Input,
		}
		failed := r.Status == eth.StatusFailed
		// A failed creation created nothing, whatever contractAddress says.
		if r.ContractAddress != nil && !failed {
			c := *r.ContractAddress
			d.Created = &c
		}
		if traced && !failed {
			d.Internal = internal[i]
			d.CreatedContracts = createdBelow(&traces[i].Root)
		}
		for _, l := range r.Logs {
			if l.Removed {
				return nil, fmt.Errorf("ethingest: block %d: log %d of transaction %s is marked removed in the block's own receipt", b.Number, l.Index, t.Hash)
			}
			tr, ok, err := eth.DecodeTransfer(l)
			if err != nil {
				f.problem(err)
				continue
			}
			if ok {
				d.Tokens = append(d.Tokens, evmindex.TokenTransfer{Transfer: tr, LogIndex: l.Index})
				continue
			}
			s, ok, err := eth.DecodeSwap(l)
			if err != nil {
				f.problem(err)
				continue
			}
			if ok {
				sd, err := swapData(s, l.Index)
				if err != nil {
					return nil, err
				}
				d.Swaps = append(d.Swaps, sd)
			}
		}
	}
	for _, w := range b.Withdrawals {
		f.data.Withdrawals = append(f.data.Withdrawals, evmindex.Credit{Address: w.Address, Amount: w.Wei()})
	}
	return f, nil
}

func (f *fetched) problem(err error) {
	f.malformed++
	f.problems = append(f.problems, err.Error())
}

func frames(traces []eth.TxTrace) []eth.CallFrame {
	out := make([]eth.CallFrame, len(traces))
	for i := range traces {
		out[i] = traces[i].Root
	}
	return out
}

// createdBelow lists the contracts created by CREATE and CREATE2 frames
// below a transaction's top frame, in execution order, leaving out failed
// frames and everything under them (a revert undoes the creation).
func createdBelow(root *eth.CallFrame) []eth.Address {
	if root.Error != "" {
		return nil
	}
	var out []eth.Address
	var walk func(f *eth.CallFrame)
	walk = func(f *eth.CallFrame) {
		for i := range f.Calls {
			c := &f.Calls[i]
			if c.Error != "" {
				continue
			}
			if (c.Type == eth.FrameCreate || c.Type == eth.FrameCreate2) && c.To != nil {
				out = append(out, *c.To)
			}
			walk(c)
		}
	}
	walk(root)
	return out
}

func swapData(s eth.Swap, logIndex uint64) (evmindex.SwapData, error) {
	sd := evmindex.SwapData{Pool: s.Pool, Version: evmindex.SwapVersion(s.Version), LogIndex: logIndex, Sender: s.Sender, Recipient: s.Recipient}
	for _, a := range s.Amounts {
		v, err := evmindex.BalanceFromBig(a)
		if err != nil {
			return evmindex.SwapData{}, fmt.Errorf("ethingest: swap log %d of %s: %w", logIndex, s.Pool, err)
		}
		sd.Amounts = append(sd.Amounts, v)
	}
	return sd, nil
}

// holdings lists the address–asset pairs the block moves value of, in the
// order the index will meet them: each transaction's sender (its fee), its
// value's sides, its internal moves, its token transfers; then the fee
// recipient (tips) and the withdrawals.
func holdings(d *evmindex.BlockData) []evmindex.Holding {
	var out []evmindex.Holding
	native := func(a eth.Address) { out = append(out, evmindex.Holding{Address: a}) }
	var tips bool
	for i := range d.Txs {
		t := &d.Txs[i]
		if !t.Fee.IsZero() {
			native(t.From)
		}
		tips = tips || !t.Tip.IsZero()
		if t.Status != eth.StatusFailed && !t.Value.IsZero() {
			native(t.From)
			switch {
			case t.To != nil:
				native(*t.To)
			case t.Created != nil:
				native(*t.Created)
			}
		}
		for _, v := range t.Internal {
			native(v.From)
			native(v.To)
		}
		for _, tr := range t.Tokens {
			out = append(out, evmindex.Holding{Address: tr.From, Token: tr.Token}, evmindex.Holding{Address: tr.To, Token: tr.Token})
		}
	}
	if tips {
		native(d.Miner)
	}
	for _, w := range d.Withdrawals {
		if !w.Amount.IsZero() {
			native(w.Address)
		}
	}
	return out
}

// shown lists every address the index will record for the block: those of
// holdings (openings included), the transactions' recipients and created
// contracts, and the swaps' pools and parties.
func shown(d *evmindex.BlockData) []eth.Address {
	var out []eth.Address
	for _, h := range holdings(d) {
		out = append(out, h.Address)
	}
	for _, o := range d.Openings {
		out = append(out, o.Address)
	}
	for i := range d.Txs {
		t := &d.Txs[i]
		out = append(out, t.From)
		if t.To != nil {
			out = append(out, *t.To)
		}
		if t.Created != nil {
			out = append(out, *t.Created)
		}
		out = append(out, t.CreatedContracts...)
		for _, s := range t.Swaps {
			out = append(out, s.Pool, s.Sender, s.Recipient)
		}
	}
	return out
}

// tokens lists the token contracts of the block's transfers.
func tokens(d *evmindex.BlockData) []eth.Address {
	var out []eth.Address
	for i := range d.Txs {
		for _, tr := range d.Txs[i].Tokens {
			out = append(out, tr.Token)
		}
	}
	return out
}
