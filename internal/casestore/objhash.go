package casestore

import (
	"encoding/hex"
	"fmt"
)

// ObjectHash is the object_hash an audit record gives object v after a
// change: the hex SHA-256 of the canonical encoding of its row. v is a
// Case, Subject, Item, Note, ItemTag, Finding, Exhibit or Task as the store
// returns it (or as a case package carries it), ids and times included;
// the JSON of a finding's params and result must be the stored text,
// whitespace aside (encode with SetEscapeHTML(false), as a case package
// does: escaping "<" as \u003c changes the text). A recipient of a case
// checks the carried objects against the sender's audit records with it
// (the latest state record of each object has its hash); it is equally how
// a guessed value of a removed field would be confirmed, which is why a
// package with a field redaction carries no object hashes of the objects
// concerned.
func ObjectHash(v any) (string, error) {
	var (
		t *tableSpec
		r row
	)
	switch v := v.(type) {
	case Case:
		t, r = tCases, row{"id": v.ID, "agency_id": v.AgencyID, "reference": v.Reference, "title": v.Title,
			"status": string(v.Status), "legal_basis": v.LegalBasis, "lead_user_id": v.LeadUserID,
			"opened_at": micros(v.Opened), "closed_at": micros(v.Closed), "origin_agency": v.OriginAgency,
			"origin_package_digest": v.OriginPackageDigest, "origin_sender_key_id": v.OriginSenderKeyID,
			"imported_at": micros(v.ImportedAt), "version": v.Version, "created_by": v.CreatedBy,
			"created_at": micros(v.CreatedAt), "updated_at": micros(v.UpdatedAt)}
	case Subject:
		t, r = tSubjects, row{"id": v.ID, "case_id": v.CaseID, "name": v.Name, "kind": string(v.Kind), "notes": v.Notes,
			"version": v.Version, "created_by": v.CreatedBy, "created_at": micros(v.CreatedAt), "updated_at": micros(v.UpdatedAt)}
	case Item:
		pv, err := checkProvenance("provenance", v.Provenance)
		if err != nil {
			return "", err
		}
		t, r = tItems, row{"id": v.ID, "case_id": v.CaseID, "kind": string(v.Kind), "chain": v.Chain, "network": v.Network,
			"ref": v.Ref, "label": v.Label, "provenance": pv, "version": v.Version, "created_by": v.CreatedBy,
			"created_at": micros(v.CreatedAt), "updated_at": micros(v.UpdatedAt)}
	case Note:
		t, r = tNotes, row{"id": v.ID, "case_id": v.CaseID, "item_id": v.ItemID, "text": v.Text, "version": v.Version,
			"created_by": v.CreatedBy, "created_at": micros(v.CreatedAt), "updated_at": micros(v.UpdatedAt)}
	case ItemTag:
		t, r = tTags, row{"id": v.ID, "case_id": v.CaseID, "item_id": v.ItemID, "label": v.Label, "category": v.Category,
			"created_by": v.CreatedBy, "created_at": micros(v.CreatedAt)}
	case Finding:
		params, result, err := checkFinding(&v)
		if err != nil {
			return "", err
		}
		pv, _ := checkProvenance("provenance", v.Provenance)
		t, r = tFindings, row{"id": v.ID, "case_id": v.CaseID, "kind": string(v.Kind), "title": v.Title, "params": params,
			"result": result, "provenance": pv, "created_by": v.CreatedBy, "created_at": micros(v.CreatedAt)}
	case Exhibit:
		pv, err := checkProvenance("provenance", v.Provenance)
		if err != nil {
			return "", err
		}
		t, r = tExhibits, row{"id": v.ID, "case_id": v.CaseID, "name": v.Name, "media_type": v.MediaType, "size": v.Size,
			"sha256": v.SHA256, "provenance": pv, "tsa_token": hex.EncodeToString(v.TSAToken), "created_by": v.CreatedBy,
			"created_at": micros(v.CreatedAt)}
	case Task:
		t, r = tTasks, row{"id": v.ID, "case_id": v.CaseID, "title": v.Title, "assignee_id": v.AssigneeID,
			"status": string(v.Status), "due_at": micros(v.Due), "version": v.Version, "created_by": v.CreatedBy,
			"created_at": micros(v.CreatedAt), "updated_at": micros(v.UpdatedAt)}
	default:
		return "", invalid("object", "%T is not a case, subject, item, note, tag, finding, exhibit or task", v)
	}
	h, err := rowHash(t, r)
	if err != nil {
		return "", fmt.Errorf("casestore: object hash: %w", err)
	}
	return h, nil
}
