package casepack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"filippo.io/age"
)

// Limits bound what Read accepts. A field that is zero or negative takes the
// value of DefaultLimits. Read holds the entries in memory, so MaxUncompressed
// also bounds the memory it uses.
type Limits struct {
	MaxPackage      int64 // bytes read from the package file
	MaxUncompressed int64 // bytes of the archive after decompression (headers included)
	MaxEntries      int   // files under files/
	MaxEntry        int64 // bytes of one file (and of manifest.json)
}

// DefaultLimits are 1 GiB of package, 4 GiB uncompressed, 100,000 entries and
// 1 GiB per entry.
func DefaultLimits() Limits {
	return Limits{MaxPackage: 1 << 30, MaxUncompressed: 4 << 30, MaxEntries: 100_000, MaxEntry: 1 << 30}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxPackage <= 0 {
		l.MaxPackage = d.MaxPackage
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = d.MaxUncompressed
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = d.MaxEntries
	}
	if l.MaxEntry <= 0 {
		l.MaxEntry = d.MaxEntry
	}
	return l
}

// Package is a package Read accepted: intact, signed by SenderKey and
// addressed to the reader. Whether SenderKey is trusted is for the caller to
// decide (VerifySender, Sender).
type Package struct {
	Manifest     Manifest
	ManifestJSON []byte            // the exact signed bytes of manifest.json
	Signature    []byte            // manifest.sig: ed25519 over ManifestJSON
	SenderKey    ed25519.PublicKey // the key that signed the manifest
	Entries      []Entry           // in manifest order (sorted by path)
	Digest       string            // hex SHA-256 of the whole package file as read
}

// VerifySender returns nil when the package's sender key is one of known,
// and an error wrapping ErrUnknownSender otherwise.
func (p *Package) VerifySender(known []ed25519.PublicKey) error {
	for _, k := range known {
		if bytes.Equal(k, p.SenderKey) {
			return nil
		}
	}
	return fmt.Errorf("casepack: %w: key %s (id %s, claiming agency %q) is not among the %d known senders",
		ErrUnknownSender, base64.StdEncoding.EncodeToString(p.SenderKey), KeyID(p.SenderKey), p.Manifest.OriginAgency, len(known))
}

// Sender returns the known identity whose signing key signed the package,
// or an error wrapping ErrUnknownSender. The manifest's OriginAgency is what
// the sender says of itself; the identity's Agency is what the reader
// recorded when it was given the identity.
func (p *Package) Sender(known []Identity) (Identity, error) {
	for _, id := range known {
		if bytes.Equal(id.SigningKey, p.SenderKey) {
			return id, nil
		}
	}
	keys := make([]ed25519.PublicKey, len(known))
	for i, id := range known {
		keys[i] = id.SigningKey
	}
	return Identity{}, p.VerifySender(keys)
}

// BoundedReader passes at most max bytes of its reader and fails, with an
// error wrapping its tooLarge sentinel, once the reader has more: the
// guard of every archive reader (packages here, backups in package backup).
type BoundedReader struct {
	r        io.Reader
	n, max   int64
	exceeded bool
	what     string
	tooLarge error
}

// NewBoundedReader bounds r to max bytes; what names it in the error, which
// wraps tooLarge (ErrTooLarge when nil).
func NewBoundedReader(r io.Reader, max int64, what string, tooLarge error) *BoundedReader {
	if tooLarge == nil {
		tooLarge = ErrTooLarge
	}
	return &BoundedReader{r: r, max: max, what: what, tooLarge: tooLarge}
}

// Exceeded says whether the reader went past its bound.
func (c *BoundedReader) Exceeded() bool { return c.exceeded }

// Err is the error of a reader past its bound.
func (c *BoundedReader) Err() error { return c.err() }

func (c *BoundedReader) Read(p []byte) (int, error) {
	if c.exceeded {
		return 0, c.err()
	}
	if room := c.max - c.n + 1; int64(len(p)) > room {
		p = p[:room]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.n > c.max {
		c.exceeded = true
		return n - int(c.n-c.max), c.err()
	}
	return n, err
}

func (c *BoundedReader) err() error {
	return fmt.Errorf("%w: %s is over %d bytes", c.tooLarge, c.what, c.max)
}

// errRecorder remembers the first error other than io.EOF of its reader.
type errRecorder struct {
	r   io.Reader
	err error
}

func (e *errRecorder) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF && e.err == nil {
		e.err = err
	}
	return n, err
}

