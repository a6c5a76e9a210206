package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vestigo-forensics/vestigo/internal/blockfile"
	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/ingest"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) importCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import a chain from files into the index",
	}
	cmd.AddCommand(a.importBTCCommand(), a.importETHCommand())
	return cmd
}

func (a *app) importBTCCommand() *cobra.Command {
	var (
		blocks   string
		to       int64
		cacheMB  int
		commitKB int
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "btc --blocks DIR",
		Short: "Import Bitcoin Core block files (blk*.dat) into the index",
		Long: `Import the best chain found in a Bitcoin Core blocks directory (blk*.dat, any
network, obfuscated with xor.dat or not) into the index. Blocks out of
order, stale and orphan blocks and preallocated file tails are handled. The
import commits in atomic batches: if it is interrupted or killed, run it
again and it resumes from the last committed block. Stop Bitcoin Core first
or import from a copy: files that change while being read are refused.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if blocks == "" {
				return usagef("--blocks DIR is required")
			}
			if a.chain != "" && a.chain != string(chain.Bitcoin) {
				return usagef("import btc imports Bitcoin; --chain %s does not apply", a.chain)
			}
			var p *btc.Params
			if a.network != "" {
				var err error
				if p, err = btc.ParamsFor(chain.Network(a.network)); err != nil {
					return err
				}
			}
			ctx := cmd.Context()
			r, err := blockfile.Open(ctx, blocks, blockfile.Options{Network: p, MaxHeight: to, Logger: a.logger()})
			if err != nil {
				return err
			}
			defer r.Close()
			a.wsOpt.Bulk = true
			a.wsOpt.CacheBytes = int64(cacheMB) << 20 / 4
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			ix, err := ws.Index(r.Params().Ledger(), true)
			if err != nil {
				return err
			}
			abs, err := filepath.Abs(blocks)
			if err != nil {
				return err
			}
			if err := ix.SetSource(index.Source{Kind: "block files", Location: abs, Updated: time.Now().UTC()}); err != nil {
				return err
			}
			bar := newBlockProgress(a.stderr, "importing")
			st, err := ingest.Import(ctx, ix, r, ingest.Options{
				Logger:   a.logger(),
				Progress: bar.update,
				Writer:   bulk(writerOptions(cacheMB, commitKB)),
			})
			bar.done()
			if st != nil && (err == nil || errors.Is(err, ctx.Err())) {
				a.printImport("imported", r.Params().Network, st, asJSON, r.Stats())
			}
			if err != nil {
				return err
			}
			return a.clusterAfterIngest(ctx, ws, r.Params().Ledger(), asJSON)
		},
	}
	f := cmd.Flags()
	f.StringVar(&blocks, "blocks", "", "Bitcoin Core blocks directory holding blk*.dat")
	f.Int64Var(&to, "to", -1, "stop at this height")
	f.IntVar(&cacheMB, "cache", 2048, "memory for caches in MiB")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	addCommitFlag(f, &commitKB)
	return cmd
}

// addCommitFlag adds the hidden --commit-kb flag: the batch size at which
// the writer commits (tests use small batches to be interrupted between
// commits).
func addCommitFlag(f *pflag.FlagSet, kb *int) {
	f.IntVar(kb, "commit-kb", 0, "commit the index every this many KiB of changes (0: default)")
	_ = f.MarkHidden("commit-kb")
}

// writerOptions sizes the writer's caches from a memory budget in MiB: a
// quarter goes to pebble's block cache (see the callers), the rest to the
// caches of recent outputs (~130 bytes a transaction) and addresses (~90
// bytes an address), half each.
func writerOptions(cacheMB, commitKB int) index.WriterOptions {
	if cacheMB < 64 {
		cacheMB = 64
	}
	budget := int64(cacheMB) << 20 * 3 / 4
	return index.WriterOptions{
		CacheTxs:   int(budget / 2 / 2 / 130), // two generations
		CacheAddrs: int(budget / 2 / 2 / 90),
		BatchBytes: commitKB << 10,
	}
}

// bulk sets the writer up for a long import.
func bulk(o index.WriterOptions) index.WriterOptions {
	o.Bulk = true
	return o
}

type ingestSummary struct {
	Network    chain.Network    `json:"network"`
	From       int64            `json:"from_height"`
	Tip        int64            `json:"tip_height"`
	TipHash    string           `json:"tip_hash"`
	Blocks     int64            `json:"blocks"`
	Txs        uint64           `json:"txs"`
	Inputs     uint64           `json:"inputs"`
	Outputs    uint64           `json:"outputs"`
	Bytes      int64            `json:"bytes"`
	Seconds    float64          `json:"seconds"`
	TxPerSec   float64          `json:"tx_per_sec"`
	RolledBack int64            `json:"rolled_back"`
	Behind     *int64           `json:"source_behind_at,omitempty"`
	Files      *blockfile.Stats `json:"files,omitempty"`
}

func (a *app) printImport(verb string, n chain.Network, st *ingest.Stats, asJSON bool, fs ...blockfile.Stats) {
	s := ingestSummary{Network: n, From: st.From, Tip: st.Tip.Height, Blocks: st.Blocks, Txs: st.Txs, Inputs: st.Inputs,
		Outputs: st.Outputs, Bytes: st.Bytes, Seconds: st.Elapsed.Seconds(), RolledBack: st.RolledBack}
	if st.Tip.Height >= 0 {
		s.TipHash = st.Tip.Hash.String()
	}
	if s.Seconds > 0 {
		s.TxPerSec = float64(st.Txs) / s.Seconds
	}
	if st.SourceBehind >= 0 {
		s.Behind = &st.SourceBehind
	}
	if len(fs) > 0 {
		s.Files = &fs[0]
	}
	if asJSON {
		_ = a.printJSON(s)
		return
	}
	if st.RolledBack > 0 {
		fmt.Fprintf(a.stdout, "rolled back %d blocks that the source no longer has\n", st.RolledBack)
	}
	if st.SourceBehind >= 0 {
		fmt.Fprintf(a.stdout, "the source ends at block %d, below the index's tip %d, and agrees with it: the index keeps its blocks\n",
			st.SourceBehind, st.Tip.Height)
	}
	if st.Blocks == 0 {
		fmt.Fprintf(a.stdout, "btc %s: up to date at block %d %s\n", n, s.Tip, s.TipHash)
		return
	}
	fmt.Fprintf(a.stdout, "btc %s: %s blocks %d–%d (%d blocks, %d txs, %d inputs, %d outputs) in %s, %s tx/s\n",
		n, verb, st.From, st.Height, st.Blocks, st.Txs, st.Inputs, st.Outputs, st.Elapsed.Round(1e7), rate(st.Txs, st.Elapsed))
	fmt.Fprintf(a.stdout, "tip: block %d %s\n", s.Tip, s.TipHash)
}

// clusterAfterIngest brings the ledger's clusters up to the index's new
// tip (with the options the cluster store was built with).
func (a *app) clusterAfterIngest(ctx context.Context, ws *workspace.Workspace, l chain.Ledger, quiet bool) error {
	res, err := a.updateClusters(ctx, ws, l, cluster.Options{Adopt: true}, !quiet)
	if err != nil {
		return err
	}
	if !quiet {
		a.printClusterResult(res)
	}
	return nil
}
