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

// RedactAuditHashes is added to the manifest's Redacted list, never given
// as an option: a field redaction (notes of subjects, legal_basis,
// item_labels, provenance.actor) removed a field of an object whose audit
// records are carried, so their object_hash, and the hash and prev_hash of
// every carried record (which commit to it through the chain), are left
// out: they would confirm a guessed value of the removed field.
const RedactAuditHashes = "audit.hashes"

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
// audit records of reads, and returns the manifest's Redacted list: names,
// with RedactAuditHashes when hashes of the carried audit records were
// left out.
func redact(rec *casestore.CaseRecords, names []string) []string {
	has := func(n string) bool { return slices.Contains(names, n) }
	dropTypes := []string{}
	// hashTypes are the object types a field redaction changed and whose
	// records stay: their object hashes would confirm a guess.
	hashTypes := []string{}
	if has(RedactNotes) {
		rec.Notes = []casestore.Note{}
		for i := range rec.Subjects {
			rec.Subjects[i].Notes = ""
		}
		dropTypes = append(dropTypes, "note")
		hashTypes = append(hashTypes, "subject")
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
		hashTypes = append(hashTypes, "case")
	}
	if has(RedactItemLabels) {
		for i := range rec.Items {
			rec.Items[i].Label = ""
		}
		hashTypes = append(hashTypes, "item")
	}
	if has(RedactProvenanceActor) {
		// The actor and the user ids are fields of every kind of object.
		hashTypes = append(hashTypes, "case", "subject", "item", "note", "tag", "finding", "exhibit", "task")
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
	out := slices.Clone(names)
	hashTypes = slices.DeleteFunc(hashTypes, func(t string) bool { return slices.Contains(dropTypes, t) })
	if len(hashTypes) > 0 && !has(RedactAudit) {
		// A record's hash commits to its object_hash, and the next record's
		// prev_hash and hash to that hash, and so on down the chain: with
		// the records carried in a row, any kept hash after a changed object
		// would confirm a guess. So none is kept.
		for i := range rec.Audit {
			if slices.Contains(hashTypes, rec.Audit[i].ObjectType) {
				rec.Audit[i].ObjectHash = ""
			}
			rec.Audit[i].Hash, rec.Audit[i].PrevHash = "", ""
		}
		out = append(out, RedactAuditHashes)
		slices.Sort(out)
	}
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
	return out
}
