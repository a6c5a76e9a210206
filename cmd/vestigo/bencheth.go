package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/ethchaingen"
	"github.com/vestigo-forensics/vestigo/internal/ethingest"
	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
)

func (a *app) benchETHCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "eth",
		Short: "Fill an Ethereum node with a generated chain, and fetch it without writes (make bench-eth)",
		Long: `make bench-eth (scripts/bench-eth.sh) starts geth --dev, fills it with
"vestigo bench eth generate", imports it with "vestigo import eth" and measures
the node alone with "vestigo bench eth fetch": the same blocks, receipts and
call traces fetched by the same number of workers, without writing. The ratio
of the import's time to the fetch's says whether the node or the index bounds
the import.`,
	}
	cmd.AddCommand(a.benchETHGenerateCommand(), a.benchETHFetchCommand())
	return cmd
}

type ethGenerateResult struct {
	ethchaingen.Stats
	Seed     uint64  `json:"seed"`
	Seconds  float64 `json:"seconds"`
	TxPerSec float64 `json:"tx_per_sec"`
	Head     uint64  `json:"head"`
}

func (a *app) benchETHGenerateCommand() *cobra.Command {
	var (
		rpcURL                 string
		opt                    ethchaingen.Options
		asJSON                 bool
		tokenShare, fwdShare   int
		receiptTimeout         time.Duration
		accounts, round, total int
	)
	cmd := &cobra.Command{
		Use:   "generate --rpc URL --txs N",
		Short: "Fill a development node with N generated transactions (ether and ERC-20 transfers, contract calls with internal transfers)",
		Long: `Fill a development node (geth --dev) with a chain of N transactions drawn from
--seed: its unlocked account pays a bank, which deploys an ERC-20 token and a
forwarding contract and pays --accounts accounts; then rounds of plain ether
transfers, token transfers and forwarder calls (internal transfers) between
them, signed here and sent in JSON-RPC batches. Start geth with a large
--dev.gaslimit (scripts/bench-eth.sh uses 1,000,000,000): a node that fills
its blocks past half raises its base fee.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rpcURL == "" {
				return usagef("--rpc URL is required")
			}
			if total <= 0 {
				return usagef("--txs N is required")
			}
			ctx := cmd.Context()
			c, err := rpc.DialContext(ctx, rpcURL)
			if err != nil {
				return fmt.Errorf("bench eth: cannot connect to %s: %w", rpcURL, err)
			}
			defer c.Close()
			var accs []common.Address
			if err := c.CallContext(ctx, &accs, "eth_accounts"); err != nil {
				return fmt.Errorf("bench eth: eth_accounts: %w", err)
			}
			if len(accs) == 0 {
				return errors.New("bench eth: the node holds no unlocked account to pay the bank (geth --dev has one)")
			}
			opt.Txs, opt.Accounts, opt.Round = total, accounts, round
			opt.TokenPercent, opt.ForwardPercent, opt.ReceiptTimeout = tokenShare, fwdShare, receiptTimeout
			opt.Logger = a.logger()
			if isTerminal(a.stderr) {
				var last time.Time
				opt.Progress = func(st ethchaingen.Stats) {
					if now := time.Now(); now.Sub(last) > 200*time.Millisecond || st.Txs == total {
						last = now
						fmt.Fprintf(a.stderr, "\rgenerated %d of %d transactions, block %d", st.Txs, total, st.LastBlock)
					}
				}
			}
			st, err := ethchaingen.Generate(ctx, c, ethscenario.DevFunder{RPC: c, From: accs[0]}, opt)
			if opt.Progress != nil {
				fmt.Fprintln(a.stderr)
			}
			if err != nil {
				return err
			}
			res := ethGenerateResult{Stats: st, Seed: opt.Seed, Seconds: st.Elapsed.Seconds()}
			if res.Seconds > 0 {
				res.TxPerSec = float64(st.Txs) / res.Seconds
			}
			var head string
			if err := c.CallContext(ctx, &head, "eth_blockNumber"); err != nil {
				return fmt.Errorf("bench eth: eth_blockNumber: %w", err)
			}
			if _, err := fmt.Sscanf(head, "0x%x", &res.Head); err != nil {
				return fmt.Errorf("bench eth: eth_blockNumber answered %q", head)
			}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "generated %d transactions (%d set-up, %d ether transfers, %d token transfers, %d forwarder calls) between %d accounts in blocks %d–%d in %.1fs (%.0f tx/s); head %d\n",
				st.Txs, st.Setup, st.Transfers, st.TokenTransfers, st.ForwardCalls, st.Accounts, st.FirstBlock, st.LastBlock, res.Seconds, res.TxPerSec, res.Head)
			fmt.Fprintf(a.stdout, "token %s, forwarder %s\n", st.Token, st.Forwarder)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&rpcURL, "rpc", "", "the node's JSON-RPC URL (a development node with an unlocked account)")
	f.IntVar(&total, "txs", 0, "transactions to make, the set-up's included")
	f.Uint64Var(&opt.Seed, "seed", 42, "seed of the keys and the mix")
	f.IntVar(&accounts, "accounts", ethchaingen.DefaultAccounts, "accounts that trade")
	f.IntVar(&round, "round", ethchaingen.DefaultRound, "transactions sent in one batch before their receipts are awaited")
	f.IntVar(&tokenShare, "token-percent", ethchaingen.DefaultTokenPercent, "share of ERC-20 transfers in the mix (negative: none)")
	f.IntVar(&fwdShare, "forward-percent", ethchaingen.DefaultForwardPercent, "share of forwarder calls in the mix (negative: none)")
	f.DurationVar(&receiptTimeout, "receipt-timeout", ethchaingen.DefaultReceiptTimeout, "give up when no receipt of a round comes for this long")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type ethFetchResult struct {
	Tool              string  `json:"tool"`
	Workers           int     `json:"workers"`
	From              uint64  `json:"from"`
	To                uint64  `json:"to"`
	Blocks            uint64  `json:"blocks"`
	Txs               uint64  `json:"txs"`
	TokenTransfers    uint64  `json:"token_transfers"`
	InternalTransfers uint64  `json:"internal_transfers"`
	Untraced          uint64  `json:"untraced_blocks"`
	ResponseBytes     uint64  `json:"-"`
	Seconds           float64 `json:"seconds"`
	BlocksPerSec      float64 `json:"blocks_per_sec"`
	TxPerSec          float64 `json:"tx_per_sec"`
	FetchSeconds      float64 `json:"fetch_seconds"`
	PeakRSS           int64   `json:"peak_rss_bytes"`
}

func (a *app) benchETHFetchCommand() *cobra.Command {
	var (
		rpcURL   string
		from, to uint64
		workers  int
		timeout  time.Duration
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "fetch --rpc URL",
		Short: "Fetch blocks, receipts and call traces as vestigo import eth does, without writing (the import's peer)",
		Long: `Fetch blocks --from to --to (default: 0 to the node's head) with their full
transactions (eth_getBlockByNumber), receipts (eth_getBlockReceipts) and call
traces (debug_traceBlockByNumber, callTracer) on --workers goroutines, decode
and check them against each other as the import does, read the ERC-20 and
internal transfers, and write nothing. Run against the node an import read,
with the same number of workers, it measures the node alone.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rpcURL == "" {
				return usagef("--rpc URL is required")
			}
			if workers < 1 {
				return usagef("--workers must be at least 1")
			}
			ctx := cmd.Context()
			c, err := eth.Dial(ctx, rpcURL, eth.WithLogger(a.logger()), eth.WithTimeout(timeout))
			if err != nil {
				return err
			}
			defer c.Close()
			if to == 0 {
				if to, err = c.BlockNumber(ctx); err != nil {
					return err
				}
			}
			if from > to {
				return usagef("--from %d is after --to %d", from, to)
			}
			res := ethFetchResult{Tool: "fetch-only", Workers: workers, From: from, To: to}
			var (
				next                            atomic.Uint64
				txs, tokens, internal, untraced atomic.Uint64
				fetchNanos                      atomic.Int64
				mu                              sync.Mutex
				firstErr                        error
				wg                              sync.WaitGroup
			)
			next.Store(from)
			t0 := time.Now()
			for range workers {
				wg.Go(func() {
					for {
						n := next.Add(1) - 1
						if n > to || ctx.Err() != nil {
							return
						}
						start := time.Now()
						st, err := fetchBlock(cmd, c, n)
						fetchNanos.Add(int64(time.Since(start)))
						if err != nil {
							mu.Lock()
							if firstErr == nil {
								firstErr = err
							}
							mu.Unlock()
							next.Store(to + 1)
							return
						}
						txs.Add(st.txs)
						tokens.Add(st.tokens)
						internal.Add(st.internal)
						if !st.traced {
							untraced.Add(1)
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(t0)
			if firstErr != nil {
				return firstErr
			}
			if err := ctx.Err(); err != nil {
				return err
			}
			res.Blocks = to - from + 1
			res.Txs, res.TokenTransfers, res.InternalTransfers, res.Untraced = txs.Load(), tokens.Load(), internal.Load(), untraced.Load()
			res.Seconds = elapsed.Seconds()
			res.BlocksPerSec = float64(res.Blocks) / res.Seconds
			res.TxPerSec = float64(res.Txs) / res.Seconds
			res.FetchSeconds = time.Duration(fetchNanos.Load()).Seconds()
			res.PeakRSS = peakRSS()
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "fetched blocks %d–%d (%d txs, %d token transfers, %d internal transfers) on %d workers in %.2fs: %.0f blocks/s, %.0f tx/s; peak RSS %.0f MiB\n",
				from, to, res.Txs, res.TokenTransfers, res.InternalTransfers, workers, res.Seconds, res.BlocksPerSec, res.TxPerSec, float64(res.PeakRSS)/(1<<20))
			if res.Untraced > 0 {
				fmt.Fprintf(a.stdout, "note: %d blocks without call traces: the node does not offer debug_traceBlockByNumber\n", res.Untraced)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&rpcURL, "rpc", "", "the node's JSON-RPC URL")
	f.Uint64Var(&from, "from", 0, "first block")
	f.Uint64Var(&to, "to", 0, "last block (default: the node's head)")
	f.IntVar(&workers, "workers", ethingest.DefaultWorkers, "blocks fetched in parallel (vestigo import eth's default)")
	f.DurationVar(&timeout, "rpc-timeout", 60*time.Second, "timeout of one request to the node")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type fetchedCounts struct {
	txs, tokens, internal uint64
	traced                bool
}

// fetchBlock reads block n as the import's fetchers do (block, receipts,
// trace), checks them against each other and counts the transfers.
func fetchBlock(cmd *cobra.Command, c *eth.Client, n uint64) (fetchedCounts, error) {
	ctx := cmd.Context()
	b, err := c.BlockByNumber(ctx, n)
	if err != nil {
		return fetchedCounts{}, err
	}
	receipts, err := c.BlockReceipts(ctx, n)
	if err != nil {
		return fetchedCounts{}, err
	}
	traces, traced, err := c.TraceBlock(ctx, n)
	if err != nil {
		return fetchedCounts{}, err
	}
	if err := eth.CheckReceipts(&b, receipts); err != nil {
		return fetchedCounts{}, err
	}
	out := fetchedCounts{txs: uint64(len(b.Txs)), traced: traced}
	for i := range receipts {
		for _, l := range receipts[i].Logs {
			if _, ok, err := eth.DecodeTransfer(l); err == nil && ok {
				out.tokens++
			}
		}
	}
	if traced {
		if err := eth.CheckTraces(&b, traces); err != nil {
			return fetchedCounts{}, err
		}
		frames := make([]eth.CallFrame, len(traces))
		for i := range traces {
			frames[i] = traces[i].Root
		}
		out.internal = uint64(len(eth.InternalTransfers(frames)))
	}
	return out, nil
}
