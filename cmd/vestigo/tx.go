package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) txCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "tx TXID",
		Short: "Show a transaction with its inputs' sources and its outputs' spends",
		Long: `Show a Bitcoin transaction with its inputs' sources and its outputs' spends,
or an EVM transaction (0x and 64 hex digits) with its receipt's facts and
every move it made: fee, value, internal transfers and token transfers.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if s := strings.TrimSpace(args[0]); workspace.IsEVMInput(s) && len(s) == 66 {
				return a.evmTx(cmd, s, asJSON)
			}
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
			svc, err := ws.Attribution(ix)
			if err != nil {
				return err
			}
			attr, err := svc.AnalyzeTx(cmd.Context(), h)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(entity.ViewTx(tx, attr))
			}
			printTx(a, tx)
			printAttribution(a, attr)
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

func printAttribution(a *app, attr *entity.TxAttribution) {
	cj := attr.CoinJoin
	if len(attr.Tags) > 0 {
		a.printTags(attr.Tags)
	}
	fmt.Fprintln(a.stdout)
	switch {
	case cj.IsCoinJoin:
		fmt.Fprintf(a.stdout, "CoinJoin: YES (%s, confidence %.2f): its inputs are not clustered together\n", cj.Protocol, cj.Confidence)
	default:
		fmt.Fprintf(a.stdout, "CoinJoin: no (confidence %.2f)\n", cj.Confidence)
	}
	for _, f := range cj.Detectors {
		fmt.Fprintf(a.stdout, "  %s (%.2f): %s\n", f.Name, f.Confidence, f.Reason)
	}
	for _, f := range cj.Vetoes {
		fmt.Fprintf(a.stdout, "  veto %s (%.2f): %s\n", f.Name, f.Confidence, f.Reason)
	}
	if len(attr.Change) == 0 {
		return
	}
	fmt.Fprintf(a.stdout, "Change (per output)\n")
	w := table(a.stdout)
	for i, v := range attr.Change {
		fmt.Fprintf(w, "  %d\t%s\t%.2f\t%s\n", i, v.Verdict, v.Confidence, orDash(strings.Join(v.Heuristics, ", ")))
	}
	w.Flush()
}
