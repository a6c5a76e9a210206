package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func (a *app) txCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tx TXID",
		Short: "Show a transaction with its inputs' sources and its outputs' spends",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			ix, h, err := ws.Tx(args[0], a.selector())
			if err != nil {
				return err
			}
			tx, err := ix.Tx(h)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(tx)
			}
			printTx(a, tx)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (amounts in integer satoshis)")
	return cmd
}

func printTx(a *app, tx *chain.Tx) {
	w := table(a.stdout)
	fmt.Fprintf(w, "Transaction\t%s\n", tx.Txid)
	fmt.Fprintf(w, "Network\t%s %s\n", tx.Ledger.Chain, tx.Ledger.Network)
	fmt.Fprintf(w, "Block\t%d  %s  (position %d)\n", tx.BlockHeight, tx.BlockHash, tx.Position)
	fmt.Fprintf(w, "Time\t%s\n", when(tx.Time))
	fmt.Fprintf(w, "Size\t%d bytes, %d vbytes, weight %d\n", tx.Size, tx.VSize, tx.Weight)
	fmt.Fprintf(w, "Version / locktime\t%d / %d\n", tx.Version, tx.LockTime)
	fmt.Fprintf(w, "Fee\t%s (%s sat)\n", btcAmount(tx.Fee), tx.Fee)
	w.Flush()
	fmt.Fprintf(a.stdout, "\nInputs (%d, %s)\n", len(tx.Inputs), btcAmount(tx.InputValue))
	w = table(a.stdout)
	for _, in := range tx.Inputs {
		if tx.Coinbase {
			fmt.Fprintf(w, "  %d\tcoinbase\t\t\t%s\n", in.N, in.CoinbaseScript)
			continue
		}
		fmt.Fprintf(w, "  %d\t%s\t%s\t%s\tfrom %s:%d\n", in.N, orDash(in.Address), in.ScriptType, btcAmount(in.Value), in.PrevTxid, in.PrevVout)
	}
	w.Flush()
	fmt.Fprintf(a.stdout, "\nOutputs (%d, %s)\n", len(tx.Outputs), btcAmount(tx.OutputValue))
	w = table(a.stdout)
	for _, o := range tx.Outputs {
		spent := "unspent"
		if o.SpentByTxid != "" {
			spent = fmt.Sprintf("spent by %s:%d", o.SpentByTxid, *o.SpentByVin)
		}
		if o.ScriptType == chain.OpReturn {
			spent = "data " + o.Data
		}
		fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\n", o.N, orDash(o.Address), o.ScriptType, btcAmount(o.Value), spent)
		if o.Multisig != nil {
			fmt.Fprintf(w, "  \t%d of %v\t\t\t\n", o.Multisig.Required, o.Multisig.Keys)
		}
	}
	w.Flush()
}
