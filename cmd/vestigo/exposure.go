package main

import (
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) exposureCommand() *cobra.Command {
	var (
		asJSON bool
		hops   int
	)
	cmd := &cobra.Command{
		Use:   "exposure ADDRESS",
		Short: "Exposure of an address to each tag category, incoming and outgoing",
		Long: `Trace what an address received backward (incoming) and the same funds forward
(outgoing) with the haircut model, up to --hops transactions, stopping at the
first tagged entity other than the address's own cluster. Each category gets
the amount that reached it in one transaction (direct) or more (indirect) and
its share of the traced funds. An EVM address (0x…) gets the same per asset it
holds, over moves instead of transactions.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workspace.IsEVMInput(args[0]) {
				return a.evmExposure(cmd, args[0], hops, asJSON)
			}
			svc, addr, err := a.attributionOf(args[0], false)
			if err != nil {
				return err
			}
			ex, err := svc.Exposure(cmd.Context(), addr, hops)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(ex)
			}
			fmt.Fprintf(a.stdout, "Exposure of %s (entity %d), haircut, up to %d hops, index tip %d\n", ex.Address, ex.EntityID, ex.Hops, ex.IndexTip.Height)
			for _, side := range []struct {
				name string
				m    map[string]entity.CategoryExposure
			}{{"incoming", ex.Incoming}, {"outgoing", ex.Outgoing}} {
				fmt.Fprintf(a.stdout, "\n%s (traced %s)\n", side.name, btcAmount(ex.Traced[side.name]))
				cats := make([]string, 0, len(side.m))
				for c := range side.m {
					cats = append(cats, c)
				}
				sort.Strings(cats)
				if len(cats) == 0 {
					fmt.Fprintln(a.stdout, "  no tagged entity reached")
				}
				w := table(a.stdout)
				for _, c := range cats {
					e := side.m[c]
					fmt.Fprintf(w, "  %s\tdirect %s\tindirect %s\t%.2f%%\n", c, btcAmount(e.Direct), btcAmount(e.Indirect), 100*e.Share)
				}
				w.Flush()
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&hops, "hops", 4, "transactions to follow each way (1–64)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (amounts in integer satoshis)")
	return cmd
}
