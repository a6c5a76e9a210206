package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/trace"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

func (a *app) traceCommand() *cobra.Command {
	var (
		asJSON, asCSV bool
		direction     string
		model         string
		hops          int
		minValue      uint64
		since, until  string
		stopAt        string
		level         string
		maxFrontier   int
		followChange  bool
		changeConf    float64
		ef            evmTraceFlags
		save          findingSave
	)
	cmd := &cobra.Command{
		Use:   "trace FROM",
		Short: "Follow funds forward (where they went) or backward (where they came from)",
		Long: `Follow the funds of FROM — an address (everything it received), an entity
(entity:ADDRESS for the cluster of an address, or entity:ID with the entity_id
a report shows: everything its addresses received from outside it), a
transaction (all its outputs) or one output (TXID:VOUT) — transaction by
transaction.

With --follow-change only the sender's detected change continues at each
transaction (the consensus of the change heuristics at --change-confidence or
above); the other outputs are payments, listed as destinations and not
followed. Where no change is detected, every output is followed.

Taint models: haircut (default; each output carries the tainted share of its
transaction's inputs), fifo (first in, first out within each transaction) and
poison (any tainted input taints every output in full: an upper bound).
Funds stop at addresses whose cluster is tagged with a --stop-at category
(default: exchange, mixing_service, defi_bridge, sanctioned; "none" follows
through everything), at the hop limit, outside the time window, and where they
are still unspent. Each destination gets the amount and the share of the
source that reached it. The same index tip and parameters give the same result.

FROM may be an EVM address (0x…): its balance of one asset (--asset: the
native coin by default, a token contract or symbol) is a pool, and moves are
followed in chain order through the ledgers of the addresses the funds reach
(fees, internal transfers and token transfers included); haircut takes each
outgoing move's tainted share of the balance, fifo the oldest funds first.
--amount limits the source to the first (backward: last) amount in base units;
--from-block and --to-block bound the window; --min-value is in base units.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asCSV {
				return usagef("choose one of --json and --csv")
			}
			if workspace.IsEVMInput(args[0]) {
				if level != "address" || followChange {
					return usagef("--level entity and --follow-change are for Bitcoin traces")
				}
				req := entity.EVMTraceRequest{Params: trace.AccountParams{Direction: trace.Direction(direction), Model: trace.Model(model), Hops: hops,
					MinValue: chain.Sats(minValue), MaxFrontier: maxFrontier}}
				var err error
				if req.Since, err = parseWhen(since); err != nil {
					return err
				}
				if req.Until, err = parseWhen(until); err != nil {
					return err
				}
				req.StopAt = stopList(stopAt)
				return a.evmTrace(cmd, args[0], req, ef, save, traceParams(cmd, args[0]), asJSON, asCSV)
			}
			if ef != (evmTraceFlags{}) {
				return usagef("--asset, --amount, --from-block and --to-block are for EVM (0x) traces")
			}
			req := entity.TraceRequest{
				Params: trace.Params{Direction: trace.Direction(direction), Model: trace.Model(model), Hops: hops,
					MinValue: minValue, MaxFrontier: maxFrontier},
				Level: level, FollowChange: followChange, MinChangeConfidence: changeConf,
			}
			var err error
			if req.Since, err = parseWhen(since); err != nil {
				return err
			}
			if req.Until, err = parseWhen(until); err != nil {
				return err
			}
			req.StopAt = stopList(stopAt)
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			rep, ix, err := ws.Trace(cmd.Context(), args[0], a.selector(), req)
			if err != nil {
				return err
			}
			if save.caseRef != "" {
				f, err := a.saveFinding(cmd, save, casestore.FindingTrace, fmt.Sprintf("Trace %s from %s", rep.Params.Direction, args[0]),
					traceParams(cmd, args[0]), rep, ix)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stderr, "kept as finding %d of case %s\n", f.ID, save.caseRef)
			}
			switch {
			case asJSON:
				return a.printJSON(rep)
			case asCSV:
				return writeTraceCSV(a, rep)
			}
			printTrace(a, rep)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&direction, "direction", "forward", "forward (where the funds went) or backward (where they came from)")
	f.StringVar(&model, "model", "haircut", "taint model: poison, haircut or fifo")
	f.IntVar(&hops, "hops", 6, "transactions to follow (1–64)")
	f.Uint64Var(&minValue, "min-value", 0, "drop tainted amounts below this many satoshis")
	f.StringVar(&since, "since", "", "follow only transactions at or after this time (RFC 3339 or YYYY-MM-DD, UTC)")
	f.StringVar(&until, "until", "", "follow only transactions at or before this time")
	f.StringVar(&stopAt, "stop-at", strings.Join(entity.DefaultStopAt, ","), `stop at entities of these categories ("none": never)`)
	f.StringVar(&level, "level", "address", "destinations per address or per entity (cluster)")
	f.IntVar(&maxFrontier, "max-frontier", 10_000, "outputs expanded per hop; beyond, funds are summarised where they are")
	f.BoolVar(&followChange, "follow-change", false, "follow only detected change (forward); other outputs are payments")
	f.Float64Var(&changeConf, "change-confidence", 0.75, "least consensus confidence of a change output with --follow-change")
	f.BoolVar(&asJSON, "json", false, "print JSON (amounts in integer satoshis)")
	f.BoolVar(&asCSV, "csv", false, "print the destinations as CSV")
	f.StringVar(&ef.asset, "asset", "", "EVM: the asset to follow (the native symbol, a token contract or symbol; default the native coin)")
	f.StringVar(&ef.amount, "amount", "", "EVM: follow only the first (backward: last) AMOUNT base units")
	f.Uint64Var(&ef.fromBlock, "from-block", 0, "EVM: first block of the window")
	f.Uint64Var(&ef.toBlock, "to-block", 0, "EVM: last block of the window (default the tip)")
	save.flags(cmd, "trace")
	return cmd
}

// traceParams are the trace's parameters in the API's field names (the
// flags given, and the defaults of the others).
func traceParams(cmd *cobra.Command, from string) map[string]any {
	p := map[string]any{"from": from}
	names := map[string]string{"direction": "direction", "model": "model", "hops": "hops", "min-value": "min_value", "since": "since",
		"until": "until", "stop-at": "stop_at", "level": "level", "max-frontier": "max_frontier", "follow-change": "follow_change",
		"change-confidence": "change_confidence", "asset": "asset", "amount": "amount", "from-block": "from_block", "to-block": "to_block",
		"network": "network", "chain-id": "chain_id"}
	for flag, key := range names {
		fl := cmd.Flags().Lookup(flag)
		if fl == nil {
			continue
		}
		if !fl.Changed && (fl.Value.String() == "" || fl.Value.String() == "0" || fl.Value.String() == "false") {
			continue
		}
		switch fl.Value.Type() {
		case "int", "uint64":
			var n json.Number = json.Number(fl.Value.String())
			p[key] = n
		case "bool":
			p[key] = fl.Value.String() == "true"
		case "float64":
			p[key] = json.Number(fl.Value.String())
		default:
			p[key] = fl.Value.String()
		}
	}
	return p
}

// stopList reads --stop-at: categories separated by commas; "none" is an
// empty list (never stop), unlike nil (the default categories).
func stopList(s string) []string {
	list := []string{}
	if s == "none" {
		return list
	}
	for _, c := range strings.Split(s, ",") {
		if c = strings.TrimSpace(c); c != "" {
			list = append(list, c)
		}
	}
	return list
}

func parseWhen(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, usagef("%q is not a time (RFC 3339 or YYYY-MM-DD)", s)
}

func printTrace(a *app, r *entity.TraceReport) {
	p := r.Params
	fmt.Fprintf(a.stdout, "Trace %s of %s: %s, up to %d hops, stop at %s (index tip %d, clustered to %d)\n",
		p.Direction, p.From, p.Model, p.Hops, orDash(strings.Join(p.StopAt, ", ")), r.IndexTip.Height, r.ClusteredTo)
	fmt.Fprintf(a.stdout, "Source %s; %d transactions read; to fees and rounding %s; dropped below min value %s\n",
		btcAmount(r.Source), r.Txs, btcAmount(r.Fees), btcAmount(r.Dropped))
	if r.Summarised {
		fmt.Fprintln(a.stdout, "SUMMARISED: the trail spread beyond --max-frontier; some funds are shown where they were, not followed further")
	}
	fmt.Fprintf(a.stdout, "\nDestinations (%d)\n", len(r.Destinations))
	w := table(a.stdout)
	fmt.Fprintf(w, "  AMOUNT\tSHARE\tHOPS\tREASON\tADDRESS\tENTITY\tLABELS\n")
	for _, d := range r.Destinations {
		fmt.Fprintf(w, "  %s\t%.2f%%\t%d\t%s\t%s\t%d\t%s\n", btcAmount(d.Amount), 100*d.Share, d.Hops, d.Reason, orDash(d.Address), d.EntityID, orDash(strings.Join(d.Labels, "; ")))
	}
	w.Flush()
}

func writeTraceCSV(a *app, r *entity.TraceReport) error {
	cw := csv.NewWriter(a.stdout)
	if err := cw.Write([]string{"address", "entity_id", "labels", "category", "amount", "share", "hops", "reason"}); err != nil {
		return err
	}
	for _, d := range r.Destinations {
		rec := []string{d.Address, strconv.FormatUint(d.EntityID, 10), strings.Join(d.Labels, "; "), d.Category, d.Amount.String(),
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
