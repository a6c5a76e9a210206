package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/blockfile"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/ingest"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) benchCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure Vestigo on this machine (used by make bench)",
	}
	cmd.AddCommand(a.benchImportCommand(), a.benchCompareCommand(), a.benchClusterCommand(), a.benchTraceCommand(), a.benchServeCommand())
	cmd.AddCommand(a.benchETHCommand())
	return cmd
}

type benchResult struct {
	Tool             string    `json:"tool"`
	Blocks           int64     `json:"blocks"`
	Txs              uint64    `json:"txs"`
	Inputs           uint64    `json:"inputs"`
	Outputs          uint64    `json:"outputs"`
	Seconds          float64   `json:"seconds"`
	TxPerSec         float64   `json:"tx_per_sec"`
	IOPerSec         float64   `json:"io_per_sec"`
	PeakRSS          int64     `json:"peak_rss_bytes"`
	RawBytes         int64     `json:"raw_bytes"`
	StoreBytes       int64     `json:"store_bytes"`
	StoreRatio       float64   `json:"store_ratio"`
	BytesPerTx       float64   `json:"store_bytes_per_tx"`
	CompactSec       float64   `json:"compact_seconds"`
	ScanColdSeconds  float64   `json:"scan_cold_seconds"`
	ScanColdTxPerSec float64   `json:"scan_cold_tx_per_sec_per_core"`
	ScanSeconds      float64   `json:"scan_seconds"`
	ScanTxPerSec     float64   `json:"scan_tx_per_sec_per_core"`
	ScanIOPerSec     float64   `json:"scan_io_per_sec_per_core"`
	Segments         []float64 `json:"segments_tx_per_sec"`
	GOMAXPROCS       int       `json:"gomaxprocs"`

	Writer index.WriterStats `json:"writer"`
	// What pebble did during the import: bytes flushed from memtables and
	// written by compactions, and the write amplification.
	FlushedBytes   uint64  `json:"flushed_bytes"`
	CompactedBytes uint64  `json:"compacted_bytes"`
	WriteAmp       float64 `json:"write_amp"`
}