// Read reads a package encrypted to one of ids, checks it and returns it.
// It stops at the first thing wrong, as soon as it is seen, and never reads
// past a limit; the errors are described in the package documentation.
// Read writes nothing to disk.
func Read(r io.Reader, ids []age.Identity, lim Limits) (*Package, error) {
	lim = lim.withDefaults()
	if len(ids) == 0 {
		return nil, fmt.Errorf("casepack: %w: no identity to decrypt with", ErrNotForYou)
	}
	digest := sha256.New()
	raw := NewBoundedReader(io.TeeReader(r, digest), lim.MaxPackage, "the package", nil)
	var payload *errRecorder
	var plain *BoundedReader
	// classify names the layer at fault: a limit first, then the age
	// payload (truncated or modified ciphertext), then what the layer
	// above found.
	classify := func(err error) error {
		switch {
		case raw.exceeded:
			return fmt.Errorf("casepack: %w", raw.err())
		case plain != nil && plain.exceeded:
			return fmt.Errorf("casepack: %w", plain.err())
		case payload != nil && payload.err != nil:
			return fmt.Errorf("casepack: %w: the encrypted payload does not authenticate (truncated or modified): %v", ErrTampered, payload.err)
		case errors.Is(err, ErrNotForYou), errors.Is(err, ErrSignature), errors.Is(err, ErrTampered),
			errors.Is(err, ErrUnsafePath), errors.Is(err, ErrTooLarge), errors.Is(err, ErrFormat):
			return fmt.Errorf("casepack: %w", err)
		default:
			return fmt.Errorf("casepack: %w: %v", ErrFormat, err)
		}
	}

	dec, err := age.Decrypt(raw, ids...)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if !raw.exceeded && errors.As(err, &nomatch) {
			return nil, fmt.Errorf("casepack: %w: %v", ErrNotForYou, err)
		}
		return nil, classify(fmt.Errorf("not an age file: %w", err))
	}
	payload = &errRecorder{r: dec}
	zr, err := gzip.NewReader(payload)
	if err != nil {
		return nil, classify(fmt.Errorf("not gzip: %w", err))
	}
	plain = NewBoundedReader(zr, lim.MaxUncompressed, "the uncompressed archive", nil)
	p, err := readArchive(plain, ids, lim)
	if err != nil {
		return nil, classify(err)
	}
	// The archive must be all there is: the tar end marker ends the gzip
	// stream, which ends the age payload, which ends the file.
	var one [1]byte
	if n, err := io.ReadFull(plain, one[:]); n > 0 || err != io.EOF {
		return nil, classify(fmt.Errorf("%w: data after the end of the archive (%v)", ErrFormat, err))
	}
	if n, err := io.Copy(io.Discard, raw); n > 0 || err != nil {
		return nil, classify(fmt.Errorf("%w: data after the end of the encrypted file (%v)", ErrFormat, err))
	}
	p.Digest = hex.EncodeToString(digest.Sum(nil))
	return p, nil
}

