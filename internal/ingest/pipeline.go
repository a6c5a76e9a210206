package ingest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

// Progress is a snapshot of a running import or sync.
type Progress struct {
	Height  int64  // last block added
	Target  int64  // height the run is heading for
	Blocks  int64  // blocks added in this run
	Txs     uint64 // transactions added in this run
	Inputs  uint64
	Outputs uint64
	Bytes   int64 // raw block bytes added in this run
	Elapsed time.Duration
}

// Stats sums up a finished run.
type Stats struct {
	Progress
	From       int64 // first height added (or -1 if none)
	RolledBack int64 // blocks removed because the source's chain differs
	// SourceBehind is the source's height when it agrees with the index
	// but holds fewer blocks (they are kept), and -1 otherwise.
	SourceBehind int64
	Tip          index.Tip
	Writer       index.WriterStats
}

// Options tune a run.
type Options struct {
	// Workers decoding blocks in parallel (default GOMAXPROCS).
	Workers int
	// Writer options of the index writer.
	Writer index.WriterOptions
	// Progress is called from the writer goroutine at most every
	// ProgressEvery (default 250 ms) and once at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
	Logger        *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (o *Options) defaults() {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 250 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// rawBlock is a block read from a source, waiting to be decoded.
type rawBlock struct {
	height int64
	raw    []byte
	block  *btc.Block
	err    error
	done   chan struct{}
}

// decoder decodes blocks on a worker pool and hands them back in the order
// they were submitted.
type decoder struct {
	jobs    chan *rawBlock
	ordered chan *rawBlock
	wg      sync.WaitGroup
}

func newDecoder(workers, depth int) *decoder {
	d := &decoder{jobs: make(chan *rawBlock, depth), ordered: make(chan *rawBlock, depth)}
	for i := 0; i < workers; i++ {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			for j := range d.jobs {
				j.block, j.err = btc.DecodeBlock(j.raw)
				close(j.done)
			}
		}()
	}
	return d
}

// submit queues raw (which the decoder now owns) for decoding; it blocks
// while the pipeline is full.
func (d *decoder) submit(ctx context.Context, height int64, raw []byte) error {
	j := &rawBlock{height: height, raw: raw, done: make(chan struct{})}
	select {
	case d.ordered <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case d.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// close ends submission; the ordered channel drains and closes.
func (d *decoder) close() {
	close(d.jobs)
	close(d.ordered)
}

// tracker counts what a run added and reports progress.
type tracker struct {
	opt   *Options
	start time.Time
	last  time.Time
	p     Progress
}

func newTracker(opt *Options, target int64) *tracker {
	now := opt.Now()
	return &tracker{opt: opt, start: now, last: now, p: Progress{Height: -1, Target: target}}
}

func (t *tracker) added(b *btc.Block, height int64) {
	t.p.Height = height
	t.p.Blocks++
	t.p.Txs += uint64(len(b.Txs))
	t.p.Bytes += int64(b.Size)
	for i := range b.Txs {
		t.p.Outputs += uint64(len(b.Txs[i].Out))
		if !b.Txs[i].Coinbase {
			t.p.Inputs += uint64(len(b.Txs[i].In))
		}
	}
	if t.opt.Progress != nil {
		if now := t.opt.Now(); now.Sub(t.last) >= t.opt.ProgressEvery {
			t.last = now
			t.p.Elapsed = now.Sub(t.start)
			t.opt.Progress(t.p)
		}
	}
}

func (t *tracker) finish() Progress {
	t.p.Elapsed = t.opt.Now().Sub(t.start)
	if t.opt.Progress != nil {
		t.opt.Progress(t.p)
	}
	return t.p
}

// addDecoded drains the decoder into the writer in height order.
func addDecoded(ctx context.Context, d *decoder, w *index.Writer, tr *tracker) error {
	for j := range d.ordered {
		select {
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if j.err != nil {
			return fmt.Errorf("ingest: block at height %d: %w", j.height, j.err)
		}
		if err := w.Add(j.block); err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		tr.added(j.block, j.height)
	}
	return nil
}
