package main

import (
	"fmt"
	"os"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

type clusterBench struct {
	Tool   string `json:"tool"`
	Blocks int64  `json:"blocks"`
	// Components: the whole index clustered in memory (read from the
	// store, CoinJoins excluded), the work the peers also do.
	Txs               uint64  `json:"txs"`
	Inputs            uint64  `json:"inputs"`
	Edges             uint64  `json:"edges"`
	Components        uint64  `json:"components"`
	Largest           uint32  `json:"largest"`
	ComponentsSeconds float64 `json:"components_seconds"`
	InputsPerSec      float64 `json:"inputs_per_sec"`
	EdgesPerSec       float64 `json:"edges_per_sec"`
	// Incremental: the last IncBlocks blocks added to a built store one at
	// a time, as sync --follow does.
	IncBlocks      int     `json:"incremental_blocks"`
	IncMsPerBlock  float64 `json:"incremental_ms_per_block"`
	IncTxsPerBlock float64 `json:"incremental_txs_per_block"`
	PeakRSS        int64   `json:"peak_rss_bytes"`
}

// capped is an index seen only up to height h.
type capped struct {
	*index.Index
	h int64
}

func (c capped) Tip() index.Tip {
	t := c.Index.Tip()
	t.Height = c.h
	t.Hash, _ = c.Index.BlockHash(c.h)
	return t
}

func (c capped) BlockHash(h int64) (chainhash.Hash, error) { return c.Index.BlockHash(h) }

func (c capped) Scan(from, to int64, fn func(*index.TxRecord) error) error {
	if to < 0 || to > c.h {
		to = c.h
	}
	return c.Index.Scan(from, to, fn)
}

func (a *app) benchClusterCommand() *cobra.Command {
	var (
		asJSON bool
		inc    int
	)
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Measure co-spend clustering of the index (used by make bench-cluster)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, ix, err := a.onlyIndex()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			res := clusterBench{Tool: "vestigo", Blocks: ix.Tip().Height + 1}
			t0 := time.Now()
			c, err := cluster.ComputeComponents(ctx, ix)
			if err != nil {
				return err
			}
			sec := time.Since(t0).Seconds()
			res.Txs, res.Inputs, res.Edges, res.Components, res.Largest = c.Txs, c.Inputs, c.Edges, c.Clusters, c.Largest
			res.ComponentsSeconds, res.InputsPerSec, res.EdgesPerSec = sec, float64(c.Inputs)/sec, float64(c.Edges)/sec

			tmp, err := os.MkdirTemp("", "vestigo-bench-cluster-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			s, err := cluster.Open(tmp, ix.Ledger(), cluster.Options{})
			if err != nil {
				return err
			}
			defer s.Close()
			tip := ix.Tip().Height
			start := max(0, tip-int64(inc))
			if _, err := s.Update(ctx, capped{ix, start}, nil); err != nil {
				return err
			}
			var incTime time.Duration
			var incTxs uint64
			for h := start + 1; h <= tip; h++ {
				st, err := s.Update(ctx, capped{ix, h}, nil)
				if err != nil {
					return err
				}
				incTime += st.Duration
				incTxs += st.Txs
				res.IncBlocks++
			}
			if res.IncBlocks > 0 {
				res.IncMsPerBlock = incTime.Seconds() * 1000 / float64(res.IncBlocks)
				res.IncTxsPerBlock = float64(incTxs) / float64(res.IncBlocks)
			}
			res.PeakRSS = peakRSS()
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "clustered %d blocks, %d txs in memory in %.3fs: %.0f inputs/s, %.0f edges/s; %d clusters of 2+ addresses, the largest %d\n",
				res.Blocks, res.Txs, res.ComponentsSeconds, res.InputsPerSec, res.EdgesPerSec, res.Components, res.Largest)
			fmt.Fprintf(a.stdout, "incremental: %.2f ms per block (%.0f txs per block, %d blocks)\n", res.IncMsPerBlock, res.IncTxsPerBlock, res.IncBlocks)
			fmt.Fprintf(a.stdout, "peak RSS %.0f MiB\n", float64(res.PeakRSS)/(1<<20))
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().IntVar(&inc, "incremental", 100, "measure adding this many last blocks one at a time")
	return cmd
}
