// Package backup writes and restores backups of an installation's case
// store (package casestore) with its exhibit files: `vestigo backup -o
// FILE` and `vestigo restore FILE`.
//
// Format ("vestigo-backup/1"): a gzip stream (no name, zero mtime) of a tar
// archive holding, in this order:
//
//   - manifest.json: the Manifest: format, creation time, the Vestigo
//     version that wrote it, the database backend it was taken from
//     (sqlite or postgresql), the case store's schema version, the tips of
//     the chain indexes the case store refers to (IndexTips: ledger, height,
//     block hash, as the caller gives them), the number of exhibit files,
//     and every other file of the archive in archive order with its size and
//     SHA-256.
//   - store.jsonl: casestore.Store.Dump, one consistent snapshot of every
//     table as JSON lines (agencies, users with their password hashes, API
//     token hashes, cases and their content, checkpoints, the whole audit
//     log). Sessions are not in it: a restored store starts with none (the
//     restore appends a "delete" record for each session the log says was
//     open, so the log stays whole and verifies).
//   - exhibits/<sha256>: the content of every exhibit the snapshot refers
//     to, once per content, named by the lower-case hex SHA-256 of the
//     content, in name order.
//
// Tar entries are regular files, mode 0600, owner 0, with the manifest's
// creation time.
//
// Not in a backup: the installation's keys (the case-package keys of
// package casepack and the ed25519 key that signs audit checkpoints; keep
// them, and their passphrases, apart), the chain indexes, cluster stores
// and tag store (rebuilt from the chain and the tag sources; the manifest
// records the index tips the cases were worked against), configuration
// files, and exhibit files no exhibit refers to.
//
// Write takes the dump first, then copies the files of the exhibits in that
// dump; an exhibit file that is missing or whose content is not its name
// fails the backup (never a silent partial backup). The caller removes the
// incomplete output. The dump is staged in a temporary file (mode 0600, in
// os.TempDir, removed afterwards): it holds password hashes.
//
// Restore works only into an empty store (no agency, no audit record). It
// checks everything before it changes the store: the manifest, every entry
// against it (name, order, size, SHA-256; nothing more and nothing less),
// entry types and names (regular files only: no links, directories,
// devices, absolute or ".." paths), Limits, and that the dump refers to
// exactly the exhibit files present. The verified files are staged in a
// temporary directory; then each exhibit file is written into the store's
// exhibit directory, at the path the store gives for it, through a
// temporary file, fsync and rename, and the dump is loaded and verified in
// one transaction (casestore.Store.LoadVerified): the audit chain, every
// row against the log, every exhibit file, and with
// RestoreOptions.Verifier the checkpoints' keys, the anchors (checkpoints
// kept outside the database) and the time-stamp tokens. Only a store that
// verifies without a problem is committed; otherwise nothing is restored,
// the exhibit files the restore added are removed again, and
// RestoreVerified returns the report with an error matching ErrUntrusted.
// Restore is RestoreVerified with the zero Verifier.
//
// The manifest's hashes detect damage, not forgery: whoever can rewrite a
// backup can rewrite its manifest. What protects the content is the
// store's audit chain, the signed checkpoints and above all the anchors,
// which the restore verifies against the installation's key: a backup
// rewritten with a recomputed chain fails at the first anchor it
// contradicts. A backup older than an anchor fails too (its log lacks the
// records the anchor vouches for); restore it with the anchors up to its
// time if that is what is meant.
//
// Errors (test with errors.Is): ErrFormat (not a backup, an unknown format
// or schema version, a malformed manifest), ErrCorrupt (a file differs from
// the manifest, is missing or is extra, the dump and the files disagree; in
// Write, an exhibit file missing or not matching its name), ErrUnsafePath
// (a link, a directory or another non-regular entry, an unsafe name),
// ErrTooLarge (a limit passed), ErrNotEmpty (the store to restore into has
// data), ErrUntrusted (the restored store does not verify; also matches
// casestore.ErrVerification). Bad arguments match casestore.ErrInvalid.
// All are prefixed "backup: ".
package backup
