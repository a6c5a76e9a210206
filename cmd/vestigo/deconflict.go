package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// deconflictCase is one case's overlaps with other cases.
type deconflictCase struct {
	CaseID    int64                     `json:"case_id"`
	Reference string                    `json:"reference"`
	Hits      []casestore.DeconflictHit `json:"hits"`
}

func (a *app) deconflictCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "deconflict [CASE]",
		Short: "List addresses and entities of a case (or of every open case) that other cases you may see also hold",
		Long: `Deconfliction: before acting on an address or entity, see whether another case
already holds it (another team's operation, an imported partner case). For
CASE (id or reference), or for every case of your agency, list each item that
also appears in other cases you may see, with those cases.`,
		Args: rangeArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, st, p, err := a.signedIn(cmd)
			if err != nil {
				return err
			}
			var cases []casestore.Case
			if len(args) == 1 {
				id, err := caseID(cmd.Context(), st, p, args[0])
				if err != nil {
					return err
				}
				c, err := st.GetCase(cmd.Context(), p, id)
				if err != nil {
					return err
				}
				cases = append(cases, c)
			} else {
				for off := 0; ; off += 1000 {
					cs, err := st.ListCases(cmd.Context(), p, casestore.CaseFilter{Limit: 1000, Offset: off})
					if err != nil {
						return err
					}
					cases = append(cases, cs...)
					if len(cs) < 1000 {
						break
					}
				}
			}
			out := []deconflictCase{}
			for _, c := range cases {
				hits, err := st.Deconflict(cmd.Context(), p, c.ID)
				if err != nil {
					return err
				}
				if len(hits) > 0 || len(args) == 1 {
					out = append(out, deconflictCase{CaseID: c.ID, Reference: c.Reference, Hits: hits})
				}
			}
			if asJSON {
				return a.printJSON(out)
			}
			if len(out) == 0 || (len(out) == 1 && len(out[0].Hits) == 0) {
				fmt.Fprintln(a.stdout, "no overlaps with other cases you may see")
				return nil
			}
			for _, c := range out {
				fmt.Fprintf(a.stdout, "Case %s (%d): %d items also elsewhere\n", c.Reference, c.CaseID, len(c.Hits))
				w := table(a.stdout)
				for _, h := range c.Hits {
					var others []string
					for _, o := range h.Others {
						others = append(others, fmt.Sprintf("%s (%d)", o.Reference, o.CaseID))
					}
					fmt.Fprintf(w, "  %s\t%s\t%s\n", h.Kind, h.Ref, strings.Join(others, ", "))
				}
				w.Flush()
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
