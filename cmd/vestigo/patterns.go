package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/detect"
	"github.com/vestigo-forensics/vestigo/internal/entity"
)

func (a *app) patternsCommand() *cobra.Command {
	var (
		asJSON   bool
		from, to int64
		opt      detect.Options
		evmOpt   detect.EVMOptions
	)
	cmd := &cobra.Command{
		Use:   "patterns [ADDRESS] [--from-height H --to-height H]",
		Short: "Find laundering typologies: peel chains, mixers, pass-through, structuring, fan-out/in, CoinJoins",
		Long: `Find typologies in the transactions of ADDRESS (every transaction it received or
spent in, and the peel chains its spends start), or in a range of blocks. Each
finding has its type, transactions, addresses, the thresholds it met, a
confidence and a plain explanation. Types: peel_chain, consolidation, fan_out,
fan_in (range only), structuring (many transfers just below --structuring-value,
in one transaction or into one address), pass_through (funds in and out again
within --pass-blocks, little left), mixer_use (transfers to or from an entity
tagged mixing_service), dusting, round_payment, coinjoin_participation.

With --chain eth (or --chain-id N) the EVM detectors run over a block range:
mixer_use (moves into or out of pools tagged mixing_service, Tornado Cash's),
bridge_deposit (moves into contracts tagged defi_bridge: a possible chain
hop), dex_swap (Uniswap V2/V3 Swap events as asset conversions), fan_out,
fan_in and pass_through, per asset.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if a.chain == "eth" || a.chainID != 0 {
				if len(args) > 0 {
					return usagef("on EVM chains give a block range (--from-height, --to-height), not an address")
				}
				last := uint64(0)
				if to >= 0 {
					last = uint64(to)
				}
				if from < 0 {
					return usagef("--from-height must not be negative")
				}
				return a.evmPatterns(cmd, uint64(from), last, evmOpt, asJSON)
			}
			if len(args) > 1 || (len(args) == 1) == cmd.Flags().Changed("from-height") {
				return usagef("give an ADDRESS or --from-height (and --to-height), not both")
			}
			var svc *entity.Service
			var fs []detect.Finding
			if len(args) == 1 {
				s, addr, err := a.attributionOf(args[0], false)
				if err != nil {
					return err
				}
				svc = s
				id, err := svc.Index.AddrIDOf(addr)
				if err != nil {
					return err
				}
				if fs, err = detect.Address(svc.Index, id, opt); err != nil {
					return err
				}
				mix, err := svc.MixerUse(cmd.Context(), id)
				if err != nil {
					return err
				}
				fs = append(fs, mix...)
			} else {
				ws, ix, err := a.onlyIndex()
				if err != nil {
					return err
				}
				if svc, err = ws.Attribution(ix); err != nil {
					return err
				}
				if to >= 0 && to < from {
					return usagef("--to-height %d is below --from-height %d", to, from)
				}
				if fs, err = detect.Range(ix, from, to, opt); err != nil {
					return err
				}
				mix, err := svc.MixerUseRange(cmd.Context(), from, to)
				if err != nil {
					return err
				}
				fs = append(fs, mix...)
			}
			detect.Sort(fs)
			ps, err := svc.Patterns(fs)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(ps)
			}
			fmt.Fprintf(a.stdout, "%d findings\n", len(ps))
			for _, p := range ps {
				fmt.Fprintf(a.stdout, "\n%s (confidence %.2f): %s\n  transactions: %s\n", p.Type, p.Confidence, p.Explanation, strings.Join(p.Txids, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Int64Var(&from, "from-height", 0, "first block of the range")
	f.Int64Var(&to, "to-height", -1, "last block of the range (-1: the tip)")
	f.IntVar(&opt.MinPeelHops, "min-peel-hops", 3, "shortest peel chain reported")
	f.IntVar(&opt.MinConsolidate, "min-consolidation-inputs", 10, "inputs of a consolidation")
	f.IntVar(&opt.MinFanOut, "min-fan-out", 20, "outputs of a fan-out")
	f.IntVar(&opt.MinFanIn, "min-fan-in", 20, "transactions paying one address within --fan-in-blocks")
	f.Int64Var(&opt.FanInBlocks, "fan-in-blocks", 144, "window of a fan-in")
	f.Uint64Var(&opt.StructuringValue, "structuring-value", 1_000_000, "reporting threshold in sats that structuring stays below")
	f.Uint64Var(&opt.StructuringBandPct, "structuring-band", 20, "how far below the threshold (percent) a transfer counts")
	f.IntVar(&opt.MinStructured, "min-structured", 5, "transfers just below the threshold that make structuring")
	f.Int64Var(&opt.PassBlocks, "pass-blocks", 6, "blocks within which funds must leave to pass through")
	f.IntVar(&opt.MinPassTransfers, "min-pass-transfers", 3, "incoming transfers of a pass-through address")
	f.Uint64Var(&opt.MaxResidualPct, "max-residual", 5, "percent of the funds a pass-through address may keep")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
