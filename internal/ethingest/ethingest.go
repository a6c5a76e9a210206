package ethingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
)

// Defaults of Options.
const (
	DefaultWorkers       = 4
	DefaultMaxReorg      = 64
	DefaultPoll          = 2 * time.Second
	DefaultProgressEvery = 250 * time.Millisecond
	// maxProblems bounds the problem lines kept in Stats (all are logged).
	maxProblems = 100
	// maxForks bounds the reorganisations followed in one round.
	maxForks = 100
)

// Options tune an import.
type Options struct {
	// From is the first block to import. Default: the index's tip + 1, or
	// 0 for an empty index. On an index that is not empty it must be the
	// tip + 1.
	From *uint64
	// To is the last block to import; 0: the node's head when the import
	// starts. It must be 0 with Follow.
	To uint64
	// Follow keeps importing new blocks, polling the node's head every
	// Poll (default 2 s), until the context is cancelled.
	Follow bool
	Poll   time.Duration
	// Workers fetch blocks in parallel (default 4); blocks are applied
	// strictly in order.
	Workers int
	// MaxReorg is the deepest reorganisation followed (default 64): a fork
	// deeper than that stops the import with an error.
	MaxReorg int
	// NoOpenings leaves out the opening balances: by default the node is
	// asked, at the block before, the balance of every address–asset pair
	// the index sees for the first time, so that history before the
	// import's first block is accounted for.
	NoOpenings bool
	// Progress is called after a block is applied, at most every
	// ProgressEvery (default 250 ms), and once at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	Logger        *slog.Logger
	// Clock is the time source (default time.Now).
	Clock func() time.Time
}

// Progress is a snapshot of a running import.
type Progress struct {
	Height  uint64 // last block applied (meaningful when Blocks > 0)
	Target  uint64 // the block the run is heading for
	Blocks  uint64 // blocks applied in this run
	Txs     uint64 // their transactions
	Elapsed time.Duration
}

// Stats sums up an import.
type Stats struct {
	Progress
	// Moves counts the ledger moves applied (fees, values, internal moves,
	// token transfers, openings, tips, withdrawals); TokenTransfers and
	// InternalTransfers the two kinds apart; Openings the non-zero opening
	// balances given.
	Moves, TokenTransfers, InternalTransfers, Openings uint64
	// Untraced counts blocks applied without their internal transfers
	// (the node has no debug_traceBlockByNumber).
	Untraced uint64
	// Reorgs counts reorganisations followed, RolledBack the blocks they
	// removed.
	Reorgs, RolledBack uint64
	// Malformed counts logs with a Transfer or Swap topic but another
	// layout, kept out of the ledger; TokenProblems the balanceOf answers
	// of tokens that reverted or answered garbage (the opening is then
	// zero). Problems holds the first lines of both.
	Malformed, TokenProblems uint64
	Problems                 []string
	// Fetch is the fetchers' time spent on the node (summed over them),
	// FetchWait the time the applier waited for the next fetched block,
	// StateRPC the applier's own requests (openings, token metadata,
	// code) and Write the time in Index.Apply. FetchWait + StateRPC against
	// Write says whether the node or the store bounds the import.
	Fetch, FetchWait, StateRPC, Write time.Duration
	Tip                               evmindex.Tip
}