// readArchive reads the tar archive and checks every entry against the
// signed manifest as it comes.
func readArchive(r io.Reader, ids []age.Identity, lim Limits) (*Package, error) {
	tr := tar.NewReader(r)
	names := newPathSet() // every name in the archive, for duplicates
	var (
		p      Package
		m      *Manifest
		count  int
		total  int64
		byPath map[string]int
	)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: reading the archive: %v", ErrFormat, err)
		}
		count++
		if count > lim.MaxEntries+2 {
			return nil, fmt.Errorf("%w: over %d entries", ErrTooLarge, lim.MaxEntries)
		}
		if err := checkHeader(h); err != nil {
			return nil, err
		}
		if err := names.add(h.Name); err != nil {
			return nil, err
		}
		if h.Size > lim.MaxEntry {
			return nil, fmt.Errorf("%w: %q has %d bytes, the limit is %d", ErrTooLarge, h.Name, h.Size, lim.MaxEntry)
		}
		if total += h.Size; total > lim.MaxUncompressed {
			return nil, fmt.Errorf("%w: the entries up to %q have %d bytes, the limit is %d", ErrTooLarge, h.Name, total, lim.MaxUncompressed)
		}
		switch count {
		case 1:
			if h.Name != manifestName {
				return nil, fmt.Errorf("%w: the first entry is %q, not %s", ErrTampered, h.Name, manifestName)
			}
			if p.ManifestJSON, err = readEntry(tr, h.Size); err != nil {
				return nil, err
			}
			if m, err = parseManifest(p.ManifestJSON); err != nil {
				return nil, err
			}
		case 2:
			if h.Name != sigName {
				return nil, fmt.Errorf("%w: the second entry is %q, not %s", ErrSignature, h.Name, sigName)
			}
			if h.Size != ed25519.SignatureSize {
				return nil, fmt.Errorf("%w: %s has %d bytes, want %d", ErrSignature, sigName, h.Size, ed25519.SignatureSize)
			}
			if p.Signature, err = readEntry(tr, h.Size); err != nil {
				return nil, err
			}
			if p.SenderKey, err = verifyManifest(m, p.ManifestJSON, p.Signature, ids, lim); err != nil {
				return nil, err
			}
			p.Manifest = *m
			byPath = make(map[string]int, len(m.Entries))
			for i, e := range m.Entries {
				byPath[e.Path] = i
			}
			p.Entries = make([]Entry, 0, len(m.Entries))
		default:
			path := strings.TrimPrefix(h.Name, filesDir) // checkHeader: only files/ is left
			i := len(p.Entries)
			j, listed := byPath[path]
			switch {
			case !listed:
				return nil, fmt.Errorf("%w: %q is not in the manifest", ErrTampered, h.Name)
			case j != i:
				return nil, fmt.Errorf("%w: %q is entry %d of the manifest but comes as entry %d", ErrTampered, h.Name, j+1, i+1)
			case h.Size != m.Entries[i].Size:
				return nil, fmt.Errorf("%w: %q has %d bytes, the manifest says %d", ErrTampered, h.Name, h.Size, m.Entries[i].Size)
			}
			data, err := readEntry(tr, h.Size)
			if err != nil {
				return nil, err
			}
			sum := sha256.Sum256(data)
			if got := hex.EncodeToString(sum[:]); got != m.Entries[i].SHA256 {
				return nil, fmt.Errorf("%w: %q has SHA-256 %s, the manifest says %s", ErrTampered, h.Name, got, m.Entries[i].SHA256)
			}
			p.Entries = append(p.Entries, Entry{Path: path, Data: data})
		}
	}
	switch {
	case count == 0:
		return nil, fmt.Errorf("%w: the archive is empty", ErrFormat)
	case count == 1:
		return nil, fmt.Errorf("%w: %s is missing", ErrSignature, sigName)
	case len(p.Entries) < len(m.Entries):
		return nil, fmt.Errorf("%w: %d of the manifest's %d files are missing, the first %q",
			ErrTampered, len(m.Entries)-len(p.Entries), len(m.Entries), m.Entries[len(p.Entries)].Path)
	}
	return &p, nil
}

// typeNames names the tar entry types that are refused.
var typeNames = map[byte]string{
	tar.TypeLink: "hard link", tar.TypeSymlink: "symbolic link", tar.TypeChar: "character device",
	tar.TypeBlock: "block device", tar.TypeDir: "directory", tar.TypeFifo: "FIFO", tar.TypeCont: "contiguous file",
	tar.TypeXGlobalHeader: "global PAX header", tar.TypeGNUSparse: "sparse file",
}

// RegularFile refuses a tar entry that is not a plain regular file: a
// link, a device, a directory, a FIFO, a sparse file. The error wraps
// ErrUnsafePath and names the entry and what it is. Case packages and
// backups both read only regular files.
func RegularFile(h *tar.Header) error {
	if h.Typeflag != tar.TypeReg {
		what, ok := typeNames[h.Typeflag]
		if !ok {
			what = fmt.Sprintf("entry of type %q", h.Typeflag)
		}
		return fmt.Errorf("%w: %q is a %s, not a regular file", ErrUnsafePath, h.Name, what)
	}
	if h.Linkname != "" {
		return fmt.Errorf("%w: %q links to %q", ErrUnsafePath, h.Name, h.Linkname)
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Errorf("%w: %q is a sparse file, not a regular file", ErrUnsafePath, h.Name)
		}
	}
	return nil
}

