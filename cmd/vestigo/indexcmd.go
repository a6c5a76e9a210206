package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/index"
)

func (a *app) indexCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "index",
		Short: "Maintain the index: verify its invariants, compact it",
	}
	cmd.AddCommand(a.verifyCommand(), a.compactCommand())
	return cmd
}

func (a *app) verifyCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check every invariant of the index and name what is wrong",
		Long: `Check every invariant of each index (or the one chosen with --network):
blocks linked from genesis to the tip; every transaction's inputs equal its
outputs plus its fee (coinbases at most subsidy plus fees); every input's
recorded previous output is exactly that output and every spend link points
back; the unspent set is exactly the unspent outputs and holds what the
coinbases claimed; every address's history matches the transactions and its
balance equals its unspent outputs; the txid and address tables are
complete. Each EVM index (Ethereum and its peers) is checked too: blocks
linked to the tip, every move in both sides' ledgers, every running balance
and summary, the address and token tables. Exit code 4 when a problem is
found.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			ls, err := ws.Ledgers()
			if err != nil {
				return err
			}
			var reports []any
			failed := false
			for _, l := range ls {
				if a.network != "" && l.Network != chain.Network(a.network) {
					continue
				}
				ix, err := ws.Index(l, false)
				if err != nil {
					return err
				}
				bar := newBlockProgress(a.stderr, "verifying "+l.String())
				rep, err := ix.Verify(cmd.Context(), func(h, tip int64) {
					if bar.bar != nil {
						bar.bar.ChangeMax64(tip + 1)
						_ = bar.bar.Set64(h)
					}
				})
				bar.done()
				if err != nil {
					return err
				}
				reports = append(reports, rep)
				failed = failed || !rep.OK()
				if !asJSON {
					printVerify(a, l, rep)
				}
			}
			evms, err := ws.EVMIndexes(a.selector())
			if err != nil {
				return err
			}
			for _, ix := range evms {
				rep, err := verifyEVM(cmd.Context(), ix)
				if err != nil {
					return err
				}
				reports = append(reports, rep)
				failed = failed || len(rep.Problems) > 0
				if !asJSON {
					printVerifyEVM(a, rep)
				}
			}
			if len(reports) == 0 {
				return fmt.Errorf("no index to verify in %s: %w", ws.Dir(), chain.ErrNotFound)
			}
			if asJSON {
				if err := a.printJSON(reports); err != nil {
					return err
				}
			}
			if failed {
				return errProblems
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// evmVerifyReport is the outcome of verifying an EVM index; its fields
// share their names with the Bitcoin index's report.
type evmVerifyReport struct {
	Ledger    string          `json:"ledger"`
	ChainID   uint64          `json:"chain_id"`
	Height    uint64          `json:"height"`
	Hash      string          `json:"hash"`
	Txs       uint64          `json:"txs"`
	Moves     uint64          `json:"moves"`
	Addresses uint64          `json:"addresses"`
	Tokens    uint64          `json:"tokens"`
	Checks    []string        `json:"checks"`
	Problems  []index.Problem `json:"problems"`
}

func verifyEVM(ctx context.Context, ix *evmindex.Index) (*evmVerifyReport, error) {
	m := ix.Meta()
	rep := &evmVerifyReport{Ledger: fmt.Sprintf("evm-%d", m.ChainID), ChainID: m.ChainID, Checks: evmindex.Checks, Problems: []index.Problem{}}
	if tip, has, _ := ix.Tip(); has {
		rep.Height, rep.Hash, rep.Txs, rep.Moves, rep.Addresses, rep.Tokens = tip.Height, tip.Hash.String(), tip.Txs, tip.Moves, tip.Addresses, tip.Assets
	}
	problems, err := ix.Check(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range problems {
		rep.Problems = append(rep.Problems, index.Problem{Check: "evm ledger", Detail: p})
	}
	return rep, nil
}

func printVerifyEVM(a *app, rep *evmVerifyReport) {
	fmt.Fprintf(a.stdout, "%s: tip %d %s\n", rep.Ledger, rep.Height, rep.Hash)
	fmt.Fprintf(a.stdout, "  %d txs, %d moves, %d addresses, %d tokens\n", rep.Txs, rep.Moves, rep.Addresses, rep.Tokens)
	for _, c := range rep.Checks {
		fmt.Fprintf(a.stdout, "  checked %s\n", c)
	}
	if len(rep.Problems) == 0 {
		fmt.Fprintf(a.stdout, "  OK: every invariant holds\n")
		return
	}
	fmt.Fprintf(a.stdout, "  %s:\n", plural(len(rep.Problems), "PROBLEM", "PROBLEMS"))
	for _, p := range rep.Problems {
		fmt.Fprintf(a.stdout, "    %s\n", p.Detail)
	}
}

func printVerify(a *app, l chain.Ledger, rep *index.VerifyReport) {
	fmt.Fprintf(a.stdout, "%s: tip %d %s\n", l, rep.Height, rep.Hash)
	fmt.Fprintf(a.stdout, "  %d blocks, %d txs, %d inputs, %d outputs, %d addresses, %d output entries\n",
		rep.Blocks, rep.Txs, rep.Inputs, rep.Outputs, rep.Addresses, rep.OutputEntries)
	fmt.Fprintf(a.stdout, "  unspent set: %d outputs, %s; subsidies claimed %s\n",
		rep.Unspent, btcAmount(chain.Sats(rep.UnspentValue)), btcAmount(chain.Sats(rep.Subsidies)))
	for _, c := range rep.Checks {
		fmt.Fprintf(a.stdout, "  checked %s\n", c)
	}
	if rep.OK() {
		fmt.Fprintf(a.stdout, "  OK: every invariant holds\n")
		return
	}
	fmt.Fprintf(a.stdout, "  %s:\n", plural(len(rep.Problems), "PROBLEM", "PROBLEMS"))
	for _, p := range rep.Problems {
		fmt.Fprintf(a.stdout, "    [%s] %s\n", p.Check, p.Detail)
	}
}

func (a *app) compactCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "compact",
		Short: "Compact the index's store, reclaiming space from overwritten and deleted data",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			ls, err := ws.Ledgers()
			if err != nil {
				return err
			}
			for _, l := range ls {
				if a.network != "" && l.Network != chain.Network(a.network) {
					continue
				}
				ix, err := ws.Index(l, false)
				if err != nil {
					return err
				}
				before, _ := ix.DiskSize()
				if err := ix.Compact(); err != nil {
					return err
				}
				after, _ := ix.DiskSize()
				fmt.Fprintf(a.stdout, "%s: %d → %d bytes\n", l, before, after)
			}
			return nil
		},
	}
}
