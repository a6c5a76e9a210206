package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) addressCommand() *cobra.Command {
	var (
		asJSON        bool
		limit, offset int
		newest        bool
		unspent       bool
		asset         string
	)
	cmd := &cobra.Command{
		Use:   "address ADDRESS",
		Short: "Show an address's balance, totals and transaction history",
		Long: `Show an address's balance, totals, first and last activity and a page of its
history (oldest first; --newest-first to reverse), each entry with what the
transaction sent to and took from the address and the balance after it.
P2PK outputs appear under the P2PKH form of their key; bare multisig and
non-standard scripts under their script address "s-<sha256 of the script>".

An EVM address (0x…, EIP-55 checked when in mixed case) shows its holdings
per asset (ether and each token, in whole units of the token's decimals) and
its ledger: every move in or out (fees, values, internal transfers, token
transfers) with the balance after it. --asset restricts the ledger to one
asset (the native symbol, a token contract or a token's symbol).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 || offset < 0 {
				return usagef("--limit and --offset must not be negative")
			}
			if workspace.IsEVMInput(args[0]) {
				if unspent {
					return usagef("--unspent is for Bitcoin addresses")
				}
				if limit == 0 {
					limit = entity.MaxLedgerPage
				}
				return a.evmAddress(cmd, args[0], entity.EVMAddressQuery{Offset: offset, Limit: limit, NewestFirst: newest}, asset, asJSON)
			}
			if asset != "" {
				return usagef("--asset is for EVM (0x) addresses")
			}
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			ix, addr, err := ws.Address(args[0], a.selector())
			if err != nil {
				return err
			}
			order := index.Oldest
			if newest {
				order = index.Newest
			}
			s, err := ix.AddressSummary(addr, offset, limit, order)
			if err != nil {
				return err
			}
			var utxos []chain.Unspent
			if unspent {
				if utxos, err = ix.Unspent(addr); err != nil {
					return err
				}
			}
			if asJSON {
				if unspent {
					return a.printJSON(struct {
						*chain.AddressSummary
						Unspent []chain.Unspent `json:"unspent"`
					}{s, utxos})
				}
				return a.printJSON(s)
			}
			printAddress(a, s, utxos, unspent)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON (Bitcoin: amounts in integer satoshis; EVM: amounts as strings of base units)")
	f.IntVar(&limit, "limit", 50, "history entries to show (0 = all)")
	f.IntVar(&offset, "offset", 0, "history entries to skip")
	f.BoolVar(&newest, "newest-first", false, "list the history newest first")
	f.BoolVar(&unspent, "unspent", false, "also list the unspent outputs")
	f.StringVar(&asset, "asset", "", "EVM addresses: only this asset's ledger (ETH, a token contract or symbol)")
	return cmd
}

func printAddress(a *app, s *chain.AddressSummary, utxos []chain.Unspent, withUnspent bool) {
	w := table(a.stdout)
	fmt.Fprintf(w, "Address\t%s (%s %s, %s)\n", s.Address, s.Ledger.Chain, s.Ledger.Network, s.ScriptType)
	fmt.Fprintf(w, "Balance\t%s\n", btcAmount(s.Balance))
	fmt.Fprintf(w, "Received\t%s\n", btcAmount(s.TotalReceived))
	fmt.Fprintf(w, "Sent\t%s\n", btcAmount(s.TotalSent))
	fmt.Fprintf(w, "Transactions\t%d (%s)\n", s.TxCount, plural(s.UnspentCount, "unspent output", "unspent outputs"))
	fmt.Fprintf(w, "First seen\tblock %d, %s\n", s.FirstSeenHeight, when(s.FirstSeen))
	fmt.Fprintf(w, "Last seen\tblock %d, %s\n", s.LastSeenHeight, when(s.LastSeen))
	w.Flush()
	fmt.Fprintf(a.stdout, "\nHistory (%d–%d of %d)\n", min(s.Offset+1, s.TxCount), s.Offset+len(s.Txs), s.TxCount)
	w = table(a.stdout)
	fmt.Fprintf(w, "  HEIGHT\tTIME\tTXID\tRECEIVED\tSENT\tBALANCE AFTER\n")
	for _, e := range s.Txs {
		fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\t%s\n", e.Height, when(e.Time), e.Txid, btcAmount(e.Received), btcAmount(e.Sent), btcAmount(e.BalanceAfter))
	}
	w.Flush()
	if withUnspent {
		fmt.Fprintf(a.stdout, "\nUnspent outputs (%d)\n", len(utxos))
		w = table(a.stdout)
		for _, u := range utxos {
			fmt.Fprintf(w, "  %s:%d\t%s\tblock %d\n", u.Txid, u.Vout, btcAmount(u.Value), u.Height)
		}
		w.Flush()
	}
}
