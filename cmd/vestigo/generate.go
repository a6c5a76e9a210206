package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

func (a *app) generateCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "generate",
		Short: "Generate synthetic chains with known ground truth (demo, benchmarks, training)",
	}
	cmd.AddCommand(a.generateBTCCommand())
	return cmd
}

func (a *app) generateBTCCommand() *cobra.Command {
	var (
		out    string
		seed   uint64
		txs    int
		scen   string
		truth  bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "btc --out DIR --seed N",
		Short: "Write a valid Bitcoin regtest chain as blk*.dat files",
		Long: `Write a valid Bitcoin regtest chain (real proof of work, merkle roots, BIP34
heights, witness commitments, signed P2PKH/P2WPKH/P2TR spends) as Bitcoin
Core block files, with a realistic economy of wallets, an exchange and
miners. The same seed and options always give the same bytes.

Scenarios (--scenario): ` + strings.Join(scenario.Scenarios(), ", ") + `. A scenario also writes
ground-truth.json: who owns which address, every transaction's change
outputs and the scenario's events, for measuring the analyses.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("--out DIR is required")
			}
			if txs < 0 {
				return usagef("--txs must not be negative")
			}
			if a.network != "" && a.network != "regtest" {
				return usagef("generate btc writes regtest chains only")
			}
			known := scen == ""
			for _, s := range scenario.Scenarios() {
				known = known || s == scen
			}
			if !known {
				return usagef("unknown scenario %q (known: %s)", scen, strings.Join(scenario.Scenarios(), ", "))
			}
			bar := newBlockProgress(a.stderr, "generating")
			res, err := scenario.Generate(cmd.Context(), scenario.Config{
				Seed: seed, Txs: txs, Scenario: scen, Truth: truth, Logger: a.logger(),
				Progress: func(done, total int) {
					if bar.bar != nil {
						bar.bar.ChangeMax64(int64(total))
						_ = bar.bar.Set64(int64(done))
					}
				},
			}, out)
			bar.done()
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(generated{Dir: out, Blocks: res.Blocks, Txs: res.Txs, BackgroundTxs: res.BackgroundTxs,
					ScenarioTxs: res.ScenarioTxs, Bytes: res.Bytes, Files: res.Files, TipHeight: res.TipHeight,
					TipHash: res.TipHash.String(), TruthFile: res.TruthFile, Manifest: res.ManifestFile})
			}
			fmt.Fprintf(a.stdout, "wrote %d blocks (%d transactions, %.1f MiB) to %s\n", res.Blocks, res.Txs, float64(res.Bytes)/(1<<20), out)
			fmt.Fprintf(a.stdout, "tip: block %d %s\n", res.TipHeight, res.TipHash)
			fmt.Fprintf(a.stdout, "import it with: vestigo import btc --blocks %s\n", out)
			if res.TruthFile == "" {
				return nil
			}
			fmt.Fprintf(a.stdout, "ground truth: %s\n", res.TruthFile)
			truth, err := scenario.LoadTruth(res.TruthFile)
			if err != nil {
				return err
			}
			if truth.Ransomware != nil {
				printRansomware(a, truth.Ransomware)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "directory to write (must be empty or not exist)")
	f.Uint64Var(&seed, "seed", 1, "random seed: the same seed gives the same chain")
	f.IntVar(&txs, "txs", 0, "number of background transactions (0: the scenario's default)")
	f.StringVar(&scen, "scenario", "", "scenario to play out in the chain")
	f.BoolVar(&truth, "truth", false, "write ground-truth.json even without a scenario")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

type generated struct {
	Dir           string   `json:"dir"`
	Blocks        int      `json:"blocks"`
	Txs           int      `json:"txs"`
	BackgroundTxs int      `json:"background_txs"`
	ScenarioTxs   int      `json:"scenario_txs"`
	Bytes         int64    `json:"bytes"`
	Files         []string `json:"files"`
	TipHeight     int64    `json:"tip_height"`
	TipHash       string   `json:"tip_hash"`
	TruthFile     string   `json:"ground_truth,omitempty"`
	Manifest      string   `json:"manifest"`
}

// printRansomware tells what happened in the ransomware scenario and where
// to start following the money.
func printRansomware(a *app, rw *scenario.RansomwareTruth) {
	var paid uint64
	for _, p := range rw.RansomPayments {
		paid += p.Value
	}
	fmt.Fprintf(a.stdout, "\nScenario: %d victims paid %s to %d ransom addresses; the attacker consolidated them,\n",
		len(rw.Victims), btcAmount(chain.Sats(paid)), len(rw.RansomAddresses))
	toExchange := 0
	for _, h := range rw.PeelChain {
		if h.ToExchange {
			toExchange++
		}
	}
	fmt.Fprintf(a.stdout, "peeled the funds through %d hops (%d peels into exchange deposit addresses) and sent the rest into a CoinJoin.\n\n",
		len(rw.PeelChain), toExchange)
	fmt.Fprintf(a.stdout, "Follow the money:\n")
	if len(rw.RansomAddresses) > 0 {
		fmt.Fprintf(a.stdout, "  vestigo address %s          # a ransom address\n", rw.RansomAddresses[0])
	}
	fmt.Fprintf(a.stdout, "  vestigo tx %s   # the consolidation\n", rw.ConsolidationTxid)
	if len(rw.PeelChain) > 0 {
		fmt.Fprintf(a.stdout, "  vestigo tx %s   # peel chain, hop 1\n", rw.PeelChain[0].Txid)
	}
	if len(rw.ExchangeDeposits) > 0 {
		fmt.Fprintf(a.stdout, "  vestigo address %s          # an exchange deposit address\n", rw.ExchangeDeposits[0].Address)
	}
	if rw.CoinJoin.Txid != "" {
		fmt.Fprintf(a.stdout, "  vestigo tx %s   # the CoinJoin\n", rw.CoinJoin.Txid)
	}
}