func (a *app) benchImportCommand() *cobra.Command {
	var (
		blocks, profile string
		segments        int
		cacheMB         int
		keep, asJSON    bool
	)
	cmd := &cobra.Command{
		Use:   "import --blocks DIR",
		Short: "Import block files into a fresh index and measure speed, memory, size and scan rate",
		Long: `Import the block files into a fresh index (a temporary data directory unless
--keep, then --data is used and must not hold an index), timing the import
alone; then compact the store and measure its size against the raw blocks;
then scan every input and output once on one goroutine.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if blocks == "" {
				return usagef("--blocks DIR is required")
			}
			if segments < 1 {
				segments = 1
			}
			ctx := cmd.Context()
			dir := a.dataDir
			if !keep {
				tmp, err := os.MkdirTemp("", "vestigo-bench-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(tmp)
				dir = tmp
			}
			r, err := blockfile.Open(ctx, blocks, blockfile.Options{MaxHeight: -1, Logger: a.logger()})
			if err != nil {
				return err
			}
			defer r.Close()
			ws, err := workspace.Open(dir, workspace.Options{Logger: a.logger(), Bulk: true, CacheBytes: int64(cacheMB) << 20 / 4})
			if err != nil {
				return err
			}
			defer func() { ws.Close() }() // ws is reopened below
			ix, err := ws.Index(r.Params().Ledger(), true)
			if err != nil {
				return err
			}
			if ix.Tip().Height >= 0 {
				return usagef("%s already holds an index; bench needs a fresh one", dir)
			}
			if profile != "" {
				f, err := os.Create(profile)
				if err != nil {
					return err
				}
				defer f.Close()
				if err := pprof.StartCPUProfile(f); err != nil {
					return err
				}
			}
			// Per-segment rates: the chain cut in equal parts by block bytes,
			// to show how the rate changes as the index grows.
			var seg []float64
			totalBytes := r.Stats().Bytes
			step := totalBytes / int64(segments)
			next := step
			var segStart time.Time
			var segTxs uint64
			bar := newBlockProgress(a.stderr, "importing")
			st, err := ingest.Import(ctx, ix, r, ingest.Options{
				Logger:        a.logger(),
				Writer:        bulk(writerOptions(cacheMB, 0)),
				ProgressEvery: time.Millisecond,
				Progress: func(p ingest.Progress) {
					bar.update(p)
					if segStart.IsZero() {
						segStart = time.Now()
					}
					if step > 0 && (p.Bytes >= next || p.Bytes == totalBytes) && p.Txs > segTxs {
						now := time.Now()
						seg = append(seg, float64(p.Txs-segTxs)/now.Sub(segStart).Seconds())
						segStart, segTxs = now, p.Txs
						next += step
					}
				},
			})
			bar.done()
			if profile != "" {
				pprof.StopCPUProfile()
			}
			if err != nil {
				return err
			}
			res := benchResult{Tool: "vestigo", Blocks: st.Blocks, Txs: st.Txs, Inputs: st.Inputs, Outputs: st.Outputs,
				Seconds: st.Elapsed.Seconds(), RawBytes: st.Bytes, Segments: seg, GOMAXPROCS: runtime.GOMAXPROCS(0)}
			res.TxPerSec = float64(st.Txs) / res.Seconds
			res.IOPerSec = float64(st.Inputs+st.Outputs) / res.Seconds
			res.Writer = st.Writer
			m := ix.Metrics()
			tot := m.Total()
			res.FlushedBytes, res.CompactedBytes, res.WriteAmp = uint64(m.Flush.WriteThroughput.Bytes), tot.BytesCompacted, tot.WriteAmp()
			t0 := time.Now()
			if err := ix.Compact(); err != nil {
				return err
			}
			res.CompactSec = time.Since(t0).Seconds()
			// Reopen: pebble keeps obsolete write-ahead logs for reuse while
			// open; the store's size is what stays on disk.
			ledger := ix.Ledger()
			if err := ws.Close(); err != nil {
				return err
			}
			ws, err = workspace.Open(dir, workspace.Options{Logger: a.logger(), CacheBytes: int64(cacheMB) << 20 / 2})
			if err != nil {
				return err
			}
			if ix, err = ws.Index(ledger, false); err != nil {
				return err
			}
			cold, err := scanAll(ix)
			if err != nil {
				return err
			}
			warm, err := scanAll(ix)
			if err != nil {
				return err
			}
			res.ScanColdSeconds = cold.Seconds()
			res.ScanColdTxPerSec = float64(st.Txs) / cold.Seconds()
			res.ScanSeconds = warm.Seconds()
			res.ScanTxPerSec = float64(st.Txs) / res.ScanSeconds
			res.ScanIOPerSec = float64(st.Inputs+st.Outputs) / res.ScanSeconds
			storeDir := ix.Dir()
			if err := ws.Close(); err != nil {
				return err
			}
			if res.StoreBytes, err = index.DiskSize(storeDir); err != nil {
				return err
			}
			res.StoreRatio = float64(res.StoreBytes) / float64(res.RawBytes)
			res.BytesPerTx = float64(res.StoreBytes) / float64(res.Txs)
			res.PeakRSS = peakRSS()
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "imported %d blocks, %d txs (%d inputs, %d outputs) in %.2fs: %.0f tx/s, %.0f inputs+outputs/s\n",
				res.Blocks, res.Txs, res.Inputs, res.Outputs, res.Seconds, res.TxPerSec, res.IOPerSec)
			fmt.Fprintf(a.stdout, "store %.1f MiB after compaction (%.2fs) = %.3f × the raw blocks (%.1f MiB), %.1f bytes/tx\n",
				float64(res.StoreBytes)/(1<<20), res.CompactSec, res.StoreRatio, float64(res.RawBytes)/(1<<20), res.BytesPerTx)
			fmt.Fprintf(a.stdout, "full scan of every input and output on one goroutine: %.3fs, %.0f tx/s, %.0f inputs+outputs/s (cold cache: %.0f tx/s)\n",
				res.ScanSeconds, res.ScanTxPerSec, res.ScanIOPerSec, res.ScanColdTxPerSec)
			fmt.Fprintf(a.stdout, "peak RSS %.0f MiB\n", float64(res.PeakRSS)/(1<<20))
			fmt.Fprintf(a.stdout, "store lookups: %d inputs' outputs, %d addresses (%d found); filter rebuilt %d times; waited %.1fs for commits; pebble wrote %.0f MiB in compactions, write amplification %.1f\n",
				res.Writer.StoredOutputs, res.Writer.AddrLookups, res.Writer.AddrFound, res.Writer.FilterRebuilds, res.Writer.CommitWait.Seconds(), float64(res.CompactedBytes)/(1<<20), res.WriteAmp)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&blocks, "blocks", "", "block files to import")
	f.StringVar(&profile, "cpuprofile", "", "write a CPU profile of the import to this file")
	f.IntVar(&segments, "segments", 10, "report the rate of this many equal parts of the import")
	f.IntVar(&cacheMB, "cache", 2048, "memory for caches in MiB")
	f.BoolVar(&keep, "keep", false, "import into --data and keep it")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// scanAll reads every input (previous output, value, address) and every
// output (value, address) once, as the whole-chain analyses do, and
// returns how long it took.
func scanAll(ix *index.Index) (time.Duration, error) {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	var sum uint64
	t0 := time.Now()
	err := ix.ScanFlows(0, -1, func(r *index.TxRecord) error {
		for i := range r.In {
			sum += r.In[i].Value + uint64(r.In[i].Addr)
		}
		for i := range r.Out {
			sum += r.Out[i].Value + uint64(r.Out[i].Addr)
		}
		return nil
	})
	d := time.Since(t0)
	if sum == 42 { // keep the loop from being optimised away
		fmt.Fprint(os.Stderr, "")
	}
	return d, err
}

// peakRSS returns the process's peak resident set size in bytes.
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}

// peerResult is what bench/btcdpeer prints with -json.
type peerResult struct {
	Tool       string    `json:"tool"`
	Version    string    `json:"btcd_version"`
	Blocks     int64     `json:"blocks"`
	Txs        uint64    `json:"txs"`
	Inputs     uint64    `json:"inputs"`
	Outputs    uint64    `json:"outputs"`
	Seconds    float64   `json:"seconds"`
	TxPerSec   float64   `json:"tx_per_sec"`
	IOPerSec   float64   `json:"io_per_sec"`
	PeakRSS    int64     `json:"peak_rss_bytes"`
	DBBytes    int64     `json:"db_bytes"`
	Segments   []float64 `json:"segments_tx_per_sec"`
	RawBytes   int64     `json:"-"`
	StoreRatio float64   `json:"-"`
}

func (a *app) benchCompareCommand() *cobra.Command {
	var oursFile, peerFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "compare --ours FILE --peer FILE",
		Short: "Print vestigo bench import and bench/btcdpeer results side by side, with ratios",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if oursFile == "" || peerFile == "" {
				return usagef("--ours and --peer are required")
			}
			var ours benchResult
			var peer peerResult
			if err := readJSON(oursFile, &ours); err != nil {
				return err
			}
			if err := readJSON(peerFile, &peer); err != nil {
				return err
			}
			return a.printComparison(ours, peer, asJSON)
		},
	}
	cmd.Flags().StringVar(&oursFile, "ours", "", "JSON of vestigo bench import --json")
	cmd.Flags().StringVar(&peerFile, "peer", "", "JSON of bench/btcdpeer -json on the same blocks")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

func (a *app) printComparison(ours benchResult, peer peerResult, asJSON bool) error {
	if peer.Txs != ours.Txs || peer.Blocks != ours.Blocks {
		return fmt.Errorf("the peer indexed %d blocks and %d txs, vestigo %d and %d: not the same chain", peer.Blocks, peer.Txs, ours.Blocks, ours.Txs)
	}
	if asJSON {
		return a.printJSON(struct {
			Vestigo benchResult `json:"vestigo"`
			Peer    peerResult  `json:"peer"`
		}{ours, peer})
	}
	mib := func(n int64) string { return fmt.Sprintf("%.0f MiB", float64(n)/(1<<20)) }
	w := table(a.stdout)
	fmt.Fprintf(w, "chain\t%d blocks, %d txs, %d inputs, %d outputs, %s of blocks\n", ours.Blocks, ours.Txs, ours.Inputs, ours.Outputs, mib(ours.RawBytes))
	fmt.Fprintf(w, "\tbtcd %s indexes\tvestigo\tvestigo / btcd\n", peer.Version)
	fmt.Fprintf(w, "import tx/s\t%.0f\t%.0f\t%.1f×\n", peer.TxPerSec, ours.TxPerSec, ours.TxPerSec/peer.TxPerSec)
	fmt.Fprintf(w, "inputs+outputs/s\t%.0f\t%.0f\t%.1f×\n", peer.IOPerSec, ours.IOPerSec, ours.IOPerSec/peer.IOPerSec)
	fmt.Fprintf(w, "seconds\t%.1f\t%.1f\t\n", peer.Seconds, ours.Seconds)
	fmt.Fprintf(w, "peak RSS\t%s\t%s\t%.2f×\n", mib(peer.PeakRSS), mib(ours.PeakRSS), float64(ours.PeakRSS)/float64(peer.PeakRSS))
	fmt.Fprintf(w, "on disk\t%s (indexes only)\t%s (whole store)\t%.2f×\n", mib(peer.DBBytes), mib(ours.StoreBytes), float64(ours.StoreBytes)/float64(peer.DBBytes))
	fmt.Fprintf(w, "store / raw blocks\t\t%.3f\t\n", ours.StoreRatio)
	fmt.Fprintf(w, "bytes per tx\t%.1f\t%.1f\t\n", float64(peer.DBBytes)/float64(peer.Txs), ours.BytesPerTx)
	fmt.Fprintf(w, "scan tx/s/core (warm, cold)\t\t%.0f, %.0f\t\n", ours.ScanTxPerSec, ours.ScanColdTxPerSec)
	fmt.Fprintf(w, "tx/s by tenth\t%s\t%s\t\n", rates(peer.Segments), rates(ours.Segments))
	return w.Flush()
}

func rates(r []float64) string {
	var b strings.Builder
	for i, x := range r {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%.0fk", x/1000)
	}
	return b.String()
}
