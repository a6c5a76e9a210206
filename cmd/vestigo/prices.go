package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/prices"
)

// pricesCommand is `vestigo prices`: daily fiat price series for the fiat
// values of reports.
func (a *app) pricesCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "prices",
		Short: "Fiat price series of assets (for EUR and USD values in reports)",
		Long: `Daily prices of an asset in fiat currencies, imported from CSV files of lines
date,currency,price (the header optional): date YYYY-MM-DD, currency an ISO
4217 code such as EUR or USD, price an exact decimal (at most 18 decimals).

  vestigo prices import FILE --asset BTC     import (all or nothing; FILE:LINE errors)
  vestigo prices list                        the series with their file and SHA-256
  vestigo prices get BTC EUR 2024-03-15      one day's price (no interpolation)`,
	}
	cmd.AddCommand(a.pricesImportCommand(), a.pricesListCommand(), a.pricesGetCommand())
	return cmd
}

func (a *app) pricesImportCommand() *cobra.Command {
	var asset string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "import FILE --asset SYMBOL",
		Short: "Import a CSV file of date,currency,price as the asset's series",
		Long: `Import a CSV file of daily prices of one asset (--asset BTC, ETH or another
symbol). Each currency of the file becomes a series that remembers the file's
name and SHA-256. A bad line (reported as FILE:LINE), a day given twice or a
file above the limits stores nothing. Re-importing an unchanged file changes
nothing; a changed file, or another file of the same series, replaces it.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asset == "" {
				return usagef("--asset is required (BTC, ETH or another symbol)")
			}
			ws, err := a.workspace()
			if err != nil {
				return err
			}
			st, err := ws.Prices()
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := st.Import(cmd.Context(), args[0], asset, time.Now().UTC())
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(res)
			}
			fmt.Fprintf(a.stdout, "%s: %s (%s, sha256 %s)\n", res.File, res.Status, res.Asset, res.SHA256)
			a.printSeries(res.Series)
			for _, r := range res.Replaced {
				fmt.Fprintf(a.stdout, "  note: replaced %s\n", r)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&asset, "asset", "", "the asset the prices are of: BTC, ETH or another symbol")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) printSeries(ss []prices.Series) {
	w := table(a.stdout)
	fmt.Fprintln(w, "ASSET\tCURRENCY\tFIRST\tLAST\tDAYS\tFILE\tSHA256")
	for _, s := range ss {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", s.Asset, s.Currency, s.First, s.Last, s.Days, s.File, s.SHA256)
	}
	w.Flush()
}

func (a *app) pricesListCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the imported price series",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			st, err := ws.Prices()
			if err != nil {
				return err
			}
			defer st.Close()
			ss, err := st.Series(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				if ss == nil {
					ss = []prices.Series{}
				}
				return a.printJSON(ss)
			}
			if len(ss) == 0 {
				fmt.Fprintln(a.stdout, "no price series (vestigo prices import FILE --asset BTC)")
				return nil
			}
			a.printSeries(ss)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) pricesGetCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "get ASSET CURRENCY DATE",
		Short: "The price of an asset in a currency on a day (YYYY-MM-DD, UTC)",
		Args:  exactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			day, err := prices.ParseDay(args[2])
			if err != nil {
				return usageError{err}
			}
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			st, err := ws.Prices()
			if err != nil {
				return err
			}
			defer st.Close()
			q, ok, err := st.Quote(cmd.Context(), args[0], args[1], day)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("no %s price of %s on %s (prices are not interpolated): %w", args[1], args[0], args[2], chain.ErrNotFound)
			}
			if asJSON {
				return a.printJSON(q)
			}
			fmt.Fprintf(a.stdout, "%s %s %s %s (%s line %d, sha256 %s)\n", q.Day, q.Asset, q.Price, q.Currency, q.File, q.Line, q.SHA256)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