func (o *Options) defaults() error {
	if o.Workers <= 0 {
		o.Workers = DefaultWorkers
	}
	if o.MaxReorg <= 0 {
		o.MaxReorg = DefaultMaxReorg
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = DefaultProgressEvery
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Follow && o.To != 0 {
		return errors.New("ethingest: Follow imports up to the node's head: To must be 0")
	}
	return nil
}

// importer is the state of one Import.
type importer struct {
	c     *eth.Client
	ix    *evmindex.Index
	opt   Options
	st    Stats
	start time.Time
	last  time.Time // last progress report
	mu    sync.Mutex
	// untracedLogged is set once the node's lack of tracing is logged.
	untracedLogged bool
	// seen remembers addresses, tokens and address–asset pairs the index
	// holds, so that a busy chain does not ask the store again for each
	// block; it is dropped on a rollback and when it grows past maxSeen.
	seen seenSet
}

// maxSeen bounds the entries of the seen set.
const maxSeen = 4 << 20

type seenSet struct {
	addrs    map[eth.Address]struct{}
	tokens   map[eth.Address]struct{}
	holdings map[evmindex.Holding]struct{}
}

func (s *seenSet) reset() { *s = seenSet{} }

func (s *seenSet) size() int { return len(s.addrs) + len(s.tokens) + len(s.holdings) }

// remember adds what block d showed (now in the index).
func (s *seenSet) remember(d *evmindex.BlockData) {
	if s.addrs == nil || s.size() > maxSeen {
		*s = seenSet{addrs: map[eth.Address]struct{}{}, tokens: map[eth.Address]struct{}{}, holdings: map[evmindex.Holding]struct{}{}}
	}
	for _, a := range shown(d) {
		s.addrs[a] = struct{}{}
	}
	for _, t := range tokens(d) {
		s.tokens[t] = struct{}{}
	}
	for _, h := range holdings(d) {
		s.holdings[h] = struct{}{}
	}
}

// unseen keeps the items of xs the set does not hold.
func unseen[T comparable](set map[T]struct{}, xs []T) []T {
	out := xs[:0:0]
	for _, x := range xs {
		if _, ok := set[x]; !ok {
			out = append(out, x)
		}
	}
	return out
}

// Import brings ix up to the node behind c: it checks that both are of one
// chain, rolls back what the node no longer has, then fetches blocks in
// parallel and applies them in order. With Follow it keeps going until ctx
// is cancelled; a cancelled follow returns its stats and a nil error. A
// run without Follow that is cancelled before its last block returns
// ctx's error (the blocks applied stay applied; the next run resumes).
func Import(ctx context.Context, c *eth.Client, ix *evmindex.Index, opt Options) (Stats, error) {
	if err := opt.defaults(); err != nil {
		return Stats{}, err
	}
	im := &importer{c: c, ix: ix, opt: opt}
	im.start = opt.Clock()
	err := im.run(ctx)
	if opt.Follow && errors.Is(err, context.Canceled) && ctx.Err() != nil {
		err = nil
	}
	im.st.Elapsed = opt.Clock().Sub(im.start)
	if tip, ok, terr := ix.Tip(); terr == nil && ok {
		im.st.Tip = tip
	}
	if opt.Progress != nil {
		opt.Progress(im.st.Progress)
	}
	return im.st, err
}

func (im *importer) run(ctx context.Context) error {
	id, err := im.c.ChainID(ctx)
	if err != nil {
		return fmt.Errorf("ethingest: %w", err)
	}
	if want := im.ix.Meta().ChainID; id != want {
		return fmt.Errorf("ethingest: the node at %s is on chain id %d, the index is of chain id %d", im.c.URL(), id, want)
	}
	tip, has, err := im.ix.Tip()
	if err != nil {
		return err
	}
	if im.opt.From != nil && has && *im.opt.From != tip.Height+1 {
		return fmt.Errorf("ethingest: %w: the import cannot start at block %d: the index ends at block %d, so the next is %d",
			chain.ErrInvalid, *im.opt.From, tip.Height, tip.Height+1)
	}
	to := im.opt.To
	if to == 0 && !im.opt.Follow {
		if to, err = im.c.BlockNumber(ctx); err != nil {
			return fmt.Errorf("ethingest: %w", err)
		}
	}
	for {
		head, err := im.c.BlockNumber(ctx)
		if err != nil {
			return fmt.Errorf("ethingest: %w", err)
		}
		target := head
		if !im.opt.Follow {
			target = min(to, head)
		}
		if err := im.round(ctx, target); err != nil {
			return err
		}
		if !im.opt.Follow {
			if head < to {
				return fmt.Errorf("ethingest: the node's head is block %d, before the last block asked for, %d", head, to)
			}
			return nil
		}
		if h, err := im.c.BlockNumber(ctx); err == nil && h > target {
			continue // more blocks came meanwhile
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(im.opt.Poll):
		}
	}
}

// round reconciles the tip with the node, then imports up to target.
func (im *importer) round(ctx context.Context, target uint64) error {
	for forks := 0; ; forks++ {
		if forks > maxForks {
			return fmt.Errorf("ethingest: the node's chain changed %d times during one round; giving up", forks)
		}
		tip, has, err := im.ix.Tip()
		if err != nil {
			return err
		}
		next := uint64(0)
		if im.opt.From != nil {
			next = *im.opt.From
		}
		if has {
			// The node's block at the tip (or at its head, when shorter)
			// must be the index's; else walk back to the fork.
			at := min(tip.Height, target)
			if err := im.reconcile(ctx, at); err != nil {
				return err
			}
			if tip, _, err = im.ix.Tip(); err != nil {
				return err
			}
			next = tip.Height + 1
		}
		im.st.Target = target
		if next > target {
			return nil
		}
		err = im.pipeline(ctx, next, target)
		if errors.Is(err, errFork) {
			continue // rolled back: fetch again from the new tip
		}
		return err
	}
}

// errFork means a fetched block does not extend the tip: the node's chain
// changed; the pipeline stops and the round starts again.
var errFork = errors.New("the node's chain changed")

// reconcile compares the index's block at height with the node's and, when
// they differ, walks back to the last block both agree on and rolls the
// index back to it.
func (im *importer) reconcile(ctx context.Context, height uint64) error {
	tip, _, err := im.ix.Tip()
	if err != nil {
		return err
	}
	for h, depth := height, 0; ; h, depth = h-1, depth+1 {
		ours, err := im.ix.Block(h)
		if errors.Is(err, chain.ErrNotFound) {
			return fmt.Errorf("ethingest: the node's chain differs from the index's down to block %d, its first block: start a new index", h+1)
		}
		if err != nil {
			return err
		}
		theirs, err := im.nodeHash(ctx, h)
		if err != nil {
			return err
		}
		if theirs == ours.Hash {
			if h == height {
				return nil // no fork (a node behind the index keeps its blocks)
			}
			if int(tip.Height-h) > im.opt.MaxReorg {
				return fmt.Errorf("ethingest: reorganisation of %d blocks (index tip %d %s, fork at block %d) is deeper than the limit of %d",
					tip.Height-h, tip.Height, tip.Hash, h, im.opt.MaxReorg)
			}
			im.seen.reset()
			if err := im.ix.Rollback(h); err != nil {
				return err
			}
			im.st.Reorgs++
			im.st.RolledBack += tip.Height - h
			im.opt.Logger.Warn("ethingest: reorganisation: rolled back", "from", tip.Height, "old_tip", tip.Hash, "to", h, "hash", ours.Hash)
			return nil
		}
		if int(tip.Height-h) >= im.opt.MaxReorg {
			return fmt.Errorf("ethingest: the node's chain differs from the index's over more than %d blocks below the tip %d (block %d: index %s, node %s)",
				im.opt.MaxReorg, tip.Height, h, ours.Hash, theirs)
		}
		if h == 0 {
			return fmt.Errorf("ethingest: the node's genesis block %s is not the index's %s: another chain", theirs, ours.Hash)
		}
	}
}

func (im *importer) nodeHash(ctx context.Context, h uint64) (eth.Hash, error) {
	b, err := im.c.BlockByNumber(ctx, h)
	if err != nil {
		return eth.Hash{}, fmt.Errorf("ethingest: %w", err)
	}
	return b.Hash, nil
}

// job is one block on its way through the pipeline.
type job struct {
	n    uint64
	done chan struct{}
	f    *fetched
	err  error
}

// pipeline fetches blocks from..to on the workers and applies them in
// order. It returns errFork after rolling back when the node's chain
// changed under it.
func (im *importer) pipeline(ctx context.Context, from, to uint64) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	work := make(chan *job)
	order := make(chan *job, 2*im.opt.Workers)
	var wg sync.WaitGroup
	for range im.opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range work {
				start := time.Now()
				j.f, j.err = im.fetch(pctx, j.n)
				im.mu.Lock()
				im.st.Fetch += time.Since(start)
				im.mu.Unlock()
				close(j.done)
			}
		}()
	}
	go func() {
		defer close(order)
		defer close(work)
		for n := from; n <= to; n++ {
			j := &job{n: n, done: make(chan struct{})}
			select {
			case order <- j:
			case <-pctx.Done():
				return
			}
			select {
			case work <- j:
			case <-pctx.Done():
				close(j.done)
				return
			}
			if n == to {
				return
			}
		}
	}()
	defer wg.Wait()
	defer cancel()
	for j := range order {
		waitStart := time.Now()
		<-j.done
		im.st.FetchWait += time.Since(waitStart)
		if err := ctx.Err(); err != nil {
			return err
		}
		if j.err != nil {
			return j.err
		}
		if j.f == nil {
			return fmt.Errorf("ethingest: block %d was not fetched", j.n)
		}
		if err := im.apply(ctx, j.f); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// fetch reads block n, its receipts and its trace, and assembles them.
func (im *importer) fetch(ctx context.Context, n uint64) (*fetched, error) {
	b, err := im.c.BlockByNumber(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("ethingest: %w", err)
	}
	receipts, err := im.c.BlockReceipts(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("ethingest: %w", err)
	}
	traces, traced, err := im.c.TraceBlock(ctx, n)
	if err != nil {
		return nil, fmt.Errorf("ethingest: %w", err)
	}
	return assemble(&b, receipts, traces, traced)
}

// apply completes a fetched block with what depends on the index (token
// metadata, openings, code of new addresses) and applies it.
func (im *importer) apply(ctx context.Context, f *fetched) error {
	d := f.data
	tip, has, err := im.ix.Tip()
	if err != nil {
		return err
	}
	if has && (d.Number != tip.Height+1 || d.ParentHash != tip.Hash) {
		if d.Number != tip.Height+1 {
			return fmt.Errorf("ethingest: block %d fetched while the index ends at %d", d.Number, tip.Height)
		}
		if err := im.reconcile(ctx, tip.Height); err != nil {
			return err
		}
		return errFork
	}
	rpcStart := time.Now()
	if err := im.complete(ctx, d); err != nil {
		return err
	}
	im.st.StateRPC += time.Since(rpcStart)

	writeStart := time.Now()
	if err := im.ix.Apply(d); err != nil {
		return fmt.Errorf("ethingest: block %d %s: %w", d.Number, d.Hash, err)
	}
	im.st.Write += time.Since(writeStart)
	im.seen.remember(d)

	for _, p := range f.problems {
		im.opt.Logger.Warn("ethingest: malformed log kept out of the ledger", "block", d.Number, "problem", p)
		im.note(p)
	}
	im.st.Malformed += uint64(f.malformed)
	if !d.Traced {
		im.st.Untraced++
		if !im.untracedLogged {
			im.untracedLogged = true
			im.opt.Logger.Warn("ethingest: the node does not trace blocks (debug_traceBlockByNumber): internal transfers are missing from the index",
				"node", im.c.URL(), "first_block", d.Number)
		}
	}
	im.count(d)
	im.st.Height = d.Number
	im.st.Blocks++
	im.st.Txs += uint64(len(d.Txs))
	if now := im.opt.Clock(); im.opt.Progress != nil && (im.st.Blocks == 1 || now.Sub(im.last) >= im.opt.ProgressEvery) {
		im.last = now
		im.st.Elapsed = now.Sub(im.start)
		im.opt.Progress(im.st.Progress)
	}
	return nil
}

// complete adds to d the metadata of tokens the index has not seen (read
// at the block), the opening balances of pairs it has not seen and the
// code of addresses it has not seen (both at the block before; genesis
// allocations at block 0 itself, where nothing precedes).
func (im *importer) complete(ctx context.Context, d *evmindex.BlockData) error {
	before := d.Number
	if before > 0 {
		before--
	}
	newTokens, err := im.ix.NewTokens(unseen(im.seen.tokens, tokens(d)))
	if err != nil {
		return err
	}
	for _, t := range newTokens {
		md, err := im.c.TokenMetadata(ctx, t, d.Number)
		if err != nil {
			return fmt.Errorf("ethingest: metadata of token %s at block %d: %w", t, d.Number, err)
		}
		for _, p := range md.Problems {
			im.opt.Logger.Warn("ethingest: token metadata", "token", t, "block", d.Number, "problem", p)
		}
		d.Tokens = append(d.Tokens, md)
	}
	if !im.opt.NoOpenings {
		if err := im.openings(ctx, d, before); err != nil {
			return err
		}
	}
	fresh, err := im.ix.NewAddresses(unseen(im.seen.addrs, shown(d)))
	if err != nil {
		return err
	}
	if len(fresh) > 0 && d.Number > 0 {
		code, err := im.c.HasCode(ctx, fresh, before)
		if err != nil {
			return fmt.Errorf("ethingest: block %d: %w", d.Number, err)
		}
		for i, a := range fresh {
			if code[i] {
				d.Code = append(d.Code, a)
			}
		}
	}
	return nil
}

// openings asks the node the balances at block before of the pairs the
// index has not seen.
func (im *importer) openings(ctx context.Context, d *evmindex.BlockData, before uint64) error {
	hs, err := im.ix.NewHoldings(unseen(im.seen.holdings, holdings(d)))
	if err != nil {
		return err
	}
	// A token created in this block had no balances before it: its pairs
	// open at zero (asking would only find no code there).
	created := map[eth.Address]bool{}
	for i := range d.Txs {
		if c := d.Txs[i].Created; c != nil {
			created[*c] = true
		}
		for _, c := range d.Txs[i].CreatedContracts {
			created[c] = true
		}
	}
	var natives []eth.Address
	var pairs []eth.TokenHolding
	for _, h := range hs {
		switch {
		case h.Token.IsZero():
			natives = append(natives, h.Address)
		case !created[h.Token]:
			pairs = append(pairs, eth.TokenHolding{Token: h.Token, Holder: h.Address})
		}
	}
	if len(natives) > 0 {
		bals, err := im.c.Balances(ctx, natives, before)
		if err != nil {
			return fmt.Errorf("ethingest: opening balances for block %d: %w", d.Number, err)
		}
		for i, a := range natives {
			if !bals[i].IsZero() {
				d.Openings = append(d.Openings, evmindex.Opening{Address: a, Amount: bals[i]})
			}
		}
	}
	if len(pairs) > 0 {
		tbs, err := im.c.TokenBalances(ctx, pairs, before)
		if err != nil {
			return fmt.Errorf("ethingest: opening token balances for block %d: %w", d.Number, err)
		}
		for _, tb := range tbs {
			if tb.Problem != "" {
				im.st.TokenProblems++
				p := fmt.Sprintf("block %d: token %s: opening of %s taken as zero: %s", d.Number, tb.Token, tb.Holder, tb.Problem)
				im.opt.Logger.Warn("ethingest: token balance unreadable", "block", d.Number, "token", tb.Token, "holder", tb.Holder, "problem", tb.Problem)
				im.note(p)
				continue
			}
			if !tb.Amount.IsZero() {
				d.Openings = append(d.Openings, evmindex.Opening{Address: tb.Holder, Token: tb.Token, Amount: tb.Amount})
			}
		}
	}
	return nil
}

func (im *importer) note(p string) {
	if len(im.st.Problems) < maxProblems {
		im.st.Problems = append(im.st.Problems, p)
	}
}

// count adds the block's moves to the stats, as the index records them.
func (im *importer) count(d *evmindex.BlockData) {
	var tips bool
	for i := range d.Txs {
		t := &d.Txs[i]
		if !t.Fee.IsZero() {
			im.st.Moves++
		}
		if t.Status != eth.StatusFailed && !t.Value.IsZero() {
			im.st.Moves++
		}
		tips = tips || !t.Tip.IsZero()
		im.st.Moves += uint64(len(t.Internal) + len(t.Tokens))
		im.st.InternalTransfers += uint64(len(t.Internal))
		im.st.TokenTransfers += uint64(len(t.Tokens))
	}
	if tips {
		im.st.Moves++
	}
	for _, w := range d.Withdrawals {
		if !w.Amount.IsZero() {
			im.st.Moves++
		}
	}
	im.st.Moves += uint64(len(d.Openings))
	im.st.Openings += uint64(len(d.Openings))
}
