package ingest

import (
	"context"
	"errors"
	"fmt"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/blockfile"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// Import adds the blocks of a block-file directory to ix, from the index's
// tip to the reader's best tip. The reader must be of the index's network.
func Import(ctx context.Context, ix *index.Index, r *blockfile.Reader, opt Options) (*Stats, error) {
	opt.defaults()
	if r.Params().Network != ix.Params().Network {
		return nil, fmt.Errorf("ingest: the block files are %s, the index is %s", r.Params().Network, ix.Params().Network)
	}
	if opt.Writer.Bulk && opt.Writer.ExpectedAddrs == 0 {
		// Chains carry roughly one new address per 150–450 bytes of
		// blocks; size the filter for the dense end, within 2^29
		// addresses (about 1 GB).
		opt.Writer.ExpectedAddrs = uint(min(r.Stats().Bytes/150, 1<<29))
	}
	w, err := ix.NewWriter(opt.Writer)
	if err != nil {
		return nil, err
	}
	st := &Stats{From: -1, SourceBehind: -1}
	err = importFiles(ctx, ix, w, r, &opt, st)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	st.Writer = w.Stats()
	st.Tip = ix.Tip()
	return st, err
}

func importFiles(ctx context.Context, ix *index.Index, w *index.Writer, r *blockfile.Reader, opt *Options, st *Stats) error {
	// Roll back what the files no longer agree with.
	fork, err := forkPoint(ix, w.Tip(), func(h int64) (chainhash.Hash, error) {
		if h > r.Height() {
			return chainhash.Hash{}, errBeyondSource
		}
		e, err := r.Entry(h)
		return e.Hash, err
	})
	if err != nil {
		return err
	}
	if tip := w.Tip().Height; fork < tip && fork >= r.Height() {
		st.SourceBehind = r.Height()
	} else if fork < tip {
		opt.Logger.Warn("block files disagree with the index; rolling back", "from", tip, "to", fork)
		if err := w.Rollback(fork); err != nil {
			return err
		}
		st.RolledBack = tip - fork
	}
	from := w.Tip().Height + 1
	if from > r.Height() {
		return nil
	}
	st.From = from
	tr := newTracker(opt, r.Height())
	defer func() { st.Progress = tr.finish() }()

	d := newDecoder(opt.Workers, 2*opt.Workers+4)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	readErr := make(chan error, 1)
	go func() {
		defer d.close()
		readErr <- r.Blocks(rctx, from, func(e blockfile.Entry, raw []byte) error {
			// raw is only valid during the callback; the decoder owns a copy.
			return d.submit(rctx, e.Height, append([]byte(nil), raw...))
		})
	}()
	err = addDecoded(rctx, d, w, tr)
	cancel()
	for range d.ordered { // let the reader finish
	}
	rerr := <-readErr
	if err == nil && rerr != nil && !errors.Is(rerr, context.Canceled) {
		err = fmt.Errorf("ingest: %w", rerr)
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

var errBeyondSource = errors.New("beyond the source's tip")

// forkPoint returns the highest height at which the index and the source
// hold the same block (or the tip if they agree at the tip; -1 if they
// agree on nothing). sourceHash returns errBeyondSource above the
// source's tip.
func forkPoint(ix *index.Index, tip index.Tip, sourceHash func(int64) (chainhash.Hash, error)) (int64, error) {
	h := tip.Height
	for h >= 0 {
		src, err := sourceHash(h)
		if errors.Is(err, errBeyondSource) {
			h--
			continue
		}
		if err != nil {
			return 0, err
		}
		b, err := ix.Block(h, false)
		if err != nil {
			return 0, err
		}
		if b.Hash == src.String() {
			return h, nil
		}
		h--
	}
	return -1, nil
}