// checkHeader refuses anything but a regular file named manifest.json,
// manifest.sig or files/<safe path>.
func checkHeader(h *tar.Header) error {
	if err := RegularFile(h); err != nil {
		return err
	}
	if h.Size < 0 {
		return fmt.Errorf("%w: %q has a negative size", ErrFormat, h.Name)
	}
	if h.Name == manifestName || h.Name == sigName {
		return nil
	}
	if err := checkPath(h.Name); err != nil {
		return err
	}
	if !strings.HasPrefix(h.Name, filesDir) {
		return fmt.Errorf("%w: %q is outside %s", ErrUnsafePath, h.Name, filesDir)
	}
	return nil
}

// readEntry reads the size bytes of an entry, growing its buffer as the data
// arrives (a header that lies about its size costs no memory in advance).
func readEntry(r io.Reader, size int64) ([]byte, error) {
	buf := make([]byte, 0, min(size, 1<<20))
	for int64(len(buf)) < size {
		if len(buf) == cap(buf) {
			nb := make([]byte, len(buf), min(size, 2*int64(cap(buf))))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF && int64(len(buf)) < size {
			err = io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("%w: reading the archive: %w", ErrFormat, err)
		}
	}
	return buf, nil
}

// verifyManifest checks the signature over the manifest's bytes, then that
// the manifest is in canonical form, addressed to one of ids, with safe
// paths, within the limits. It returns the sender's key.
func verifyManifest(m *Manifest, data, sig []byte, ids []age.Identity, lim Limits) (ed25519.PublicKey, error) {
	pub, err := m.senderKey()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSignature, err)
	}
	if !ed25519.Verify(pub, data, sig) {
		return nil, fmt.Errorf("%w: %s does not verify with the sender key %s (id %s)", ErrSignature, sigName, m.SenderKey, m.SenderKeyID)
	}
	if canon, err := marshalManifest(m); err != nil || !bytes.Equal(canon, data) {
		return nil, fmt.Errorf("%w: manifest.json is not in the canonical form", ErrFormat)
	}
	if err := m.checkHeader(); err != nil {
		return nil, fmt.Errorf("%w: manifest: %v", ErrFormat, err)
	}
	var mine []string
	for _, id := range ids {
		if x, ok := id.(*age.X25519Identity); ok {
			mine = append(mine, x.Recipient().String())
		}
	}
	if len(mine) > 0 && !slices.Contains(mine, m.Recipient) {
		return nil, fmt.Errorf("%w: the manifest is addressed to %s (forwarded by someone it was sent to?)", ErrNotForYou, m.Recipient)
	}
	if len(m.Entries) > lim.MaxEntries {
		return nil, fmt.Errorf("%w: the manifest lists %d files, the limit is %d", ErrTooLarge, len(m.Entries), lim.MaxEntries)
	}
	set := newPathSet()
	var total int64
	for i, e := range m.Entries {
		if err := checkPath(e.Path); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if err := set.add(e.Path); err != nil {
			return nil, fmt.Errorf("manifest: %w", err)
		}
		if i > 0 && e.Path <= m.Entries[i-1].Path {
			return nil, fmt.Errorf("%w: manifest entries are not sorted: %q after %q", ErrFormat, e.Path, m.Entries[i-1].Path)
		}
		if len(e.SHA256) != 2*sha256.Size || strings.ToLower(e.SHA256) != e.SHA256 {
			return nil, fmt.Errorf("%w: manifest: %q: sha256 %q is not lower-case hex of 32 bytes", ErrFormat, e.Path, e.SHA256)
		}
		if _, err := hex.DecodeString(e.SHA256); err != nil {
			return nil, fmt.Errorf("%w: manifest: %q: sha256 %q is not lower-case hex of 32 bytes", ErrFormat, e.Path, e.SHA256)
		}
		switch {
		case e.Size < 0:
			return nil, fmt.Errorf("%w: manifest: %q has a negative size", ErrFormat, e.Path)
		case e.Size > lim.MaxEntry:
			return nil, fmt.Errorf("%w: the manifest says %q has %d bytes, the limit is %d", ErrTooLarge, e.Path, e.Size, lim.MaxEntry)
		}
		if total += e.Size; total > lim.MaxUncompressed {
			return nil, fmt.Errorf("%w: the manifest's files have over %d bytes, the limit", ErrTooLarge, lim.MaxUncompressed)
		}
	}
	return pub, nil
}
