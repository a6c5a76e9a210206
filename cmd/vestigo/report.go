package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	reportfmt "github.com/vestigo-forensics/vestigo/internal/report"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// maxReportFile bounds a report file read by report verify.
const maxReportFile = 256 << 20

func (a *app) reportCommand() *cobra.Command {
	var (
		format, lang, out, created string
		asJSON                     bool
	)
	cmd := &cobra.Command{
		Use:   "report CASE -o FILE [--format pdf|html] [--lang en|sq|mk|sr|sr-Latn]",
		Short: "Render a case's court report (PDF or HTML) and record it as an exhibit",
		Long: `Render the report of a case: cover, summary of the flows and of the services that
can receive a legal request (with the deposit addresses there), fund-flow
diagrams, a table per finding, the addresses with every tag, the methodology
with the error rates measured by "vestigo heuristics evaluate", the provenance
with the commands that reproduce each finding, and the annex: the manifest of
the exhibits with their SHA-256 and time-stamps, and the audit checkpoint that
covers the case (made now when $VESTIGO_PASSPHRASE opens the installation keys).

The file is written to FILE and recorded as an exhibit of the case (hashed,
time-stamped with the TSA, audited). The same case state renders the same
bytes: --created gives the recorded creation time of an earlier rendering.
"vestigo report verify FILE" checks a report against the audit log.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("-o FILE is required")
			}
			clock := time.Now
			if created != "" {
				t, err := time.Parse(time.RFC3339, created)
				if err != nil {
					return usagef("--created %q is not an RFC 3339 time", created)
				}
				clock = func() time.Time { return t }
			}
			ws, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			id, err := caseID(cmd.Context(), st, p, args[0])
			if err != nil {
				return err
			}
			ts, err := a.tsaConfig()
			if err != nil {
				return err
			}
			opt := workspace.ReportOptions{Version: vestigoVersion(), Clock: clock, DSN: a.cf.db, TSA: ts}
			if os.Getenv(workspace.EnvPassphrase) != "" {
				k, err := ws.Keys([]byte(os.Getenv(workspace.EnvPassphrase)), false)
				if err != nil {
					return err
				}
				opt.Signer = k.Sign
			}
			r, err := ws.RenderReport(cmd.Context(), st, p, id, format, lang, opt)
			if err != nil {
				return err
			}
			if err := writeFileAtomic(out, r.Data); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(struct {
					File string `json:"file"`
					*workspace.RenderedReport
				}{out, r})
			}
			fmt.Fprintf(a.stdout, "%s: %s report of case %s, %d bytes\n", out, strings.ToUpper(r.Format), args[0], len(r.Data))
			fmt.Fprintf(a.stdout, "exhibit %d %s\nsha256 %s\ncontent digest %s\n", r.Exhibit.ID, r.Exhibit.Name, r.Exhibit.SHA256, r.Digest)
			if len(r.Exhibit.TSAToken) > 0 {
				fmt.Fprintf(a.stdout, "time-stamped (RFC 3161 token of %d bytes)\n", len(r.Exhibit.TSAToken))
			} else {
				fmt.Fprintln(a.stdout, "not time-stamped (no TSA configured)")
			}
			if r.Checkpoint != nil {
				fmt.Fprintf(a.stdout, "checkpoint %d covers it (record %d)\n", r.Checkpoint.ID, r.Checkpoint.Seq)
			} else {
				fmt.Fprintln(a.stdout, "no checkpoint yet: run vestigo audit checkpoint before report verify")
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVarP(&out, "output", "o", "", "the report file to write")
	f.StringVar(&format, "format", "pdf", "pdf or html")
	f.StringVar(&lang, "lang", "en", "language: "+strings.Join(reportfmt.Languages(), ", "))
	f.StringVar(&created, "created", "", "record this creation time (RFC 3339) instead of now, to render an earlier report again")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(a.reportVerifyCommand())
	return cmd
}

func (a *app) reportVerifyCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify FILE",
		Short: "Check a report file against the exhibit Vestigo recorded, its time-stamp and the audit log",
		Long: `Hash the file and look for a report exhibit with that SHA-256 in your agency's
cases; check its RFC 3161 token (with --tsa-ca), the whole audit log, and that a
signed checkpoint covers the record of the report's creation. The hash decides:
a file with one byte changed is not a report Vestigo recorded (exit code 4).`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fh, err := os.Open(args[0])
			if err != nil {
				return err
			}
			data, err := io.ReadAll(io.LimitReader(fh, maxReportFile+1))
			fh.Close()
			if err != nil {
				return err
			}
			if len(data) > maxReportFile {
				return usagef("%s is larger than %d bytes: not a report", args[0], maxReportFile)
			}
			ws, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			ts, err := a.tsaConfig()
			if err != nil {
				return err
			}
			v, err := ws.Verifier(a.cf.db, ts)
			if err != nil {
				return err
			}
			rep, err := workspace.VerifyReport(cmd.Context(), st, p, data, v)
			if err != nil {
				return err
			}
			if asJSON {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				printReportVerification(a, args[0], rep)
			}
			if !rep.OK() {
				return fmt.Errorf("report verify: %s: %w", rep.Problems[0], errProblems)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printReportVerification(a *app, file string, r *workspace.ReportVerification) {
	fmt.Fprintf(a.stdout, "%s: sha256 %s, %d bytes\n", file, r.SHA256, r.Size)
	if r.Found {
		ex := r.Exhibit
		fmt.Fprintf(a.stdout, "recorded as exhibit %d (%s) of case %s on %s by %s\n", ex.ID, ex.Name, r.CaseRef,
			ex.CreatedAt.UTC().Format(time.RFC3339), orDash(ex.Provenance.Actor))
		if r.Digest != "" {
			fmt.Fprintf(a.stdout, "content digest %s\n", r.Digest)
		}
		if r.Checkpoint != nil {
			fmt.Fprintf(a.stdout, "audit record %d, covered by checkpoint %d (record %d, key %s)\n", r.Record, r.Checkpoint.ID, r.Checkpoint.Seq, r.Checkpoint.KeyID)
		}
		if r.Audit != nil {
			fmt.Fprintf(a.stdout, "audit log: %d records, %d checkpoints\n", r.Audit.Records, r.Audit.Checkpoints)
		}
	}
	for _, u := range r.Unchecked {
		fmt.Fprintf(a.stdout, "not checked: %s\n", u)
	}
	if r.OK() {
		fmt.Fprintln(a.stdout, "OK: this is the report Vestigo recorded, and the audit log vouches for it")
		return
	}
	fmt.Fprintf(a.stdout, "FAILED: %s\n", r.Problems[0])
	for _, p := range r.Problems[1:] {
		fmt.Fprintf(a.stdout, "  also: %s\n", p)
	}
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory.
func writeFileAtomic(path string, data []byte) error {
	dir := "."
	if i := strings.LastIndexAny(path, `/`); i >= 0 {
		dir = path[:i+1]
	}
	tmp, err := os.CreateTemp(dir, ".report-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
