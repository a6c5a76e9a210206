package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/trace"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) pathCommand() *cobra.Command {
	var (
		asJSON bool
		p      trace.PathParams
	)
	cmd := &cobra.Command{
		Use:   "path FROM TO",
		Short: "How did money get from one address to another: the shortest paths",
		Long: `Find the k shortest forward paths of money from FROM to TO within
--hops transactions: each step a transaction that spent from one address and
paid the next, with the amount it paid. Addresses with more than --max-fanout
spending transactions are followed through their first ones only, and the
answer says "summarised" (a path may exist that was not found).

FROM and TO are addresses or entities (entity:ADDRESS for the cluster of an
address, entity:ID with a report's entity_id); a path may start at any address
of FROM and end at any address of TO.

On an EVM chain FROM and TO are 0x addresses; each step is a move (a
transaction's value, an internal transfer or a token transfer) later in the
chain than the one before.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if workspace.IsEVMInput(args[0]) || workspace.IsEVMInput(args[1]) {
				return a.evmPath(cmd, args[0], args[1], trace.AccountPathParams{Hops: p.Hops, K: p.K, MaxFanout: p.MaxFanout}, asJSON)
			}
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			rep, _, err := ws.Paths(args[0], args[1], a.selector(), p)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(rep)
			}
			if len(rep.Paths) == 0 {
				fmt.Fprintf(a.stdout, "no path from %s to %s within %d hops\n", rep.From, rep.To, rep.MaxHops)
			}
			for i, path := range rep.Paths {
				fmt.Fprintf(a.stdout, "Path %d (%d hops)\n", i+1, path.Hops)
				w := table(a.stdout)
				for _, s := range path.Steps {
					fmt.Fprintf(w, "  %d\t%s\t%s → %s\t%s\n", s.Hop, s.Txid, s.From, s.To, btcAmount(s.Amount))
				}
				w.Flush()
			}
			if rep.Summarised {
				fmt.Fprintln(a.stdout, "SUMMARISED: busy addresses were not followed through all their transactions")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&p.Hops, "hops", 6, "longest path in transactions (1–16)")
	f.IntVar(&p.K, "k", 3, "how many paths (1–100)")
	f.IntVar(&p.MaxFanout, "max-fanout", 1000, "spending transactions read per address")
	f.BoolVar(&asJSON, "json", false, "print JSON (amounts in integer satoshis)")
	return cmd
}
