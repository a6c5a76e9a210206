// Package share moves a case from one Vestigo installation to another as a
// case package (package casepack): Export fills a signed package,
// encrypted to the partner, from the case store; Import checks a package
// sent to this installation and creates the case from it.
//
// Concepts:
//
//   - Package content (paths under files/ in the casepack archive):
//     case.json is casestore.CaseRecords as JSON: the case, its subjects,
//     items with their provenance, notes, tags, findings, exhibit metadata,
//     tasks, and the sender's audit records of the case's changes (every
//     record about the case except reads and refusals: "view", "export" and
//     "denied" records are the sender's business and would make two exports
//     of the same case differ); exhibits/<sha256> is each exhibit file once,
//     named by the lower-case hex SHA-256 of its content;
//     sender-identity.txt is the sender's public identity
//     (casepack.FormatIdentity: agency, signing key, age recipient), which
//     a recipient may add to its partners after checking the key id with
//     the sender out of band. Nothing else is in a package: no users, no
//     credentials, no other case, no private key.
//   - Determinism: for the same case state, options and keys, Export writes
//     the same archive bytes before encryption (records in id order, audit
//     records in sequence order, entries sorted by path, JSON of fixed field
//     order, tar times from Now). The age layer is random on every call.
//   - Redaction: ExportOptions.Redact names parts left out before anything
//     is written (see Redactions below); the manifest's Redacted field
//     records what was removed.
//   - Import reads a package with the installation's age identity
//     (casepack.Read: intact, signed, addressed to this installation, within
//     ImportOptions.Limits), then requires the sender's signing key to be
//     one of ImportOptions.Partners, unless AcceptUnknown (the report then
//     says KnownSender false). case.json is parsed strictly (no unknown
//     fields, one JSON value, no larger than the casepack entry limit) and
//     must name the manifest's case; every exhibit must have its file in the
//     package with its SHA-256 and size, and every file must be referenced;
//     every record must pass casestore.CheckImport (what ImportCase checks
//     before it touches the store; a refusal matches both ErrFormat and
//     casestore.ErrInvalid). Only then are the files stored
//     (casestore.StoreExhibitContent) and the case created
//     (casestore.ImportCase, one transaction) with its origin: the
//     manifest's origin agency, the package digest and the sender's key
//     id. A failed import leaves no case behind, and the exhibit files it
//     added to the store are removed again (casestore.RemoveUnusedExhibitFile:
//     only files that were not in the store before, and only while no
//     exhibit refers to them). The sender's audit records are not written
//     into the recipient's log (ImportCase records its own "import"
//     records); they are returned in the report, and stay in the package
//     file.
//   - Export needs the right to change case content (admins and
//     investigators): sending a whole case away is not a read.
//
// Redactions (Redactions lists them; an unknown name is refused with the
// list of the valid ones). Removing a kind of object also removes the audit
// records about objects of that kind (object type note, subject, task,
// exhibit, tag, finding), so the trail does not name them either:
//
//   - notes: every note (on the case and on items) and the free text of
//     subjects (Subject.Notes).
//   - subjects: every subject.
//   - tasks: every task.
//   - exhibits: exhibit metadata and files.
//   - audit: every audit record.
//   - tags: the investigators' tags on items.
//   - findings: every finding (parameters, results, provenance).
//   - legal_basis: the case's legal basis.
//   - item_labels: the label of every item.
//   - provenance.actor: who did it: the actor of the provenance of items,
//     findings and exhibits, the actor name and id of every audit record,
//     and the sender's user ids (created_by, case lead, task assignees).
//
// The audit records that remain are carried as the sender's store wrote
// them, except after a field redaction. An audit record's object_hash is a
// SHA-256 over the whole row of its object (casestore.ObjectHash): it
// reveals no field, but would confirm a guessed value of a field removed
// from an object that is kept (a legal basis, a label, a subject's notes,
// an actor), and so would a record's hash and the hashes after it, which
// commit to it through the chain. So when a field redaction (notes while
// subjects are kept, legal_basis, item_labels, provenance.actor) applies,
// the records of the object types concerned lose their object_hash, every
// carried record loses its hash and prev_hash, and the manifest's
// Redacted list says so with RedactAuditHashes ("audit.hashes"). Records
// of other types keep their object_hash, which a recipient can check
// against the carried objects with casestore.ObjectHash. Without a field
// redaction every hash is carried, and the carried trail checks against
// the objects and links record to record where records are consecutive.
//
// Errors: bad options match casestore.ErrInvalid ("share: invalid
// redaction …"). Import's refusals wrap the casepack sentinels, so that
// errors.Is tells them apart: ErrNotForYou, ErrSignature, ErrTampered,
// ErrUnsafePath, ErrTooLarge, ErrFormat (also a signed package whose
// content is inconsistent: a missing or unreferenced file, a malformed
// case.json) and ErrUnknownSender. Errors of the case store (ErrForbidden,
// ErrConflict for a reference already taken, …) are passed through. All
// are prefixed "share: ".
package share
