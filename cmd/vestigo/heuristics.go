package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/evaluate"
	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

func (a *app) heuristicsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "heuristics",
		Short: "Measure the attribution heuristics' error rates",
		Args:  exactArgs(0),
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.heuristicsEvaluateCommand())
	return cmd
}

func (a *app) heuristicsEvaluateCommand() *cobra.Command {
	var (
		truthFile string
		asJSON    bool
		noSave    bool
	)
	cmd := &cobra.Command{
		Use:   "evaluate --ground-truth FILE",
		Short: "Precision and recall of every heuristic on a generated chain",
		Long: `Run every CoinJoin detector, change heuristic and clustering mode on a chain made
by "vestigo generate btc" and imported into the index, and score them against
the generator's ground truth (ground-truth.json next to its block files):
precision, recall and counts per heuristic. The run is deterministic: the same
chain gives the same figures, which a court report can quote.

  vestigo generate btc --out case --seed 7 --scenario ransomware
  vestigo import btc --blocks case
  vestigo heuristics evaluate --ground-truth case/ground-truth.json

The report is saved (unless --no-save) as DATA/evaluations/<scenario>-<seed>-<network>.json,
where "vestigo report" takes the measured figures of its methodology section from.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if truthFile == "" {
				return usagef("--ground-truth FILE is required")
			}
			truth, err := scenario.LoadTruth(truthFile)
			if err != nil {
				return err
			}
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			ix, err := ws.Index(chain.Ledger{Chain: chain.Bitcoin, Network: chain.Network(truth.Network)}, false)
			if err != nil {
				return err
			}
			tmp, err := os.MkdirTemp("", "vestigo-evaluate-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(tmp)
			rep, err := evaluate.Run(cmd.Context(), ix, truth, tmp)
			if err != nil {
				return err
			}
			saved := ""
			if !noSave {
				if saved, err = ws.SaveEvaluation(rep); err != nil {
					return err
				}
			}
			if asJSON {
				return a.printJSON(rep)
			}
			printEvaluation(a, rep)
			if saved != "" {
				fmt.Fprintf(a.stdout, "\nSaved to %s (the figures reports quote).\n", saved)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&truthFile, "ground-truth", "", "ground-truth.json of a generated chain")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&noSave, "no-save", false, "do not save the report in DATA/evaluations")
	return cmd
}

func printEvaluation(a *app, r *evaluate.Report) {
	fmt.Fprintf(a.stdout, "Scenario %s, seed %d, %s, tip %d %s: %d transactions scored (%d CoinJoins, %d change outputs in the truth)\n\n",
		r.Scenario, r.Seed, r.Network, r.TipHeight, r.TipHash, r.Txs, r.CoinJoins, r.ChangeOutputs)
	metrics := func(title, unit string, ms []evaluate.Metric) {
		fmt.Fprintf(a.stdout, "%s (per %s)\n", title, unit)
		w := table(a.stdout)
		fmt.Fprintf(w, "  HEURISTIC\tPRECISION\tRECALL\tDECISIONS\tTP\tFP\tFN\n")
		for _, m := range ms {
			fmt.Fprintf(w, "  %s\t%s\t%s\t%d\t%d\t%d\t%d\n", m.Name, pct(m.Precision, m.Decisions > 0), pct(m.Recall, m.TruePositives+m.FalseNegatives > 0),
				m.Decisions, m.TruePositives, m.FalsePositives, m.FalseNegatives)
		}
		w.Flush()
		fmt.Fprintln(a.stdout)
	}
	metrics("CoinJoin detection", "transaction", append([]evaluate.Metric{r.CoinJoin}, r.CoinJoinDetectors...))
	metrics("Change heuristics", "output", r.Change)
	fmt.Fprintf(a.stdout, "Clustering (per pair of addresses)\n")
	w := table(a.stdout)
	fmt.Fprintf(w, "  MODE\tPRECISION\tRECALL\tADDRESSES\tWALLETS\tCLUSTERS\tIMPURE CLUSTERS\tSPLIT WALLETS\n")
	for _, c := range r.Clustering {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%d\t%d\t%d\t%d\t%d\n", c.Mode, pct(c.Precision, c.PredictedPairs > 0), pct(c.Recall, c.TruePairs > 0),
			c.Addresses, c.Wallets, c.Clusters, c.ImpureClusters, c.SplitWallets)
	}
	w.Flush()
}

func pct(x float64, defined bool) string {
	if !defined {
		return "n/a"
	}
	return fmt.Sprintf("%.2f%%", 100*x)
}
