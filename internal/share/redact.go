package share

import (
	"fmt"
	"slices"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// The redactions Export knows (see the package documentation).
const (
	RedactNotes           = "notes"
	RedactSubjects        = "subjects"
	RedactTasks           = "tasks"
	RedactExhibits        = "exhibits"
	RedactAudit           = "audit"
	RedactTags            = "tags"
	RedactFindings        = "findings"
	RedactLegalBasis      = "legal_basis"
	RedactItemLabels      = "item_labels"
	RedactProvenanceActor = "provenance.actor"
)

// Redactions lists the valid redaction names, sorted.
func Redactions() []string {
	out := []string{RedactNotes, RedactSubjects, RedactTasks, RedactExhibits, RedactAudit, RedactTags,
		RedactFindings, RedactLegalBasis, RedactItemLabels, RedactProvenanceActor}
	slices.Sort(out)
	return out
}

// parseRedactions checks names against Redactions and returns them sorted
// without repetitions.
func parseRedactions(names []string) ([]string, error) {
	valid := Redactions()
	out := []string{}
	for _, n := range names {
		if !slices.Contains(valid, n) {
			return nil, fmt.Errorf("share: invalid redaction %q (valid: %s): %w", n, strings.Join(valid, ", "), casestore.ErrInvalid)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// readActions are audit actions that change nothing: they are not carried
// in a package.
var readActions = []string{casestore.ActionView, casestore.ActionExport, casestore.ActionDenied}

// redact removes from rec what the (valid) redactions name, and the
// audit records of reads.
func redact(rec *casestore.CaseRecords, names []string) {
	has := func(n string) bool { return slices.Contains(names, n) }
	dropTypes := []string{}
	if has(RedactNotes) {
		rec.Notes = []casestore.Note{}
		for i := range rec.Subjects {
			rec.Subjects[i].Notes = ""
		}
		dropTypes = append(dropTypes, "note")
	}
	if has(RedactSubjects) {
		rec.Subjects = []casestore.Subject{}
		dropTypes = append(dropTypes, "subject")
	}
	if has(RedactTasks) {
		rec.Tasks = []casestore.Task{}
		dropTypes = append(dropTypes, "task")
	}
	if has(RedactExhibits) {
		rec.Exhibits = []casestore.Exhibit{}
		dropTypes = append(dropTypes, "exhibit")
	}
	if has(RedactTags) {
		rec.Tags = []casestore.ItemTag{}
		dropTypes = append(dropTypes, "tag")
	}
	if has(RedactFindings) {
		rec.Findings = []casestore.Finding{}
		dropTypes = append(dropTypes, "finding")
	}
	if has(RedactLegalBasis) {
		rec.Case.LegalBasis = ""
	}
	if has(RedactItemLabels) {
		for i := range rec.Items {
			rec.Items[i].Label = ""
		}
	}
	audit := make([]casestore.AuditRecord, 0, len(rec.Audit))
	if !has(RedactAudit) {
		for _, r := range rec.Audit {
			if !slices.Contains(readActions, r.Action) && !slices.Contains(dropTypes, r.ObjectType) {
				audit = append(audit, r)
			}
		}
	}
	rec.Audit = audit
	if has(RedactProvenanceActor) {
		rec.Case.CreatedBy, rec.Case.LeadUserID = 0, 0
		for i := range rec.Subjects {
			rec.Subjects[i].CreatedBy = 0
		}
		for i := range rec.Items {
			rec.Items[i].Provenance.Actor = ""
			rec.Items[i].CreatedBy = 0
		}
		for i := range rec.Notes {
			rec.Notes[i].CreatedBy = 0
		}
		for i := range rec.Tags {
			rec.Tags[i].CreatedBy = 0
		}
		for i := range rec.Findings {
			rec.Findings[i].Provenance.Actor = ""
			rec.Findings[i].CreatedBy = 0
		}
		for i := range rec.Exhibits {
			rec.Exhibits[i].Provenance.Actor = ""
			rec.Exhibits[i].CreatedBy = 0
		}
		for i := range rec.Tasks {
			rec.Tasks[i].CreatedBy, rec.Tasks[i].AssigneeID = 0, 0
		}
		for i := range rec.Audit {
			rec.Audit[i].Actor, rec.Audit[i].ActorID = "", 0
		}
	}
}
