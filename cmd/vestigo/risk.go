package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// maxWeightsFile bounds a risk weights file.
const maxWeightsFile = 1 << 20

func (a *app) riskCommand() *cobra.Command {
	var (
		asJSON       bool
		weightsFile  string
		printWeights bool
	)
	cmd := &cobra.Command{
		Use:   "risk ADDRESS",
		Short: "An explainable risk score: every factor with its weight and evidence",
		Long: `Score an address as the sum of weighted factors: a sanctioned tag on it or its
cluster, its exposure share to each weighted tag category (incoming or
outgoing, haircut, within the weights file's hop limit), and the typologies
found in its transactions. Every factor is listed with its weight, value,
contribution and evidence. Weights come from a JSON file (--weights); print the
defaults with --print-weights.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if printWeights {
				return nil
			}
			return exactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if printWeights {
				_, err := a.stdout.Write(entity.DefaultWeights())
				return err
			}
			raw := entity.DefaultWeights()
			if weightsFile != "" {
				st, err := os.Stat(weightsFile)
				if err != nil {
					return err
				}
				if st.Size() > maxWeightsFile {
					return usagef("%s is larger than %d KiB", weightsFile, maxWeightsFile>>10)
				}
				if raw, err = os.ReadFile(weightsFile); err != nil {
					return err
				}
			}
			w, err := entity.ParseWeights(raw)
			if err != nil {
				return err
			}
			var r *entity.Risk
			if workspace.IsEVMInput(args[0]) {
				if r, err = a.evmRisk(cmd, args[0], w); err != nil {
					return err
				}
			} else {
				svc, addr, err := a.attributionOf(args[0], false)
				if err != nil {
					return err
				}
				if r, err = svc.Risk(cmd.Context(), addr, w); err != nil {
					return err
				}
			}
			if asJSON {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "Risk of %s (entity %d): %.2f\n", r.Address, r.EntityID, r.Score)
			if len(r.Factors) == 0 {
				fmt.Fprintln(a.stdout, "  no weighted factor applies")
			}
			for _, f := range r.Factors {
				fmt.Fprintf(a.stdout, "\n  %s: weight %.2f × value %.4f = %.2f\n", f.Name, f.Weight, f.Value, f.Contribution)
				for _, e := range f.Evidence {
					fmt.Fprintf(a.stdout, "    - %s\n", strings.TrimSpace(e))
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&weightsFile, "weights", "", "risk weights JSON (default: the built-in file; see --print-weights)")
	cmd.Flags().BoolVar(&printWeights, "print-weights", false, "print the default weights file and exit")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
