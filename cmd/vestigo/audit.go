package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

func (a *app) auditCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "The tamper-evident audit log: verify, checkpoint, list",
		Long: `Every action on the case store (create, change, view, export, delete, logins
and denied attempts) is appended to a hash-chained audit log. Checkpoints sign
its head with the installation key and, with a time-stamping authority
(--tsa-url, --tsa-ca), carry an RFC 3161 time-stamp. vestigo audit verify checks
the whole chain, every checkpoint, every stored object against its last audit
record and every exhibit file, and names the first bad record.`,
	}
	cmd.AddCommand(a.auditVerifyCommand(), a.auditCheckpointCommand(), a.auditListCommand())
	return cmd
}

func (a *app) auditVerifyCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log, the checkpoints, every stored object and every exhibit",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			ws, st, err := a.caseStore(cmd.Context())
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
			rep, err := st.Verify(cmd.Context(), v)
			if err != nil {
				return err
			}
			if asJSON {
				if err := a.printJSON(rep); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(a.stdout, "audit log: %d records, head %d %s; %d checkpoints; %d objects; %d exhibit files\n",
					rep.Records, rep.HeadSeq, orDash(rep.HeadHash), rep.Checkpoints, rep.Objects, rep.Exhibits)
				fmt.Fprintf(a.stdout, "anchors outside the database: %d, anchored up to record %d (%s)\n", rep.Anchors, rep.Anchored, ws.AnchorsPath(a.cf.db))
				for _, u := range rep.Unchecked {
					fmt.Fprintf(a.stdout, "not checked: %s\n", u)
				}
				if rep.OK() {
					fmt.Fprintln(a.stdout, "OK: the log, its checkpoints, the stored objects and the exhibits agree")
				} else {
					fmt.Fprintf(a.stdout, "FIRST PROBLEM: %s\n", rep.First())
					for _, p := range rep.Problems[1:] {
						fmt.Fprintf(a.stdout, "  also: %s\n", p)
					}
				}
			}
			if !rep.OK() {
				return fmt.Errorf("audit verify: %s: %w", rep.First(), errProblems)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) auditCheckpointCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "checkpoint",
		Short: "Sign the audit log's head with the installation key (and time-stamp it with the TSA)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, k, err := a.installationKeys(false)
			if err != nil {
				return err
			}
			ws, st, err := a.caseStore(cmd.Context())
			if err != nil {
				return err
			}
			cp, err := st.Checkpoint(cmd.Context(), k.Sign)
			if err != nil {
				return err
			}
			if err := ws.AppendAnchor(a.cf.db, cp); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(cp)
			}
			ts := "no time-stamp (no TSA configured)"
			if len(cp.TSAToken) > 0 {
				ts = fmt.Sprintf("RFC 3161 token of %d bytes", len(cp.TSAToken))
			}
			fmt.Fprintf(a.stdout, "checkpoint %d: record %d, head %s, signed by key %s; %s\n", cp.ID, cp.Seq, cp.HeadHash, cp.KeyID, ts)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func (a *app) auditListCommand() *cobra.Command {
	var (
		asJSON  bool
		caseArg string
		after   int64
		limit   int
	)
	cmd := &cobra.Command{
		Use:   "list [--case CASE] [--after SEQ] [--limit N]",
		Short: "List audit records (administrators and reviewers; your agency's)",
		Args:  exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			f := casestore.AuditFilter{AfterSeq: after, Limit: limit}
			if caseArg != "" {
				if f.CaseID, err = caseID(cmd.Context(), st, p, caseArg); err != nil {
					return err
				}
			}
			rs, err := st.ListAudit(cmd.Context(), p, f)
			if err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(rs)
			}
			w := table(a.stdout)
			fmt.Fprintf(w, "SEQ\tAT\tACTOR\tACTION\tOBJECT\tCASE\tDETAIL\n")
			for _, r := range rs {
				obj := r.ObjectType
				if r.ObjectID != 0 {
					obj = fmt.Sprintf("%s %d", r.ObjectType, r.ObjectID)
				}
				detail := strings.Join(strings.Fields(string(r.Detail)), " ")
				if len(detail) > 80 {
					detail = detail[:77] + "..."
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Seq, r.At.UTC().Format("2006-01-02 15:04:05"), orDash(r.Actor), r.Action, orDash(obj), r.CaseID, detail)
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.StringVar(&caseArg, "case", "", "only the records of this case (id or reference)")
	f.Int64Var(&after, "after", 0, "records after this sequence number")
	f.IntVar(&limit, "limit", 100, "records to list (at most 1000)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
