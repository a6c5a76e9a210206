package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/vestigo-forensics/vestigo/internal/ingest"
)

// isTerminal reports whether w is a terminal (progress bars go only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// blockProgress draws a progress bar of blocks with the transaction rate
// and an ETA on stderr, when stderr is a terminal; otherwise it is silent.
type blockProgress struct {
	bar   *progressbar.ProgressBar
	start int64
}

func newBlockProgress(stderr io.Writer, what string) *blockProgress {
	p := &blockProgress{start: -1}
	if !isTerminal(stderr) {
		return p
	}
	p.bar = newBar(stderr, what)
	return p
}

// newBar is a progress bar of blocks on stderr with a rate and an ETA.
func newBar(stderr io.Writer, what string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(-1,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetItsString("blocks"),
		progressbar.OptionShowIts(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetWidth(30),
		progressbar.OptionClearOnFinish(),
	)
}

func (p *blockProgress) update(pr ingest.Progress) {
	if p.bar == nil {
		return
	}
	if p.start < 0 {
		p.start = pr.Height - pr.Blocks + 1
	}
	if pr.Target >= 0 {
		p.bar.ChangeMax64(pr.Target - p.start + 1)
	}
	rate := 0.0
	if s := pr.Elapsed.Seconds(); s > 0 {
		rate = float64(pr.Txs) / s
	}
	p.bar.Describe(fmt.Sprintf("height %d, %d txs (%.0f tx/s)", pr.Height, pr.Txs, rate))
	_ = p.bar.Set64(pr.Blocks)
}

func (p *blockProgress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// rate formats n per duration.
func rate(n uint64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.0f", float64(n)/d.Seconds())
}
