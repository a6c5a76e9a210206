// Package casestore is Vestigo's case management store: agencies, users and
// their credentials, cases with their subjects, items of interest, notes,
// tags, findings, exhibits and tasks, and a tamper-evident audit log of
// every action on them. It runs on SQLite (embedded, one machine) or on
// PostgreSQL (a team server), with the same schema and behaviour on both.
//
// Concepts:
//
//   - A Principal is an authenticated user of one agency, with a Role.
//     Every method (but the installation's own: CreateAgency,
//     BootstrapAdmin, ListAgencies, Checkpoint, Verify, Dump, Load,
//     LoadVerified, PutExhibitFile, RemoveUnusedExhibitFile,
//     FlushAuthFailures, and the authentication calls) takes the principal
//     first, and one policy
//     function (decide, in policy.go) rules on every access: admins manage
//     their agency's users and tokens and have investigators' rights;
//     investigators create and change case content; reviewers read and may
//     add notes and tasks (and change their own); read-only users read.
//     Nobody sees another agency's data: such an object is ErrNotFound,
//     exactly as a missing one. A write without the role is ErrForbidden.
//     Every refusal is written to the audit log (action "denied", with the
//     attempt), in a transaction of its own since the attempt's is rolled
//     back.
//   - Facts carry their Provenance (source, chain state, software,
//     parameters); items and findings store it as given, and the store sets
//     its Actor and At. Findings are immutable; cases, subjects, items
//     (label), notes and tasks have a Version for optimistic concurrency:
//     an update must name the version it read (ErrConflict otherwise).
//   - Exhibits are files stored once per content under
//     Options.ExhibitDir/sha256/ab/<hex>, streamed and hashed while written
//     (atomically: temporary file, fsync, rename), refused above
//     Options.MaxExhibit, time-stamped (RFC 3161) when Options.Timestamper
//     is set. OpenExhibit's reader checks the content as it is read.
//   - The audit log is append-only: seq contiguous from 1, the time, the
//     actor (user id and name), the agency, the action (create, change,
//     view, export, delete, login, login-failed, denied, checkpoint,
//     import), the object and case, a JSON detail, object_hash (SHA-256 of
//     the canonical encoding of the object's row after the change; empty
//     after a delete and for records that change nothing), prev_hash and
//     hash = SHA-256(prev_hash ‖ canonical encoding of the record). A
//     change and its record commit in one transaction; appends are
//     serialised on the one-row audit_head table (SQLite: the database's
//     single writer, taken by the transaction's first statement;
//     PostgreSQL: SELECT … FOR UPDATE on that row, so several servers may
//     share a database). Views of a case, exhibit downloads and case
//     exports are recorded too. The canonical encoding (canon.go) does not
//     depend on the database: the same data hashes the same on SQLite and
//     PostgreSQL, and a dump moves between them.
//   - Checkpoint signs the log's head (seq, hash) with the installation's
//     Ed25519 key and time-stamps it (CheckpointDigest says what is
//     signed). Verify walks everything: the chain, every checkpoint, every
//     anchor, every live row of every audited table against the
//     object_hash of its latest record (an edited note, a row inserted or
//     deleted behind Vestigo's back), every exhibit file; its report names
//     the first bad record plainly ("audit record 9 is missing (seq jumps
//     from 8 to 10)", "note 5: stored content differs from audit record
//     23").
//   - Anchors: whoever can write the database can rewrite the whole log
//     with a recomputed chain and delete the checkpoint rows, and the
//     rewritten store verifies. A checkpoint kept outside the database (an
//     anchor: Verifier.Anchors, kept as JSON lines by AppendAnchor and
//     read by ReadAnchors) cannot be rewritten with it: Verify checks that
//     the log still has, at the anchor's seq, the hash the anchor signs
//     ("checkpoint anchor of record 17: the log's record 17 has hash …, the
//     anchor says … (the log was rewritten)"), that the anchor is signed
//     by a trusted key and that its checkpoint row is still there. The
//     report says up to which record anchors vouch (Anchored) and which
//     records none covers yet (Unchecked).
//   - Sessions are audited objects like API tokens: a session's creation
//     and its end (logout, expiry, password change, disabled user, a
//     restore) are records, Verify covers the sessions table, and every
//     authentication compares the rows it relies on (session or token, and
//     the user) with their latest audit record, refusing (and auditing) a
//     row inserted or edited behind Vestigo's back. A token's last-use
//     time is not audited. Failed authentications are audited aggregated
//     (authfail.go): at most one "login-failed" record per username or
//     token prefix a minute, counting the attempts, so that a flood of
//     bad credentials neither fills the log nor holds its writer lock.
//   - Permissions of the log: reading it (ListAudit) is for admins and
//     reviewers; exporting a case (ExportCase) needs the right to change
//     case content.
//   - Credentials: passwords are argon2id hashes (PHC strings with their
//     salt and parameters; DefaultArgon2 is OWASP's m=19 MiB, t=2, p=1).
//     Session secrets and API tokens are 32 random bytes shown once; only
//     their SHA-256 is stored.
//   - Dump writes one consistent snapshot of every table but sessions as
//     JSON lines; Load restores it into an empty store with the same ids
//     and audit chain, and appends a "delete" record (reason "not
//     restored") for every session the log says was open, so a restored
//     store starts without sessions and still verifies. LoadVerified
//     verifies the loaded store in the same transaction and loads nothing
//     if it does not verify (ErrVerification). ExportCase and ImportCase
//     move one case (for case packages); CheckImport is ImportCase's
//     validation, for an importer to run before it stores exhibit files,
//     and RemoveUnusedExhibitFile removes a file a failed import stored.
//   - Schema: numbered migrations embedded from migrations/, recorded in
//     schema_migrations and applied in one transaction by Open; a store of
//     a newer schema is refused (ErrSchemaTooNew). Dialect differences live
//     in dialect.go; times are integer microseconds UTC, JSON is text.
//
// Errors: input is validated before it reaches the database: an
// *InvalidError (matching ErrInvalid) names the field ("casestore: invalid
// title: longer than 500 bytes"). Text is kept exactly as given (valid
// UTF-8 without NUL; quotes, SQL and HTML are just text). Other errors
// match ErrNotFound, ErrForbidden, ErrUnauthorized, ErrConflict,
// ErrSchemaTooNew (Open) and ErrVerification (LoadVerified); all are
// prefixed "casestore: ".
package casestore
