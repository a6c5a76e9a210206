package main

import (
	"encoding/csv"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/trace"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) evmAddress(cmd *cobra.Command, arg string, q entity.EVMAddressQuery, asset string, asJSON bool) error {
	svc, id, err := a.evmAttributionOf(arg)
	if err != nil {
		return err
	}
	if asset != "" {
		as, err := svc.ResolveAsset(asset)
		if err != nil {
			return err
		}
		q.Asset = &as
	}
	r, err := svc.Address(cmd.Context(), id, q)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(r)
	}
	w := table(a.stdout)
	kind := "account"
	if r.Contract {
		kind = "contract"
	}
	fmt.Fprintf(w, "Address\t%s (%s, chain id %d, %s)\n", r.Address, r.Chain, r.ChainID, kind)
	if r.CreatedAt != nil {
		fmt.Fprintf(w, "Created\tblock %d, %s, by %s in %s\n", r.CreatedAt.Height, when(r.CreatedAt.Time), r.Creator, r.CreatedAt.Tx)
	}
	fmt.Fprintf(w, "First seen\tblock %d, %s\n", r.FirstSeen.Height, when(r.FirstSeen.Time))
	if r.Sanctioned {
		fmt.Fprintf(w, "Sanctioned\tYES\n")
	}
	w.Flush()
	fmt.Fprintf(a.stdout, "\nHoldings\n")
	w = table(a.stdout)
	fmt.Fprintf(w, "  ASSET\tBALANCE\tRECEIVED\tSENT\tENTRIES\tLAST\n")
	for _, h := range r.Holdings {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%d\tblock %d\n", assetLabel(h.Asset), h.BalanceUnits, h.ReceivedUnits, h.SentUnits, h.Entries, h.Last.Height)
	}
	w.Flush()
	fmt.Fprintf(a.stdout, "\nLedger (%d–%d of %d)\n", min(uint64(r.Offset+1), r.TotalLines), uint64(r.Offset+len(r.Ledger)), r.TotalLines)
	w = table(a.stdout)
	fmt.Fprintf(w, "  BLOCK\tTIME\tTRANSACTION\tKIND\tIN/OUT\tCOUNTERPARTY\tAMOUNT\tBALANCE AFTER\n")
	for _, l := range r.Ledger {
		tx := l.Tx
		if tx == "" {
			tx = "(" + l.Slot + ")"
		}
		cp := l.Counterparty
		if cp == "" {
			cp = "-"
		}
		fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\t%s\t%s %s\t%s\n", l.Height, when(l.Time), tx, l.Kind, l.Direction, cp, l.AmountUnits, l.Asset.Symbol, l.BalanceUnits)
	}
	w.Flush()
	if len(r.Tags) > 0 {
		fmt.Fprintln(a.stdout)
		a.printTags(r.Tags)
	}
	if r.Incomplete != "" {
		fmt.Fprintf(a.stdout, "\nnote: %s\n", r.Incomplete)
	}
	return nil
}

// assetLabel names an asset for a table: its symbol, and the contract of a
// token (symbols are the token's own word and may be anything).
func assetLabel(r entity.AssetRef) string {
	sym := r.Symbol
	if sym == "" {
		sym = "?"
	}
	if r.Contract == "" {
		return sym
	}
	return fmt.Sprintf("%s (%s)", sym, r.Contract)
}

