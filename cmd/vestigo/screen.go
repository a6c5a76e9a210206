package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/export"
)

// maxScreenFile bounds the list a screening reads.
const maxScreenFile = 64 << 20

func (a *app) screenCommand() *cobra.Command {
	var (
		file           string
		asJSON, asCSV  bool
		includeCluster bool
	)
	cmd := &cobra.Command{
		Use:   "screen [ADDRESS…]",
		Short: "Screen addresses: direct tags, cluster tags, sanctioned or not",
		Long: `Screen a list of addresses (arguments and/or --file, one per line; blank lines
and lines starting with # are skipped; a CSV line counts by its first field):
for each, its direct tags, the tags of its cluster and whether it is
sanctioned (directly or through its cluster). EVM addresses (0x…, EIP-55
checked when in mixed case; a wrong checksum is reported invalid, never
screened clean) are screened against every EVM currency's tags (OFAC lists
the same accounts under ETH, USDT and USDC) and looked up in every EVM index;
they need no index. Invalid addresses are reported
in the results, not fatal. The exit code is 0 when the screening ran; a
summary line goes to stderr (stdout for the text table).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if asJSON && asCSV {
				return usagef("choose one of --json and --csv")
			}
			inputs := append([]string(nil), args...)
			if file != "" {
				more, err := readList(a, file)
				if err != nil {
					return err
				}
				inputs = append(inputs, more...)
			}
			if len(inputs) == 0 {
				return usagef("nothing to screen: give addresses or --file FILE")
			}
			ws, err := a.readWorkspace()
			if err != nil {
				return err
			}
			res, sum, where, err := ws.Screen(cmd.Context(), a.selector(), inputs)
			if err != nil {
				return err
			}
			line := fmt.Sprintf("screened %d addresses on %s: %d sanctioned, %d tagged, %d on chain, %d invalid",
				sum.Screened, where, sum.Sanctioned, sum.Tagged, sum.OnChain, sum.Invalid)
			switch {
			case asJSON:
				err = a.printJSON(struct {
					Results []entity.Screening `json:"results"`
					Summary entity.Summary     `json:"summary"`
				}{res, sum})
				fmt.Fprintln(a.stderr, line)
			case asCSV:
				err = writeScreenCSV(a.stdout, res, includeCluster)
				fmt.Fprintln(a.stderr, line)
			default:
				printScreen(a, res)
				fmt.Fprintln(a.stdout, line)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&file, "file", "", "file with one address per line (- for standard input)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&asCSV, "csv", false, "print CSV")
	cmd.Flags().BoolVar(&includeCluster, "csv-cluster-tags", true, "with --csv: include the cluster tags' labels")
	return cmd
}

func readList(a *app, file string) ([]string, error) {
	var r io.Reader
	if file == "-" {
		r = a.stdin
	} else {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var out []string
	sc := bufio.NewScanner(io.LimitReader(r, maxScreenFile+1))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	read := 0
	for sc.Scan() {
		read += len(sc.Bytes()) + 1
		if read > maxScreenFile {
			return nil, usagef("%s is larger than %d MiB", file, maxScreenFile>>20)
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, ",;\t"); i >= 0 {
			line = strings.TrimSpace(strings.Trim(line[:i], `"`))
		}
		if line == "" || strings.EqualFold(line, "address") {
			continue // a CSV header
		}
		out = append(out, line)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	return out, nil
}

func printScreen(a *app, res []entity.Screening) {
	w := table(a.stdout)
	fmt.Fprintf(w, "ADDRESS\tSANCTIONED\tCLUSTER\tDIRECT TAGS\tCLUSTER TAGS\tCATEGORIES\n")
	for _, r := range res {
		if !r.Valid {
			fmt.Fprintf(w, "%s\tinvalid: %s\t\t\t\t\n", r.Input, r.Error)
			continue
		}
		sanc := "no"
		if r.Sanctioned {
			sanc = "YES (" + r.SanctionedVia + ")"
		}
		cl := "not on chain"
		switch {
		case r.EVMChains != nil && r.OnChain:
			ids := make([]string, len(r.EVMChains))
			for i, id := range r.EVMChains {
				ids[i] = strconv.FormatUint(id, 10)
			}
			cl = "on EVM chain " + strings.Join(ids, ", ")
		case r.OnChain:
			cl = fmt.Sprintf("%d (%d addr)", r.ClusterID, r.ClusterSize)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Address, sanc, cl, labels(r.DirectTags), labels(r.ClusterTags), orDash(strings.Join(r.Categories, ", ")))
	}
	w.Flush()
}

func labels(ts []entity.Tag) string {
	if len(ts) == 0 {
		return "-"
	}
	var seen []string
	for _, t := range ts {
		l := t.Label + " [" + t.Pack + "]"
		if len(seen) < 3 && !contains(seen, l) {
			seen = append(seen, l)
		}
	}
	s := strings.Join(seen, "; ")
	if len(ts) > len(seen) {
		s += fmt.Sprintf(" (+%d)", len(ts)-len(seen))
	}
	return s
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func writeScreenCSV(w io.Writer, res []entity.Screening, withCluster bool) error {
	cw := csv.NewWriter(w)
	head := []string{"input", "address", "valid", "error", "on_chain", "cluster_id", "cluster_size", "sanctioned", "sanctioned_via", "direct_tags", "categories"}
	if withCluster {
		head = append(head, "cluster_tags")
	}
	if err := cw.Write(head); err != nil {
		return err
	}
	for _, r := range res {
		rec := []string{r.Input, r.Address, strconv.FormatBool(r.Valid), r.Error, strconv.FormatBool(r.OnChain),
			strconv.FormatUint(r.ClusterID, 10), strconv.FormatUint(r.ClusterSize, 10), strconv.FormatBool(r.Sanctioned),
			r.SanctionedVia, tagList(r.DirectTags), strings.Join(r.Categories, ";")}
		if withCluster {
			rec = append(rec, tagList(r.ClusterTags))
		}
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

func tagList(ts []entity.Tag) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Label + " (" + t.Pack + ")"
	}
	return strings.Join(parts, "; ")
}

// csvSafe keeps a spreadsheet from reading a cell as a formula: tag labels
// come from files of others (CSV injection). The rule is export.CellSafe,
// shared with the CSV and XLSX exports.
func csvSafe(s string) string { return export.CellSafe(s) }
