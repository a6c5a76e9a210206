package main

import (
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// caseExportFindingCommand is `vestigo case export-finding`.
func (a *app) caseExportFindingCommand() *cobra.Command {
	return a.caseExportCommandOf(workspace.ExportFinding, "export-finding CASE FINDING --format json|csv|xlsx -o FILE",
		"Export a finding of a case as canonical JSON, CSV or XLSX, kept as an exhibit and written to FILE", "json", "json, csv or xlsx")
}

// caseExportGraphCommand is `vestigo case export-graph`.
func (a *app) caseExportGraphCommand() *cobra.Command {
	return a.caseExportCommandOf(workspace.ExportGraph, "export-graph CASE EXHIBIT --format graphml|gexf -o FILE",
		"Export a saved graph (an exhibit of the case) as GraphML or GEXF, kept as an exhibit and written to FILE", "graphml", "graphml or gexf")
}

func (a *app) caseExportCommandOf(kind, use, short, defFormat, formats string) *cobra.Command {
	var format, out, name string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long: short + `.
The export is stored as an exhibit of the case with the provenance
"vestigo export ` + kind + ` FORMAT": hashed, time-stamped when a TSA is
configured, in the audit log with its hash, kept and backed up as every
exhibit. Cells of CSV and XLSX that start with = + - @ get a leading
apostrophe so that no spreadsheet reads them as formulas.`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("-o FILE is required (- for standard output)")
			}
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil || id <= 0 {
				return usagef("%q is not the id of a %s", args[1], map[string]string{workspace.ExportFinding: "finding", workspace.ExportGraph: "saved graph exhibit"}[kind])
			}
			_, st, p, caseID, err := a.withCase(cmd, args[0])
			if err != nil {
				return err
			}
			req := workspace.ExportRequest{Kind: kind, Format: format, Name: name}
			if kind == workspace.ExportFinding {
				req.Finding = id
			} else {
				req.Exhibit = id
			}
			ex, content, err := workspace.Export(cmd.Context(), st, p, caseID, req, time.Now().UTC(), vestigoVersion())
			if err != nil {
				return err
			}
			if out == "-" {
				_, err = a.stdout.Write(content)
				return err
			}
			if err := os.WriteFile(out, content, 0o644); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(ex)
			}
			stamp := "not time-stamped (no TSA configured)"
			if len(ex.TSAToken) > 0 {
				stamp = "time-stamped (RFC 3161)"
			}
			fmt.Fprintf(a.stdout, "exhibit %d: %s, %d bytes, sha256 %s, %s; written to %s\n", ex.ID, ex.Name, ex.Size, ex.SHA256, stamp, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", defFormat, formats)
	cmd.Flags().StringVarP(&out, "output", "o", "", "the file to write (- for standard output)")
	cmd.Flags().StringVar(&name, "name", "", "the exhibit's name (default: "+kind+"-ID.FORMAT)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the exhibit as JSON")
	return cmd
}