func (a *app) evmTx(cmd *cobra.Command, arg string, asJSON bool) error {
	ws, err := a.readWorkspace()
	if err != nil {
		return err
	}
	ix, tx, err := ws.EVMTx(arg, a.selector())
	if err != nil {
		return err
	}
	svc, err := ws.EVMAttribution(ix)
	if err != nil {
		return err
	}
	r, err := svc.Tx(cmd.Context(), tx)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(r)
	}
	w := table(a.stdout)
	fmt.Fprintf(w, "Transaction\t%s\n", r.Tx)
	fmt.Fprintf(w, "Chain\t%s (chain id %d)\n", r.Chain, r.ChainID)
	fmt.Fprintf(w, "Block\t%d (position %d), %s\n", r.Height, r.Index, when(r.Time))
	fmt.Fprintf(w, "Status\t%s\n", r.Status)
	to := r.To
	if r.Created != "" {
		to = "new contract " + r.Created
	}
	fmt.Fprintf(w, "From → to\t%s → %s\n", r.From, to)
	fmt.Fprintf(w, "Value\t%s %s (%s wei)\n", r.ValueUnits, nativeSymbol(ix), r.Value)
	fmt.Fprintf(w, "Fee\t%s %s (%d gas at %s wei; %s wei burnt, %s wei to the fee recipient)\n", r.FeeUnits, nativeSymbol(ix), r.GasUsed, r.EffectiveGasPrice, r.Burnt, r.Tip)
	if r.Selector != "" {
		fmt.Fprintf(w, "Call\t%s (%d bytes of input)\n", r.Selector, r.InputLen)
	}
	fmt.Fprintf(w, "Nonce / type\t%d / %d\n", r.Nonce, r.Type)
	w.Flush()
	fmt.Fprintf(a.stdout, "\nMoves (%d)\n", len(r.Moves))
	w = table(a.stdout)
	fmt.Fprintf(w, "  #\tKIND\tFROM\tTO\tAMOUNT\tASSET\n")
	for _, m := range r.Moves {
		from, to := m.From, m.To
		if from == "" {
			from = "-"
		}
		if to == "" {
			to = "-"
		}
		fmt.Fprintf(w, "  %d\t%s\t%s\t%s\t%s\t%s\n", m.Seq, m.Kind, from, to, m.AmountUnits, assetLabel(m.Asset))
	}
	w.Flush()
	for _, s := range r.Swaps {
		fmt.Fprintf(a.stdout, "swap (%s) in pool %s for %s → %s: %s\n", s.Version, s.Pool, s.Sender, s.Recipient, strings.Join(s.Amounts, ", "))
	}
	for _, c := range r.Contracts {
		fmt.Fprintf(a.stdout, "created contract %s\n", c)
	}
	for addr, ts := range r.Tags {
		fmt.Fprintf(a.stdout, "\nTags of %s\n", addr)
		a.printTags(ts)
	}
	return nil
}

func nativeSymbol(ix *evmindex.Index) string { return ix.Meta().Symbol }

// evmTraceFlags are the trace flags that only EVM traces have.
type evmTraceFlags struct {
	asset, amount      string
	fromBlock, toBlock uint64
}

