package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) blockCommand() *cobra.Command {
	var asJSON, txids bool
	cmd := &cobra.Command{
		Use:   "block HEIGHT|HASH",
		Short: "Show a block of the indexed best chain",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			ix, height, err := ws.Block(args[0], a.selector())
			if err != nil {
				return err
			}
			b, err := ix.Block(height, txids)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(b)
			}
			w := table(a.stdout)
			fmt.Fprintf(w, "Block\t%d  %s\n", b.Height, b.Hash)
			fmt.Fprintf(w, "Network\t%s %s\n", b.Ledger.Chain, b.Ledger.Network)
			fmt.Fprintf(w, "Time\t%s\n", when(b.Time))
			fmt.Fprintf(w, "Previous\t%s\n", orDash(b.PrevHash))
			fmt.Fprintf(w, "Next\t%s\n", orDash(b.NextHash))
			fmt.Fprintf(w, "Transactions\t%d\n", b.TxCount)
			fmt.Fprintf(w, "Size\t%d bytes (%d stripped), weight %d\n", b.Size, b.StrippedSize, b.Weight)
			fmt.Fprintf(w, "Fees / subsidy\t%s / %s\n", btcAmount(b.Fees), btcAmount(b.Subsidy))
			fmt.Fprintf(w, "Header\tversion %#x, bits %08x, nonce %d, merkle root %s\n", uint32(b.Version), b.Bits, b.Nonce, b.MerkleRoot)
			w.Flush()
			for i, t := range b.Txids {
				fmt.Fprintf(a.stdout, "  %5d  %s\n", i, t)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&txids, "txids", false, "list the block's transaction ids")
	return cmd
}
