package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btcrpc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// SyncOptions tune Sync.
type SyncOptions struct {
	Options
	// Follow keeps polling for new blocks until the context is cancelled.
	Follow bool
	// Poll is the interval between polls when following (default 2 s).
	Poll time.Duration
	// BatchBlocks is the number of blocks fetched per JSON-RPC batch
	// (default 16).
	BatchBlocks int
	// OnCommit is called after every durable commit while following.
	OnCommit func(index.Tip)
	// OnRetry is called when a follower cannot reach the node and will
	// try again after the given wait.
	OnRetry func(err error, wait time.Duration)
}

// errReorg means the node's chain changed under a running sync.
var errReorg = errors.New("the node's chain changed during the sync")

// Sync brings ix to the node's best tip: it rolls back blocks the node no
// longer has, then fetches and adds the missing ones. With Follow it keeps
// doing so until ctx is cancelled, committing every round durably; a
// cancelled follow returns the stats and a nil error.
func Sync(ctx context.Context, ix *index.Index, c *btcrpc.Client, opt SyncOptions) (*Stats, error) {
	opt.defaults()
	if opt.Poll <= 0 {
		opt.Poll = 2 * time.Second
	}
	if opt.BatchBlocks <= 0 {
		opt.BatchBlocks = 16
	}
	p, err := c.Network(ctx)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	if p.Network != ix.Params().Network {
		return nil, fmt.Errorf("ingest: the node at %s is on %s, the index is %s", c.URL(), p.Network, ix.Params().Network)
	}
	w, err := ix.NewWriter(opt.Writer)
	if err != nil {
		return nil, err
	}
	st := &Stats{From: -1, SourceBehind: -1}
	tr := newTracker(&opt.Options, -1)
	err = syncLoop(ctx, ix, w, c, &opt, st, tr)
	st.Progress = tr.finish()
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	st.Writer = w.Stats()
	st.Tip = ix.Tip()
	if opt.Follow && errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil
	}
	return st, err
}

func syncLoop(ctx context.Context, ix *index.Index, w *index.Writer, c *btcrpc.Client, opt *SyncOptions, st *Stats, tr *tracker) error {
	reorgs := 0
	backoff := time.Duration(0)
	for {
		err := syncRound(ctx, ix, w, c, opt, st, tr)
		switch {
		case errors.Is(err, errReorg):
			reorgs++
			if reorgs > 100 {
				return fmt.Errorf("ingest: the node keeps reorganising (%d times); giving up", reorgs)
			}
			continue
		case err != nil && opt.Follow && ctx.Err() == nil && transient(err):
			// A follower outlives a node restart or a network hiccup.
			backoff = min(max(2*backoff, opt.Poll), time.Minute)
			if opt.OnRetry != nil {
				opt.OnRetry(err, backoff)
			}
			opt.Logger.Warn("node unavailable; retrying", "err", err, "in", backoff)
		case err != nil:
			return err
		default:
			reorgs, backoff = 0, 0
			if !opt.Follow {
				return nil
			}
			if opt.OnCommit != nil {
				opt.OnCommit(w.Tip())
			}
			if best, err := c.BlockCount(ctx); err == nil && best > w.Tip().Height {
				continue // more blocks arrived while we were adding
			}
		}
		wait := opt.Poll
		if backoff > 0 {
			wait = backoff
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// syncRound rolls back what the node no longer has and adds what it has
// beyond the tip, committing durably when following.
func syncRound(ctx context.Context, ix *index.Index, w *index.Writer, c *btcrpc.Client, opt *SyncOptions, st *Stats, tr *tracker) error {
	if err := w.Flush(); err != nil {
		return err
	}
	nodeHeight, err := c.BlockCount(ctx)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	tr.p.Target = nodeHeight
	fork, err := forkPoint(ix, w.Tip(), func(h int64) (chainhash.Hash, error) {
		if h > nodeHeight {
			return chainhash.Hash{}, errBeyondSource
		}
		hash, err := c.BlockHash(ctx, h)
		if errors.Is(err, chain.ErrNotFound) {
			return chainhash.Hash{}, errBeyondSource // the node's chain shrank meanwhile
		}
		return hash, err
	})
	if err != nil {
		return fmt.Errorf("ingest: find the fork point: %w", err)
	}
	tip := w.Tip().Height
	switch {
	case fork < tip && fork < nodeHeight:
		// The node holds another block at fork+1: a reorganisation.
		opt.Logger.Warn("node reorganised; rolling back", "from", tip, "to", fork)
		if err := w.Rollback(fork); err != nil {
			return err
		}
		st.RolledBack += tip - fork
	case fork < tip:
		// The node agrees with every block it has but has fewer: it is
		// behind (syncing, reindexing, or another node). Nothing says
		// the index's blocks are gone; keep them and wait.
		st.SourceBehind = nodeHeight
		return nil
	}
	st.SourceBehind = -1
	if err := fetch(ctx, w, c, opt, st, tr, nodeHeight); err != nil {
		return err
	}
	if opt.Follow {
		return w.Sync()
	}
	return w.Flush()
}

// transient reports whether a failure to talk to the node may pass: the
// node is unreachable, timed out or closed the connection.
func transient(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// fetch adds the blocks after the writer's tip up to height to, in JSON-RPC
// batches, decoding them in parallel.
func fetch(ctx context.Context, w *index.Writer, c *btcrpc.Client, opt *SyncOptions, st *Stats, tr *tracker, to int64) error {
	from := w.Tip().Height + 1
	if from > to {
		return nil
	}
	if st.From < 0 {
		st.From = from
	}
	d := newDecoder(opt.Workers, 2*opt.Workers+opt.BatchBlocks)
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	fetchErr := make(chan error, 1)
	go func() {
		defer d.close()
		for h := from; h <= to; h += int64(opt.BatchBlocks) {
			end := min(h+int64(opt.BatchBlocks)-1, to)
			hashes, err := c.BlockHashes(fctx, h, end)
			if err != nil {
				if errors.Is(err, chain.ErrNotFound) {
					err = errReorg // the node's chain shrank
				}
				fetchErr <- err
				return
			}
			raws, err := c.RawBlocks(fctx, hashes)
			if err != nil {
				if errors.Is(err, chain.ErrNotFound) {
					err = errReorg
				}
				fetchErr <- err
				return
			}
			for i, raw := range raws {
				if err := d.submit(fctx, h+int64(i), raw); err != nil {
					fetchErr <- err
					return
				}
			}
		}
		fetchErr <- nil
	}()
	err := addInOrder(fctx, d, w, tr)
	cancel()
	for range d.ordered {
	}
	ferr := <-fetchErr
	if err == nil && ferr != nil && !errors.Is(ferr, context.Canceled) {
		if errors.Is(ferr, errReorg) {
			return errReorg
		}
		err = fmt.Errorf("ingest: %w", ferr)
	}
	if err == nil {
		err = ctx.Err()
	}
	return err
}

// addInOrder is addDecoded for a live node: a block whose parent is not the
// tip means the node reorganised between two requests.
func addInOrder(ctx context.Context, d *decoder, w *index.Writer, tr *tracker) error {
	for j := range d.ordered {
		select {
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if j.err != nil {
			return fmt.Errorf("ingest: block at height %d from the node: %w", j.height, j.err)
		}
		if t := w.Tip(); t.Height >= 0 && j.block.Header.PrevBlock != t.Hash {
			return errReorg
		}
		if err := w.Add(j.block); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		tr.added(j.block, j.height)
	}
	return nil
}