func (a *app) evmTrace(cmd *cobra.Command, arg string, req entity.EVMTraceRequest, ef evmTraceFlags, save findingSave, params map[string]any,
	asJSON, asCSV bool) error {
	svc, id, err := a.evmAttributionOf(arg)
	if err != nil {
		return err
	}
	ix := svc.Index
	if ef.asset != "" {
		if req.Asset, err = svc.ResolveAsset(ef.asset); err != nil {
			return err
		}
	}
	if ef.amount != "" {
		if req.Params.Amount, err = chain.ParseAmount(ef.amount); err != nil {
			return usageError{err}
		}
	}
	req.From, req.FromBlock, req.ToBlock = id, ef.fromBlock, ef.toBlock
	r, err := svc.Trace(cmd.Context(), req)
	if err != nil {
		return err
	}
	if save.caseRef != "" {
		f, err := a.saveFinding(cmd, save, casestore.FindingTrace, fmt.Sprintf("Trace %s from %s", r.Params.Direction, r.Params.From), params, r, ix)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stderr, "kept as finding %d of case %s\n", f.ID, save.caseRef)
	}
	switch {
	case asJSON:
		return a.printJSON(r)
	case asCSV:
		cw := csv.NewWriter(a.stdout)
		if err := cw.Write([]string{"address", "labels", "category", "asset", "amount", "amount_units", "share", "hops", "reason"}); err != nil {
			return err
		}
		for _, d := range r.Destinations {
			rec := []string{d.Address, strings.Join(d.Labels, "; "), d.Category, r.Params.Asset.Symbol, d.Amount, d.AmountUnits,
				strconv.FormatFloat(d.Share, 'f', 6, 64), strconv.Itoa(d.Hops), d.Reason}
			for i := range rec {
				rec[i] = csvSafe(rec[i])
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	p := r.Params
	sym := p.Asset.Symbol
	fmt.Fprintf(a.stdout, "Trace %s of %s in %s on %s (chain id %d): %s, up to %d hops, stop at %s (index tip %d)\n",
		p.Direction, p.From, assetLabel(p.Asset), r.Chain, r.ChainID, p.Model, p.Hops, orDash(strings.Join(p.StopAt, ", ")), r.IndexTip.Height)
	fmt.Fprintf(a.stdout, "Source %s %s; %d ledger entries read; to fees %s wei; dropped below min value %s\n",
		r.SourceUnits, sym, r.Entries, r.Fees, r.Dropped)
	if r.Summarised {
		fmt.Fprintln(a.stdout, "SUMMARISED: the trail spread beyond --max-frontier; some funds are shown where they were, not followed further")
	}
	fmt.Fprintf(a.stdout, "\nDestinations (%d)\n", len(r.Destinations))
	w := table(a.stdout)
	fmt.Fprintf(w, "  AMOUNT\tSHARE\tHOPS\tREASON\tADDRESS\tLABELS\n")
	for _, d := range r.Destinations {
		fmt.Fprintf(w, "  %s %s\t%.2f%%\t%d\t%s\t%s\t%s\n", d.AmountUnits, sym, 100*d.Share, d.Hops, d.Reason, d.Address, orDash(strings.Join(d.Labels, "; ")))
	}
	w.Flush()
	if r.Incomplete != "" {
		fmt.Fprintf(a.stdout, "\nnote: %s\n", r.Incomplete)
	}
	return nil
}

func (a *app) evmPath(cmd *cobra.Command, fromArg, toArg string, p trace.AccountPathParams, asJSON bool) error {
	ws, err := a.readWorkspace()
	if err != nil {
		return err
	}
	ix, from, _, err := ws.EVMAddress(fromArg, a.selector())
	if err != nil {
		return err
	}
	sel := a.selector()
	sel.ChainID = ix.Meta().ChainID
	_, to, _, err := ws.EVMAddress(toArg, sel)
	if err != nil {
		return err
	}
	svc, err := ws.EVMAttribution(ix)
	if err != nil {
		return err
	}
	r, err := svc.Paths(cmd.Context(), from, to, p)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(r)
	}
	if len(r.Paths) == 0 {
		fmt.Fprintf(a.stdout, "no path from %s to %s within %d moves\n", r.From, r.To, p.Hops)
	}
	for i, path := range r.Paths {
		fmt.Fprintf(a.stdout, "Path %d (%d moves)\n", i+1, len(path))
		w := table(a.stdout)
		for j, s := range path {
			tx := s.Tx
			if tx == "" {
				tx = "(" + s.Slot + ")"
			}
			fmt.Fprintf(w, "  %d\tblock %d\t%s\t%s\t%s → %s\t%s %s\n", j+1, s.Height, tx, s.Kind, s.From, s.To, s.AmountUnits, s.Asset.Symbol)
		}
		w.Flush()
	}
	if r.Summarised {
		fmt.Fprintln(a.stdout, "SUMMARISED: busy addresses were not followed through all their moves")
	}
	return nil
}

func (a *app) depositsCommand() *cobra.Command {
	var (
		asJSON             bool
		fromBlock, toBlock uint64
		o                  detect.DepositOptions
	)
	cmd := &cobra.Command{
		Use:   "deposits [HOT-WALLET…]",
		Short: "Find exchange deposit addresses on an EVM chain, and link the senders to each as one exchange user",
		Long: `Run the deposit-address heuristic on an EVM chain: an address that receives
from others and forwards (nearly) everything to an exchange's hot wallet soon
after is a deposit address the exchange gave one customer, and the senders to
one deposit address are linked as one exchange user (a deposit address may be
reused or shared: each answer carries its confidence and the rule behind it).
The hot wallets are the addresses given, or every address the tags call an
exchange. The exchange can be asked, with a legal request, who the customer of
each deposit address is.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, svc, err := a.evmOnly()
			if err != nil {
				return err
			}
			ix := svc.Index
			var hot []evmindex.AddrID
			for _, h := range args {
				sel := a.selector()
				sel.ChainID = ix.Meta().ChainID
				_, id, _, err := ws.EVMAddress(h, sel)
				if err != nil {
					return err
				}
				hot = append(hot, id)
			}
			r, err := svc.Deposits(cmd.Context(), hot, fromBlock, toBlock, o)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "Deposit addresses of %s in blocks %d–%d (chain id %d): %d found, %d user links\n",
				strings.Join(r.HotWallets, ", "), r.FromBlock, r.ToBlock, r.ChainID, len(r.Deposits), len(r.Links))
			for _, d := range r.Deposits {
				fmt.Fprintf(a.stdout, "\n%s → %s %s (confidence %d)\n  senders: %s\n  %s\n", d.Address, d.HotWallet,
					orDash(strings.Join(d.HotWalletLabels, "; ")), d.Confidence, strings.Join(d.Senders, ", "), d.Explanation)
			}
			for _, l := range r.Links {
				fmt.Fprintf(a.stdout, "\nOne user of %s (confidence %d): %s\n  %s\n", l.HotWallet, l.Confidence, strings.Join(l.Senders, ", "), l.Explanation)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&fromBlock, "from-block", 0, "first block")
	f.Uint64Var(&toBlock, "to-block", 0, "last block (default: the tip)")
	f.Uint64Var(&o.MaxSweepBlocks, "max-sweep-blocks", 0, "a sweep follows the deposit it forwards within this many blocks (default 300)")
	f.Uint64Var(&o.MaxResidualPct, "max-residual-pct", 0, "a sweep leaves at most this percent of what it forwards behind (default 1)")
	f.IntVar(&o.MinSweeps, "min-sweeps", 0, "sweeps an address needs (default 1)")
	f.BoolVar(&asJSON, "json", false, "print JSON (amounts as strings of base units)")
	return cmd
}

// evmPatterns runs the EVM typology detectors over a block range.
func (a *app) evmPatterns(cmd *cobra.Command, fromBlock, toBlock uint64, o detect.EVMOptions, asJSON bool) error {
	_, svc, err := a.evmOnly()
	if err != nil {
		return err
	}
	r, err := svc.Patterns(cmd.Context(), fromBlock, toBlock, o)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(r)
	}
	fmt.Fprintf(a.stdout, "Typologies in blocks %d–%d of chain id %d: %d findings\n", r.FromBlock, r.ToBlock, r.ChainID, len(r.Findings))
	for _, f := range r.Findings {
		fmt.Fprintf(a.stdout, "\n%s (confidence %.2f): %s\n", f.Type, f.Confidence, f.Explanation)
	}
	return nil
}

// evmOnly opens the one EVM index the flags leave, with its answers.
func (a *app) evmOnly() (*workspace.Workspace, *entity.EVM, error) {
	ws, err := a.readWorkspace()
	if err != nil {
		return nil, nil, err
	}
	ix, err := ws.EVMOnly(a.selector())
	if err != nil {
		return nil, nil, err
	}
	svc, err := ws.EVMAttribution(ix)
	return ws, svc, err
}

// evmAttributionOf resolves a 0x address to its EVM index's answers.
func (a *app) evmAttributionOf(arg string) (*entity.EVM, evmindex.AddrID, error) {
	ws, err := a.readWorkspace()
	if err != nil {
		return nil, 0, err
	}
	ix, id, _, err := ws.EVMAddress(arg, a.selector())
	if err != nil {
		return nil, 0, err
	}
	svc, err := ws.EVMAttribution(ix)
	return svc, id, err
}

func (a *app) evmExposure(cmd *cobra.Command, arg string, hops int, asJSON bool) error {
	svc, id, err := a.evmAttributionOf(arg)
	if err != nil {
		return err
	}
	ex, err := svc.Exposure(cmd.Context(), id, hops, nil)
	if err != nil {
		return err
	}
	if asJSON {
		return a.printJSON(ex)
	}
	fmt.Fprintf(a.stdout, "Exposure of %s (chain id %d), haircut, up to %d moves, index tip %d\n", ex.Address, ex.ChainID, ex.Hops, ex.IndexTip.Height)
	for _, ae := range ex.Assets {
		for _, side := range []struct {
			name string
			m    map[string]entity.EVMCategoryExposure
		}{{"incoming", ae.Incoming}, {"outgoing", ae.Outgoing}} {
			fmt.Fprintf(a.stdout, "\n%s %s (traced %s base units)\n", assetLabel(ae.Asset), side.name, ae.Traced[side.name])
			cats := slices.Sorted(maps.Keys(side.m))
			if len(cats) == 0 {
				fmt.Fprintln(a.stdout, "  no tagged address reached")
			}
			w := table(a.stdout)
			for _, c := range cats {
				e := side.m[c]
				fmt.Fprintf(w, "  %s\tdirect %s\tindirect %s\t%.2f%%\n", c, e.Direct, e.Indirect, 100*e.Share)
			}
			w.Flush()
		}
	}
	return nil
}

func (a *app) evmRisk(cmd *cobra.Command, arg string, w *entity.Weights) (*entity.Risk, error) {
	svc, id, err := a.evmAttributionOf(arg)
	if err != nil {
		return nil, err
	}
	return svc.Risk(cmd.Context(), id, w)
}
