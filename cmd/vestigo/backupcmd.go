package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/backup"
)

func (a *app) backupCommand() *cobra.Command {
	var out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "backup -o FILE",
		Short: "Write a consistent backup of the case store and its exhibits, with the index tips it refers to",
		Long: `Write one consistent snapshot of the case store (every table, the audit log
included) and every exhibit file to FILE, with the tip of each chain index the
cases refer to. The indexes themselves are not in it (they are rebuilt from the
chain), nor are the installation keys (keep a copy of DATA/keys apart). Restore
with vestigo restore FILE into an empty store.`,
		Args: exactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return usagef("give the backup file with -o")
			}
			a.wsOpt.ReadOnly = true
			ws, st, err := a.caseStore(cmd.Context())
			if err != nil {
				return err
			}
			tips, busy, err := ws.Tips()
			if err != nil {
				return err
			}
			for _, l := range busy {
				fmt.Fprintf(a.stderr, "warning: the %s index is in use (vestigo serve?): its tip is not recorded in the backup\n", l)
			}
			tmp, err := os.CreateTemp(filepath.Dir(out), ".vestigo-backup-*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			m, err := backup.Write(cmd.Context(), st, tips, vestigoVersion(), time.Now().UTC(), tmp)
			if err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Sync(); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			if err := os.Rename(tmp.Name(), out); err != nil {
				return err
			}
			if asJSON {
				return a.printJSON(m)
			}
			fmt.Fprintf(a.stdout, "backup written to %s: %s store (schema %d), %d exhibits, %d index tips\n", out, m.Backend, m.SchemaVersion, m.Exhibits, len(m.IndexTips))
			for _, t := range m.IndexTips {
				fmt.Fprintf(a.stdout, "  %s at block %d %s\n", t.Ledger, t.Height, t.Hash)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "the backup file to write")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the manifest as JSON")
	return cmd
}

func (a *app) restoreCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "restore FILE",
		Short: "Restore a backup into an empty case store (--db), checking every hash",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := os.Open(args[0])
			if err != nil {
				return err
			}
			defer f.Close()
			ws, st, err := a.caseStore(cmd.Context())
			if err != nil {
				return err
			}
			ts, err := a.tsaConfig()
			if err != nil {
				return err
			}
			v, err := ws.Verifier("", ts) // the anchors of the installation's own store
			if err != nil {
				return err
			}
			m, rep, err := backup.RestoreVerified(cmd.Context(), st, f, backup.RestoreOptions{Verifier: v})
			if err != nil {
				if rep != nil {
					for _, p := range rep.Problems {
						fmt.Fprintf(a.stdout, "problem: %s\n", p)
					}
				}
				return err
			}
			if asJSON {
				return a.printJSON(m)
			}
			fmt.Fprintf(a.stdout, "restored %s store of %s (schema %d) with %d exhibits into %s\n", m.Backend, m.Created.UTC().Format(time.RFC3339),
				m.SchemaVersion, m.Exhibits, ws.CaseDSN(a.cf.db))
			tips, _, err := ws.Tips()
			if err != nil {
				return err
			}
			have := map[string]int64{}
			for _, t := range tips {
				have[t.Ledger] = t.Height
			}
			for _, t := range m.IndexTips {
				h, ok := have[t.Ledger]
				switch {
				case !ok:
					fmt.Fprintf(a.stdout, "  the cases refer to %s at block %d: no such index here yet (import or sync it)\n", t.Ledger, t.Height)
				case h < t.Height:
					fmt.Fprintf(a.stdout, "  the cases refer to %s at block %d; the index here is at %d (sync it)\n", t.Ledger, t.Height, h)
				default:
					fmt.Fprintf(a.stdout, "  %s: the cases refer to block %d; the index here is at %d\n", t.Ledger, t.Height, h)
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the manifest as JSON")
	return cmd
}
