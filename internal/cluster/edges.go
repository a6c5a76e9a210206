package cluster

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strconv"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/coinjoin"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// coSpendEdges calls fn with the co-spend edges of every transaction from
// height from to to (to < 0: the tip): for each transaction that is not a
// coinbase and not a CoinJoin, its first input address with each other
// distinct input address.
func coSpendEdges(ctx context.Context, ix Reader, from, to int64, st *Stats, fn func(a, b index.AddrID, tx index.TxKey) error) error {
	var e edger
	height := int64(-1)
	return ix.Scan(from, to, func(r *index.TxRecord) error {
		if h := r.Key.Height(); h != height {
			if err := ctx.Err(); err != nil {
				return err
			}
			height = h
			st.Blocks++
		}
		ins := e.coSpend(r, st, false)
		for _, b := range ins[min(1, len(ins)):] {
			if err := fn(ins[0], b, r.Key); err != nil {
				return err
			}
		}
		return nil
	})
}

// edger applies the co-spend rule to one transaction at a time.
type edger struct {
	ins  []index.AddrID
	flow chain.FlowTx
}

// coSpend counts r in st and returns the distinct input addresses it
// merges (first appearance first), or none for a coinbase, a single-owner
// spend of one address or a CoinJoin. e.flow holds r's shape afterwards
// when r has two or more distinct inputs, or always with wantFlow.
func (e *edger) coSpend(r *index.TxRecord, st *Stats, wantFlow bool) []index.AddrID {
	st.Txs++
	if r.Coinbase {
		return nil
	}
	st.Inputs += uint64(len(r.In))
	e.ins = distinctInputs(e.ins[:0], r)
	if len(e.ins) < 2 {
		if wantFlow {
			r.Flow(&e.flow)
		}
		return nil
	}
	r.Flow(&e.flow)
	if coinjoin.Detect(&e.flow).IsCoinJoin {
		st.CoinJoins++
		return nil
	}
	st.Edges += uint64(len(e.ins) - 1)
	return e.ins
}

// ExportEdges writes the co-spend edge list of the whole index, one edge
// per line as two decimal address ids separated by a space: the input of
// the connected-components programs this package is measured against.
func ExportEdges(ctx context.Context, ix Reader, w io.Writer) (Stats, error) {
	var st Stats
	bw := bufio.NewWriterSize(w, 1<<20)
	var line []byte
	err := coSpendEdges(ctx, ix, 0, -1, &st, func(a, b index.AddrID, _ index.TxKey) error {
		line = strconv.AppendUint(line[:0], uint64(a), 10)
		line = append(line, ' ')
		line = strconv.AppendUint(line, uint64(b), 10)
		line = append(line, '\n')
		_, err := bw.Write(line)
		return err
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return st, fmt.Errorf("cluster: export edges: %w", err)
	}
	return st, nil
}

// Components is the result of clustering in memory only.
type Components struct {
	Stats
	// Clusters counts the clusters of two or more addresses (the connected
	// components of the co-spend edge graph); Largest is the size of the
	// biggest.
	Clusters uint64
	Largest  uint32
}

// ComputeComponents clusters the whole index in memory with the same rule
// as Update, without writing anything: the part of Update that the
// connected-components peers also do.
func ComputeComponents(ctx context.Context, ix Reader) (Components, error) {
	var c Components
	f := &forest{}
	if err := f.grow(uint64(ix.Tip().NextAddr)); err != nil {
		return c, err
	}
	err := coSpendEdges(ctx, ix, 0, -1, &c.Stats, func(a, b index.AddrID, _ index.TxKey) error {
		if err := f.grow(uint64(max(a, b)) + 1); err != nil {
			return err
		}
		ra, rb := f.find(a), f.find(b)
		if ra != rb {
			f.link(ra, rb)
			c.Merges++
		}
		return nil
	})
	if err != nil {
		return c, err
	}
	c.Clusters, c.Largest = f.components()
	return c, nil
}

// Components counts the clusters of two or more addresses in the store
// and the size of the largest (the store must be writable and loaded by
// an Update).
func (s *Store) Components() (clusters uint64, largest uint32, err error) {
	if s.f == nil {
		return 0, 0, fmt.Errorf("cluster: the store's forest is not loaded")
	}
	n, l := s.f.components()
	return n, l, nil
}
