package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/ethingest"
)

func (a *app) importETHCommand() *cobra.Command {
	var (
		rpcURL       string
		name, symbol string
		from, to     uint64
		fromSet      bool
		follow       bool
		workers      int
		noOpenings   bool
		asJSON       bool
		timeout      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "eth --rpc URL",
		Short: "Import an Ethereum or other EVM chain from a node's JSON-RPC into the index",
		Long: `Import blocks, transactions, receipts, ERC-20 transfers, fees and (when the
node offers debug_traceBlockByNumber) internal transfers from an Ethereum node
(geth, Erigon, Nethermind, Reth) or any EVM chain's node into the index of its
chain id (DATA/index/evm-<chain id>). Several EVM chains can live in one data
directory. The first run starts at block 0 (or --from); later runs resume at
the tip. Reorganisations are rolled back. With --follow it keeps importing new
blocks until interrupted. Opening balances (what an address held before the
index first saw it) are read from the node at the block before, so the node
must keep that state: use an archive node, or import recent blocks only.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if rpcURL == "" {
				return usagef("--rpc URL is required")
			}
			if a.chain != "" && a.chain != string(chain.Ethereum) {
				return usagef("import eth imports EVM chains; --chain %s does not apply", a.chain)
			}
			if follow && to != 0 {
				return usagef("--follow and --to exclude each other")
			}
			ctx := cmd.Context()
			c, err := eth.Dial(ctx, rpcURL, eth.WithLogger(a.logger()), eth.WithTimeout(timeout))
			if err != nil {
				return err
			}
			defer c.Close()
			id, err := c.ChainID(ctx)
			if err != nil {
				return err
			}
			if a.chainID != 0 && a.chainID != id {
				return fmt.Errorf("import: the node at %s serves chain %d, not --chain-id %d", rpcURL, id, a.chainID)
			}
			if name == "" {
				name = knownChainName(id)
			}
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			ix, err := ws.EVMIndex(id, true, name, symbol)
			if err != nil {
				return err
			}
			opt := ethingest.Options{Follow: follow, To: to, Workers: workers, NoOpenings: noOpenings, Logger: a.logger()}
			if fromSet {
				opt.From = &from
			}
			bar := newETHProgress(a.stderr)
			opt.Progress = bar.update
			st, err := ethingest.Import(ctx, c, ix, opt)
			bar.done()
			if err == nil || errors.Is(err, ctx.Err()) {
				a.printETHImport(ix.Meta().Name, id, &st, asJSON)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&rpcURL, "rpc", "", "the node's JSON-RPC URL (http, https, ws or wss)")
	f.StringVar(&name, "name", "", "a name for the chain (default: mainnet, sepolia, … from the chain id, else evm-<id>); kept by the index")
	f.StringVar(&symbol, "symbol", "", "the native coin's symbol for a new index (default ETH)")
	f.Uint64Var(&from, "from", 0, "first block (an empty index only; default 0)")
	f.Uint64Var(&to, "to", 0, "last block (default: the node's head when the import starts)")
	f.BoolVar(&follow, "follow", false, "keep importing new blocks until interrupted")
	f.IntVar(&workers, "workers", ethingest.DefaultWorkers, "blocks fetched in parallel")
	f.BoolVar(&noOpenings, "no-openings", false, "do not ask the node the opening balances (faster; balances then count from the first block imported)")
	f.DurationVar(&timeout, "rpc-timeout", 60*time.Second, "timeout of one request to the node")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	cmd.PreRun = func(cmd *cobra.Command, _ []string) { fromSet = cmd.Flags().Changed("from") }
	return cmd
}

// knownChainName names the EVM chains an investigator meets most.
func knownChainName(id uint64) string {
	switch id {
	case 1:
		return "ethereum"
	case 11155111:
		return "sepolia"
	case 17000:
		return "holesky"
	case 56:
		return "bsc"
	case 137:
		return "polygon"
	case 42161:
		return "arbitrum"
	case 10:
		return "optimism"
	case 8453:
		return "base"
	case 1337:
		return "dev"
	}
	return fmt.Sprintf("evm-%d", id)
}

type ethImportSummary struct {
	Chain             string   `json:"chain"`
	ChainID           uint64   `json:"chain_id"`
	Tip               uint64   `json:"tip_height"`
	TipHash           string   `json:"tip_hash"`
	Blocks            uint64   `json:"blocks"`
	Txs               uint64   `json:"txs"`
	Moves             uint64   `json:"moves"`
	TokenTransfers    uint64   `json:"token_transfers"`
	InternalTransfers uint64   `json:"internal_transfers"`
	Openings          uint64   `json:"openings"`
	Untraced          uint64   `json:"untraced_blocks"`
	Reorgs            uint64   `json:"reorgs"`
	RolledBack        uint64   `json:"rolled_back"`
	Malformed         uint64   `json:"malformed_logs"`
	TokenProblems     uint64   `json:"token_problems"`
	Problems          []string `json:"problems"`
	Seconds           float64  `json:"seconds"`
	TxPerSec          float64  `json:"tx_per_sec"`
	FetchSeconds      float64  `json:"fetch_seconds"`
	FetchWaitSeconds  float64  `json:"fetch_wait_seconds"`
	StateRPCSeconds   float64  `json:"state_rpc_seconds"`
	WriteSeconds      float64  `json:"write_seconds"`
}

func (a *app) printETHImport(name string, id uint64, st *ethingest.Stats, asJSON bool) {
	s := ethImportSummary{Chain: name, ChainID: id, Tip: st.Tip.Height, TipHash: st.Tip.Hash.String(), Blocks: st.Blocks, Txs: st.Txs,
		Moves: st.Moves, TokenTransfers: st.TokenTransfers, InternalTransfers: st.InternalTransfers, Openings: st.Openings,
		Untraced: st.Untraced, Reorgs: st.Reorgs, RolledBack: st.RolledBack, Malformed: st.Malformed, TokenProblems: st.TokenProblems,
		Problems: st.Problems, Seconds: st.Elapsed.Seconds(), FetchSeconds: st.Fetch.Seconds(), FetchWaitSeconds: st.FetchWait.Seconds(),
		StateRPCSeconds: st.StateRPC.Seconds(), WriteSeconds: st.Write.Seconds()}
	if s.Problems == nil {
		s.Problems = []string{}
	}
	if s.Seconds > 0 {
		s.TxPerSec = float64(st.Txs) / s.Seconds
	}
	if asJSON {
		_ = a.printJSON(s)
		return
	}
	if st.Reorgs > 0 {
		fmt.Fprintf(a.stdout, "followed %d reorganisations (%d blocks rolled back)\n", st.Reorgs, st.RolledBack)
	}
	if st.Blocks == 0 {
		fmt.Fprintf(a.stdout, "%s (chain id %d): up to date at block %d %s\n", name, id, s.Tip, s.TipHash)
	} else {
		fmt.Fprintf(a.stdout, "%s (chain id %d): imported %d blocks to %d (%d txs, %d moves: %d token transfers, %d internal) in %s, %s tx/s\n",
			name, id, st.Blocks, st.Height, st.Txs, st.Moves, st.TokenTransfers, st.InternalTransfers, st.Elapsed.Round(1e7), rate(st.Txs, st.Elapsed))
		fmt.Fprintf(a.stdout, "tip: block %d %s\n", s.Tip, s.TipHash)
	}
	if st.Untraced > 0 {
		fmt.Fprintf(a.stdout, "note: %d blocks were imported without internal transfers: the node does not offer debug_traceBlockByNumber\n", st.Untraced)
	}
	if st.Malformed+st.TokenProblems > 0 {
		fmt.Fprintf(a.stdout, "note: %d malformed logs kept out of the ledger, %d token balance reads failed:\n", st.Malformed, st.TokenProblems)
		for _, p := range st.Problems {
			fmt.Fprintf(a.stdout, "  %s\n", p)
		}
	}
}

// ethProgress draws blocks against the target with the tx rate and an ETA
// on a terminal; elsewhere it is silent.
type ethProgress struct {
	bar *progressbar.ProgressBar
}

func newETHProgress(stderr io.Writer) *ethProgress {
	p := &ethProgress{}
	if !isTerminal(stderr) {
		return p
	}
	p.bar = newBar(stderr, "importing")
	return p
}

func (p *ethProgress) update(pr ethingest.Progress) {
	if p.bar == nil {
		return
	}
	if pr.Target+1 > pr.Height-pr.Blocks+1 {
		p.bar.ChangeMax64(int64(pr.Target - (pr.Height - pr.Blocks)))
	}
	p.bar.Describe(fmt.Sprintf("block %d, %d txs (%s tx/s)", pr.Height, pr.Txs, rate(pr.Txs, pr.Elapsed)))
	_ = p.bar.Set64(int64(pr.Blocks))
}

func (p *ethProgress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}
