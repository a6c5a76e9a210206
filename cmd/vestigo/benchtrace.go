package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/trace"
)

type latency struct {
	P50 float64 `json:"p50_ms"`
	P95 float64 `json:"p95_ms"`
	P99 float64 `json:"p99_ms"`
	Max float64 `json:"max_ms"`
}

func percentiles(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := int(q * float64(len(ds)-1))
		return float64(ds[i].Microseconds()) / 1000
	}
	return latency{P50: at(0.50), P95: at(0.95), P99: at(0.99), Max: at(1)}
}

type traceBench struct {
	Tool              string  `json:"tool"`
	Samples           int     `json:"samples"`
	History           latency `json:"history"`
	Trace4            latency `json:"trace_4_hops"`
	Trace6            latency `json:"trace_6_hops"`
	Summarised4       int     `json:"summarised_4_hops"`
	Summarised6       int     `json:"summarised_6_hops"`
	PropagateSeconds  float64 `json:"propagate_seconds"`
	PropagateTxs      uint64  `json:"propagate_txs"`
	PropagateTainted  uint64  `json:"propagate_tainted_txs"`
	TotalSeconds      float64 `json:"seconds"`
	PeakRSS           int64   `json:"peak_rss_bytes"`
	GraphEdges        uint64  `json:"graph_edges,omitempty"`
	GraphExportSecond float64 `json:"graph_export_seconds,omitempty"`
}

func (a *app) benchTraceCommand() *cobra.Command {
	var (
		asJSON            bool
		samples           int
		seed              uint64
		seedsOut, graphTo string
	)
	cmd := &cobra.Command{
		Use:   "trace",
		Short: "Measure history lookups, 4- and 6-hop traces and taint propagation (make bench-trace)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, ix, err := a.onlyIndex()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			t0 := time.Now()
			n := uint64(ix.Tip().NextAddr)
			if n < 2 {
				return fmt.Errorf("the index holds no address")
			}
			rng := rand.New(rand.NewPCG(seed, 0x7ace))
			res := traceBench{Tool: "vestigo", Samples: samples}
			picked := map[index.AddrID]bool{}
			var seeds []index.AddrID
			for len(seeds) < samples && len(picked) < int(n-1) {
				id := index.AddrID(1 + rng.Uint64N(n-1))
				if !picked[id] {
					picked[id] = true
					seeds = append(seeds, id)
				}
			}
			var hist, t4, t6 []time.Duration
			for _, id := range seeds {
				if err := ctx.Err(); err != nil {
					return err
				}
				s := time.Now()
				if _, _, err := ix.History(id); err != nil {
					return err
				}
				hist = append(hist, time.Since(s))
				for _, h := range []int{4, 6} {
					s = time.Now()
					r, err := trace.FromAddress(ix, id, trace.Params{Model: trace.Haircut, Hops: h})
					d := time.Since(s)
					if err != nil && !isNotFound(err) {
						return err
					}
					if h == 4 {
						t4 = append(t4, d)
						if r != nil && r.Summarised {
							res.Summarised4++
						}
					} else {
						t6 = append(t6, d)
						if r != nil && r.Summarised {
							res.Summarised6++
						}
					}
				}
			}
			res.History, res.Trace4, res.Trace6 = percentiles(hist), percentiles(t4), percentiles(t6)
			s := time.Now()
			pr, err := trace.Propagate(ctx, ix, seeds)
			if err != nil {
				return err
			}
			res.PropagateSeconds, res.PropagateTxs, res.PropagateTainted = time.Since(s).Seconds(), pr.Txs, pr.Tainted
			res.TotalSeconds = time.Since(t0).Seconds()
			res.PeakRSS = peakRSS()
			if seedsOut != "" {
				if err := writeIDs(seedsOut, seeds); err != nil {
					return err
				}
			}
			if graphTo != "" {
				s = time.Now()
				if res.GraphEdges, err = exportAddressGraph(ix, graphTo); err != nil {
					return err
				}
				res.GraphExportSecond = time.Since(s).Seconds()
			}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "%d addresses: history p50/p95/p99 %.2f/%.2f/%.2f ms; 4-hop trace %.2f/%.2f/%.2f ms; 6-hop %.2f/%.2f/%.2f ms\n",
				samples, res.History.P50, res.History.P95, res.History.P99, res.Trace4.P50, res.Trace4.P95, res.Trace4.P99, res.Trace6.P50, res.Trace6.P95, res.Trace6.P99)
			fmt.Fprintf(a.stdout, "taint from %d seeds over %d txs: %.2fs; peak RSS %.0f MiB\n", len(seeds), res.PropagateTxs, res.PropagateSeconds, float64(res.PeakRSS)/(1<<20))
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&samples, "samples", 1000, "random addresses to look up and trace from")
	f.Uint64Var(&seed, "seed", 1, "seed of the random choice")
	f.StringVar(&seedsOut, "seeds-out", "", "write the chosen address ids here (for the peers)")
	f.StringVar(&graphTo, "export-graph", "", "also write the address graph (u v per line: a transaction spent from u and paid v)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func isNotFound(err error) bool { return exitCode(err) == exitNotFound }

func writeIDs(path string, ids []index.AddrID) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, id := range ids {
		w.WriteString(strconv.FormatUint(uint64(id), 10))
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// exportAddressGraph writes the directed address graph of the whole index:
// for every transaction, each distinct input address to each distinct
// other output address.
func exportAddressGraph(ix *index.Index, path string) (uint64, error) {
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var n uint64
	var ins, outs []index.AddrID
	var line []byte
	err = ix.ScanFlows(0, -1, func(r *index.TxRecord) error {
		if r.Coinbase {
			return nil
		}
		ins, outs = ins[:0], outs[:0]
		for _, in := range r.In {
			if in.Addr != 0 && !slices.Contains(ins, in.Addr) {
				ins = append(ins, in.Addr)
			}
		}
		for _, o := range r.Out {
			if o.Addr != 0 && !slices.Contains(outs, o.Addr) {
				outs = append(outs, o.Addr)
			}
		}
		for _, u := range ins {
			for _, v := range outs {
				if u == v {
					continue
				}
				line = strconv.AppendUint(line[:0], uint64(u), 10)
				line = append(line, ' ')
				line = strconv.AppendUint(line, uint64(v), 10)
				line = append(line, '\n')
				if _, err := w.Write(line); err != nil {
					return err
				}
				n++
			}
		}
		return nil
	})
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
