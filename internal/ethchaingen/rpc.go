package ethchaingen

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"
)

// receipt is what the generator reads of a receipt.
type receipt struct {
	Status      hexutil.Uint64 `json:"status"`
	BlockNumber hexutil.Uint64 `json:"blockNumber"`
	GasUsed     hexutil.Uint64 `json:"gasUsed"`
}

// play sends signed transactions in one batch (in order, so that each
// sender's nonces arrive in sequence), waits for their receipts and
// insists that every one succeeded.
func (g *gen) play(ctx context.Context, c *rpc.Client, txs []*types.Transaction) error {
	raws := make([]hexutil.Bytes, len(txs))
	hashes := make([]common.Hash, len(txs))
	for i, tx := range txs {
		b, err := tx.MarshalBinary()
		if err != nil {
			return fmt.Errorf("ethchaingen: encode transaction %s: %v", tx.Hash(), err)
		}
		raws[i], hashes[i] = b, tx.Hash()
	}
	pending := make([]int, len(txs))
	for i := range pending {
		pending[i] = i
	}
	for attempt := 1; len(pending) > 0; attempt++ {
		elems := make([]rpc.BatchElem, len(pending))
		got := make([]common.Hash, len(pending))
		for j, i := range pending {
			elems[j] = rpc.BatchElem{Method: "eth_sendRawTransaction", Args: []any{raws[i]}, Result: &got[j]}
		}
		if err := c.BatchCallContext(ctx, elems); err != nil {
			return fmt.Errorf("ethchaingen: eth_sendRawTransaction batch of %d: %v", len(elems), err)
		}
		var again []int
		for j, i := range pending {
			err := elems[j].Error
			switch {
			case err == nil:
				if got[j] != hashes[i] {
					return fmt.Errorf("ethchaingen: the node took transaction %s as %s", hashes[i], got[j])
				}
			case strings.Contains(err.Error(), "already known"),
				attempt > 1 && strings.Contains(err.Error(), "nonce too low"): // sent before, mined since
			case strings.Contains(err.Error(), "insufficient funds") && attempt < sendAttempts:
				// The pool has not caught up with the block that paid the
				// sender (see gethtest.SendTx): send again shortly.
				again = append(again, i)
			default:
				return fmt.Errorf("ethchaingen: eth_sendRawTransaction %s from %s: %v", hashes[i], g.sender0(txs[i]), err)
			}
		}
		g.st.Resent += len(again)
		pending = again
		if len(pending) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	rs, err := g.wait(ctx, c, hashes)
	if err != nil {
		return err
	}
	for i, r := range rs {
		if r.Status != 1 {
			return fmt.Errorf("ethchaingen: transaction %s from %s failed (status %d) in block %d, gas used %d of %d",
				hashes[i], g.sender0(txs[i]), r.Status, r.BlockNumber, r.GasUsed, txs[i].Gas())
		}
	}
	g.st.Rounds++
	return nil
}

func (g *gen) sender0(tx *types.Transaction) string {
	from, err := types.Sender(g.signer, tx)
	if err != nil {
		return "?"
	}
	return from.Hex()
}

// wait polls the receipts of hashes in batches until all are there and
// returns them, in order. It gives up when none came for
// Options.ReceiptTimeout.
func (g *gen) wait(ctx context.Context, c *rpc.Client, hashes []common.Hash) ([]*receipt, error) {
	out := make([]*receipt, len(hashes))
	left := len(hashes)
	pause := 2 * time.Millisecond
	last := time.Now()
	for left > 0 {
		var idx []int
		for i := range out {
			if out[i] == nil {
				idx = append(idx, i)
			}
		}
		before := left
		for start := 0; start < len(idx); start += MaxRound {
			part := idx[start:min(start+MaxRound, len(idx))]
			elems := make([]rpc.BatchElem, len(part))
			rs := make([]*receipt, len(part))
			for j, i := range part {
				elems[j] = rpc.BatchElem{Method: "eth_getTransactionReceipt", Args: []any{hashes[i]}, Result: &rs[j]}
			}
			if err := c.BatchCallContext(ctx, elems); err != nil {
				return nil, fmt.Errorf("ethchaingen: eth_getTransactionReceipt batch of %d: %v", len(elems), err)
			}
			for j, i := range part {
				if e := elems[j].Error; e != nil {
					if strings.Contains(e.Error(), "transaction indexing is in progress") {
						continue // mined, not indexed yet
					}
					return nil, fmt.Errorf("ethchaingen: eth_getTransactionReceipt %s: %v", hashes[i], e)
				}
				if rs[j] != nil {
					out[i] = rs[j]
					left--
					b := uint64(rs[j].BlockNumber)
					if g.st.FirstBlock == 0 || b < g.st.FirstBlock {
						g.st.FirstBlock = b
					}
					g.st.LastBlock = max(g.st.LastBlock, b)
				}
			}
		}
		if left == 0 {
			break
		}
		if left < before {
			last = time.Now()
			pause = 2 * time.Millisecond
		} else if time.Since(last) > g.opt.ReceiptTimeout {
			for i := range out {
				if out[i] == nil {
					return nil, fmt.Errorf("ethchaingen: no receipt for transaction %s (and %d others) within %v", hashes[i], left-1, g.opt.ReceiptTimeout)
				}
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 100*time.Millisecond)
	}
	return out, nil
}
