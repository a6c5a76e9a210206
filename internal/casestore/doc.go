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
//     BootstrapAdmin, ListAgencies, Checkpoint, Verify, Dump, Load, and the
//     authentication calls) takes the principal first, and one policy
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
//     live row of every audited table against the object_hash of its latest
//     record (an edited note, a row inserted or deleted behind Vestigo's
//     back), every exhibit file; its report names the first bad record
//     plainly ("audit record 9 is missing (seq jumps from 8 to 10)", "note
//     5: stored content differs from audit record 23"). Sessions are not
//     audited (they are credentials with an expiry); API tokens are, except
//     their last-use time.
//   - Credentials: passwords are argon2id hashes (PHC strings with their
//     salt and parameters; DefaultArgon2 is OWASP's m=19 MiB, t=2, p=1).
//     Session secrets and API tokens are 32 random bytes shown once; only
//     their SHA-256 is stored.
//   - Dump writes one consistent snapshot of every table as JSON lines;
//     Load restores it into an empty store with the same ids and audit
//     chain. ExportCase and ImportCase move one case (for case packages).
//   - Schema: numbered migrations embedded from migrations/, recorded in
//     schema_migrations and applied in one transaction by Open; a store of
//     a newer schema is refused (ErrSchemaTooNew). Dialect differences live
//     in dialect.go; times are integer microseconds UTC, JSON is text.
//
// Errors: input is validated before it reaches the database: an
// *InvalidError (matching ErrInvalid) names the field ("casestore: invalid
// title: longer than 500 bytes"). Text is kept exactly as given (valid
// UTF-8 without NUL; quotes, SQL and HTML are just text). Other errors
// match ErrNotFound, ErrForbidden, ErrUnauthorized, ErrConflict; all are
// prefixed "casestore: ".
package casestore
