// Package casepack is the format of an inter-agency case package and the
// keys of an installation that sends and receives them. It reads and writes
// packages; the code that fills a package from the case store, and that
// stores an imported one, lives elsewhere.
//
// Concepts:
//
//   - Keys are an installation's identity: an ed25519 key that signs the
//     packages it sends and an age X25519 identity that decrypts the packages
//     sent to it. GenerateKeys makes them from a random source; SaveKeys and
//     LoadKeys keep them in a file that is always encrypted with a passphrase
//     (age's scrypt recipient, ASCII-armoured), written atomically with mode
//     0600 and never overwritten.
//   - An Identity is the public half a partner agency is given: the agency's
//     name, the ed25519 signing key, its key id (KeyID: hex of the first 8
//     bytes of SHA-256 of the key) and the age recipient ("age1…") that
//     `vestigo case export --to` takes. FormatIdentity and ParseIdentity
//     read and write it as "vestigo-identity v1" text. A recipient keeps the
//     identities of the senders it trusts.
//   - A package is an age file encrypted to the recipient. Inside is a gzip
//     stream (no name, zero mtime) of a tar archive with, in this order,
//     manifest.json, manifest.sig (the 64-byte ed25519 signature over the
//     exact bytes of manifest.json) and files/<path> for every Entry, sorted
//     by path. Tar headers are deterministic (mtime = Manifest.Created to the
//     second, uid/gid 0, no user or group names, mode 0644, USTAR unless a
//     name needs PAX), so WritePlain writes the same bytes for the same input
//     (with the same Go version: compress/flate decides the compressed bytes).
//     Write adds the age layer, whose keys are random on every call.
//   - The Manifest (format "vestigo-case-package/1") names the case, the
//     origin agency, the sender's key and key id, the intended recipient, the
//     creation time, the Vestigo version, the redacted fields and every entry
//     with its size and SHA-256. It is JSON in one canonical form (what Write
//     produces); a reader accepts no other spelling of it, so the signed bytes
//     have one meaning.
//   - Read decrypts, checks and unpacks a package in memory (it never writes
//     to disk) and returns a Package: the manifest, its exact bytes and
//     signature, the sender's key, the entries and the SHA-256 of the whole
//     package file (Digest) for the provenance record. Everything is checked
//     while streaming, under Limits (bytes of the package, bytes after
//     decompression, number of entries, size of one entry); reading stops as
//     soon as a limit is passed, so a decompression bomb costs no more than
//     the limit. A manifest addressed to another recipient than the identity
//     that opened it is refused (a package cannot be forwarded as if it had
//     been sent to the forwarder).
//   - Read proves that the package is intact and was signed by the key in its
//     manifest; whether that key belongs to a trusted partner is the caller's
//     decision: Package.VerifySender and Package.Sender compare it with the
//     keys the installation knows.
//
// Errors (test with errors.Is; each is wrapped with what was found):
//
//   - ErrNotForYou: none of the identities opens the package, or the manifest
//     is addressed to another recipient.
//   - ErrSignature: the signature is missing or does not verify against the
//     manifest's sender key.
//   - ErrTampered: an entry's size or hash differs from the manifest, an entry
//     is missing, out of order or not in the manifest, the manifest is not the
//     first entry, or the age payload does not authenticate (truncated or
//     modified ciphertext).
//   - ErrUnsafePath: an absolute path, "..", a backslash, NUL or a control
//     character, anything but a regular file (symlinks, hard links, devices,
//     directories, sparse files), a name outside files/, a duplicate name or
//     names that differ only by case, a file that is also a directory.
//   - ErrTooLarge: any limit passed.
//   - ErrFormat: not an age file, not gzip, not tar, not a case package, an
//     unknown format version, a malformed or non-canonical manifest.
//   - ErrUnknownSender: VerifySender and Sender found no known key.
//   - ErrPassphrase: LoadKeys was given the wrong passphrase.
package casepack
