package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// findingSave is where an analysis command keeps its result (--case,
// --title): a finding of the case with the parameters it ran with and the
// index's provenance, as the API's findings.
type findingSave struct {
	caseRef, title string
}

func (s *findingSave) flags(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&s.caseRef, "case", "", "keep the "+what+" as a finding of this case (its id or reference; needs your credentials)")
	cmd.Flags().StringVar(&s.title, "title", "", "the finding's title (with --case)")
}

// save stores result as a finding of kind; params are the analysis's
// parameters in the API's field names, so reports and the web read CLI
// and API findings alike.
func (a *app) saveFinding(cmd *cobra.Command, s findingSave, kind casestore.FindingKind, defTitle string, params map[string]any,
	result any, src workspace.Source) (casestore.Finding, error) {
	_, st, p, id, err := a.withCase(cmd, s.caseRef)
	if err != nil {
		return casestore.Finding{}, err
	}
	pj, err := json.Marshal(params)
	if err != nil {
		return casestore.Finding{}, fmt.Errorf("finding: encode params: %w", err)
	}
	rj, err := json.Marshal(result)
	if err != nil {
		return casestore.Finding{}, fmt.Errorf("finding: encode result: %w", err)
	}
	pv, err := workspace.Provenance(src, pj, vestigoVersion())
	if err != nil {
		return casestore.Finding{}, err
	}
	pv.Source = "cli, " + pv.Source
	title := s.title
	if title == "" {
		title = defTitle
	}
	return st.AddFinding(cmd.Context(), p, id, casestore.Finding{Kind: kind, Title: title, Params: pj, Result: rj, Provenance: pv})
}
