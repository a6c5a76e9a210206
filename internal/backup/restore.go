package backup

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// Limits bound what Restore reads and stages on disk. A field that is zero
// or negative takes the value of DefaultLimits. Set them to the space the
// machine has: the verified files are staged in the temporary directory
// before the store is touched.
type Limits struct {
	MaxBackup       int64 // bytes of the backup file (compressed)
	MaxUncompressed int64 // bytes of the archive after decompression (headers included)
	MaxFiles        int   // files besides the manifest
	MaxFile         int64 // bytes of one file
	MaxManifest     int64 // bytes of manifest.json
}

// DefaultLimits are 256 GiB of backup and of archive, a million files,
// 64 GiB per file and 256 MiB of manifest.
func DefaultLimits() Limits {
	return Limits{MaxBackup: 256 << 30, MaxUncompressed: 256 << 30, MaxFiles: 1_000_000, MaxFile: 64 << 30, MaxManifest: 256 << 20}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxBackup <= 0 {
		l.MaxBackup = d.MaxBackup
	}
	if l.MaxUncompressed <= 0 {
		l.MaxUncompressed = d.MaxUncompressed
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxFile <= 0 {
		l.MaxFile = d.MaxFile
	}
	if l.MaxManifest <= 0 {
		l.MaxManifest = d.MaxManifest
	}
	return l
}

// RestoreOptions configure RestoreVerified.
type RestoreOptions struct {
	Limits Limits
	// Verifier is what the restored store is verified with before the
	// restore is committed: the installation's signing keys (checkpoints),
	// its anchors (checkpoints kept outside the database) and a time-stamp
	// token verifier. The zero Verifier still checks the audit chain, every
	// row against the log and every exhibit file.
	Verifier casestore.Verifier
}

// Restore is RestoreVerified with lim and the zero Verifier: a backup whose
// store does not verify is refused.
func Restore(ctx context.Context, st *casestore.Store, r io.Reader, lim Limits) (*Manifest, error) {
	m, _, err := RestoreVerified(ctx, st, r, RestoreOptions{Limits: lim})
	return m, err
}

// RestoreVerified restores the backup read from r into st, which must be
// empty, and returns the backup's manifest and the report of the restored
// store's verification. Every file is verified and staged before the store
// is changed; the dump is loaded and verified with opt.Verifier in one
// transaction (casestore.Store.LoadVerified), committed only when the
// store verifies without a problem. Otherwise nothing is restored (the
// store stays empty, the exhibit files the restore added are removed), the
// report names the problems and the error matches ErrUntrusted. See the
// package documentation.
func RestoreVerified(ctx context.Context, st *casestore.Store, r io.Reader, opt RestoreOptions) (*Manifest, *casestore.VerifyReport, error) {
	lim := opt.Limits.withDefaults()
	if ags, err := st.ListAgencies(ctx); err != nil {
		return nil, nil, fmt.Errorf("backup: restore: %w", err)
	} else if len(ags) > 0 {
		return nil, nil, fmt.Errorf("backup: restore: %w: it has %d agencies (restore into a new store)", ErrNotEmpty, len(ags))
	}
	stage, err := os.MkdirTemp("", "vestigo-restore-*")
	if err != nil {
		return nil, nil, fmt.Errorf("backup: restore: %w", err)
	}
	defer os.RemoveAll(stage)
	m, err := readArchive(ctx, r, lim, stage)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: restore: %w", err)
	}

	// The dump and the files must agree: every exhibit of the dump has its
	// file, every file belongs to an exhibit of the dump.
	dump, err := os.Open(filepath.Join(stage, StoreFile))
	if err != nil {
		return nil, nil, fmt.Errorf("backup: restore: %w", err)
	}
	defer dump.Close()
	head, sums, err := scanDump(dump)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: restore: %w", err)
	}
	if head.SchemaVersion != m.SchemaVersion || head.Backend != m.Backend {
		return nil, nil, fmt.Errorf("backup: restore: %w: the dump is of schema %d from %s, the manifest says schema %d from %s",
			ErrCorrupt, head.SchemaVersion, head.Backend, m.SchemaVersion, m.Backend)
	}
	files := map[string]bool{}
	for _, fe := range m.Files[1:] {
		files[fe.SHA256] = true
	}
	for _, s := range sums {
		if !files[s] {
			return nil, nil, fmt.Errorf("backup: restore: %w: the dump has an exhibit of content %s, whose file is not in the backup", ErrCorrupt, s)
		}
		delete(files, s)
	}
	if len(files) > 0 {
		extra := slices.Sorted(maps.Keys(files))
		return nil, nil, fmt.Errorf("backup: restore: %w: %d files belong to no exhibit of the dump, the first %s%s",
			ErrCorrupt, len(extra), ExhibitsDir, extra[0])
	}
	empty, err := st.Empty(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("backup: restore: %w", err)
	}
	if !empty {
		return nil, nil, fmt.Errorf("backup: restore: %w: restore into a new store (--db)", ErrNotEmpty)
	}
	// The verified files go into the exhibit store first: a store whose
	// rows are loaded never lacks its files, and Verify checks them.
	var added []string
	fail := func(err error) error {
		for _, sum := range added {
			if _, rerr := st.RemoveUnusedExhibitFile(context.WithoutCancel(ctx), sum); rerr != nil {
				err = errors.Join(err, fmt.Errorf("backup: restore: clean up: %w", rerr))
			}
		}
		return err
	}
	for _, sum := range sums {
		isNew, err := putStaged(ctx, st, filepath.Join(stage, filepath.FromSlash(ExhibitsDir+sum)), sum)
		if isNew {
			added = append(added, sum)
		}
		if err != nil {
			return nil, nil, fail(fmt.Errorf("backup: restore: exhibit %s: %w", sum, err))
		}
	}
	if _, err := dump.Seek(0, io.SeekStart); err != nil {
		return nil, nil, fail(fmt.Errorf("backup: restore: %w", err))
	}
	rep, err := st.LoadVerified(ctx, bufio.NewReaderSize(dump, 1<<20), opt.Verifier)
	switch {
	case errors.Is(err, casestore.ErrVerification):
		return nil, rep, fail(fmt.Errorf("backup: restore: %w (%d problems; the first: %s); nothing was restored: %w",
			ErrUntrusted, len(rep.Problems), rep.First(), casestore.ErrVerification))
	case errors.Is(err, casestore.ErrConflict):
		return nil, nil, fail(fmt.Errorf("backup: restore: %w: %w", ErrNotEmpty, err))
	case err != nil:
		return nil, nil, fail(fmt.Errorf("backup: restore: %w", err))
	}
	return m, rep, nil
}

// putStaged stores a verified staged file in the exhibit store and checks
// that the store names it by the same SHA-256. It says whether the file is
// new to the exhibit store.
func putStaged(ctx context.Context, st *casestore.Store, path, sum string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	got, err := st.PutExhibitContent(ctx, f)
	if err != nil {
		return false, err
	}
	if got.SHA256 != sum {
		return got.New, fmt.Errorf("%w: the staged file changed (SHA-256 %s)", ErrCorrupt, got.SHA256)
	}
	return got.New, nil
}

// readArchive reads a backup, checks every entry against the manifest and
// stages the files under dir (store.jsonl, exhibits/<sha256>). It returns
// the manifest once everything is verified. Errors wrap ErrFormat,
// ErrCorrupt, ErrUnsafePath or ErrTooLarge.
func readArchive(ctx context.Context, r io.Reader, lim Limits, dir string) (*Manifest, error) {
	raw := casepack.NewBoundedReader(r, lim.MaxBackup, "the backup", ErrTooLarge)
	br := bufio.NewReader(raw) // gzip reads no further than its stream from a ByteReader
	// classify names a limit first, then what the layer above found.
	var plain *casepack.BoundedReader
	classify := func(err error) error {
		switch {
		case raw.Exceeded():
			return raw.Err()
		case plain != nil && plain.Exceeded():
			return plain.Err()
		case errors.Is(err, ErrFormat), errors.Is(err, ErrCorrupt), errors.Is(err, ErrUnsafePath), errors.Is(err, ErrTooLarge):
			return err
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return err
		default:
			return fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, classify(fmt.Errorf("%w: not gzip: %v", ErrFormat, err))
	}
	zr.Multistream(false)
	plain = casepack.NewBoundedReader(zr, lim.MaxUncompressed, "the uncompressed archive", ErrTooLarge)
	tr := tar.NewReader(plain)

	h, err := tr.Next()
	if err != nil {
		return nil, classify(fmt.Errorf("%w: not a tar archive: %v", ErrFormat, err))
	}
	if err := checkHeader(h); err != nil {
		return nil, classify(err)
	}
	if h.Name != ManifestFile {
		return nil, classify(fmt.Errorf("%w: the first entry is %q, not %s", ErrFormat, h.Name, ManifestFile))
	}
	if h.Size > lim.MaxManifest {
		return nil, classify(fmt.Errorf("%w: %s has %d bytes, the limit is %d", ErrTooLarge, ManifestFile, h.Size, lim.MaxManifest))
	}
	mj, err := io.ReadAll(io.LimitReader(tr, h.Size))
	if err != nil {
		return nil, classify(err)
	}
	m, err := parseManifest(mj, lim)
	if err != nil {
		return nil, classify(err)
	}
	if err := os.Mkdir(filepath.Join(dir, strings.TrimSuffix(ExhibitsDir, "/")), 0o700); err != nil {
		return nil, fmt.Errorf("stage: %w", err)
	}
	for _, fe := range m.Files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil, classify(fmt.Errorf("%w: the archive ends before %s (truncated?)", ErrCorrupt, fe.Path))
		} else if err != nil {
			return nil, classify(fmt.Errorf("%w: reading the archive: %v", ErrCorrupt, err))
		}
		if err := checkHeader(h); err != nil {
			return nil, classify(err)
		}
		switch {
		case h.Name != fe.Path:
			return nil, classify(fmt.Errorf("%w: entry %q where the manifest lists %q", ErrCorrupt, h.Name, fe.Path))
		case h.Size != fe.Size:
			return nil, classify(fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrCorrupt, fe.Path, h.Size, fe.Size))
		}
		if err := stageFile(tr, filepath.Join(dir, filepath.FromSlash(fe.Path)), fe); err != nil {
			return nil, classify(err)
		}
	}
	if h, err := tr.Next(); err == nil {
		if err := checkHeader(h); err != nil {
			return nil, classify(err)
		}
		return nil, classify(fmt.Errorf("%w: entry %q is not in the manifest", ErrCorrupt, h.Name))
	} else if err != io.EOF {
		return nil, classify(fmt.Errorf("%w: reading the archive: %v", ErrCorrupt, err))
	}
	// After the end of the archive only zero padding, then the end of the
	// gzip stream, then the end of the file.
	rest, err := io.ReadAll(plain)
	if err != nil {
		return nil, classify(fmt.Errorf("%w: after the archive: %v", ErrCorrupt, err))
	}
	if len(bytes.Trim(rest, "\x00")) != 0 {
		return nil, classify(fmt.Errorf("%w: data after the end of the archive", ErrCorrupt))
	}
	if n, err := io.Copy(io.Discard, br); n > 0 || err != nil {
		return nil, classify(fmt.Errorf("%w: %d bytes after the end of the compressed stream (%v)", ErrCorrupt, n, err))
	}
	return m, nil
}

// stageFile copies one entry to path, checking its hash.
func stageFile(r io.Reader, path string, fe FileEntry) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("stage %s: %w", fe.Path, err)
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%w: reading %s: %v", ErrCorrupt, fe.Path, err)
	}
	if n != fe.Size {
		return fmt.Errorf("%w: %s has %d bytes, the manifest says %d", ErrCorrupt, fe.Path, n, fe.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != fe.SHA256 {
		return fmt.Errorf("%w: %s has SHA-256 %s, the manifest says %s", ErrCorrupt, fe.Path, got, fe.SHA256)
	}
	return nil
}

// checkHeader refuses anything but a regular file with a safe name.
func checkHeader(h *tar.Header) error {
	if err := casepack.RegularFile(h); err != nil {
		return err
	}
	if h.Size < 0 {
		return fmt.Errorf("%w: %q has a negative size", ErrCorrupt, h.Name)
	}
	name := h.Name
	switch {
	case name == "", strings.HasPrefix(name, "/"), strings.ContainsAny(name, "\\\x00"),
		len(name) >= 2 && name[1] == ':':
		return fmt.Errorf("%w: %q is not a relative path", ErrUnsafePath, name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == "" || part == "." || part == ".." {
			return fmt.Errorf("%w: %q is not a clean relative path", ErrUnsafePath, name)
		}
	}
	return nil
}

// parseManifest decodes manifest.json strictly and checks it against the
// format, this build's schema and the limits.
func parseManifest(data []byte, lim Limits) (*Manifest, error) {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, ManifestFile, err)
	}
	if head.Format != Format {
		return nil, fmt.Errorf("%w: format %q, this version reads %q", ErrFormat, head.Format, Format)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrFormat, ManifestFile, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: %s: data after the manifest", ErrFormat, ManifestFile)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrFormat, ManifestFile, fmt.Sprintf(format, a...))
	}
	switch {
	case m.Created.IsZero():
		return nil, bad("no creation time")
	case !oneLine(m.VestigoVersion, maxVersion):
		return nil, bad("vestigo_version %q", m.VestigoVersion)
	case m.Backend != "sqlite" && m.Backend != "postgresql":
		return nil, bad("backend %q is neither sqlite nor postgresql", m.Backend)
	case m.SchemaVersion != casestore.SchemaVersion():
		return nil, fmt.Errorf("%w: a backup of case store schema %d; this build has schema %d (restore with the Vestigo version %s that wrote it)",
			ErrFormat, m.SchemaVersion, casestore.SchemaVersion(), m.VestigoVersion)
	}
	if tips, err := checkTips(m.IndexTips); err != nil {
		return nil, bad("%v", err)
	} else if len(tips) != len(m.IndexTips) || m.IndexTips == nil {
		return nil, bad("index_tips missing")
	}
	if len(m.Files)-1 > lim.MaxFiles {
		return nil, fmt.Errorf("%w: the manifest lists %d files, the limit is %d", ErrTooLarge, len(m.Files)-1, lim.MaxFiles)
	}
	if len(m.Files) == 0 || m.Files[0].Path != StoreFile {
		return nil, bad("the first file is not %s", StoreFile)
	}
	if m.Exhibits != len(m.Files)-1 {
		return nil, bad("%d exhibits, %d exhibit files", m.Exhibits, len(m.Files)-1)
	}
	var total int64
	for i, fe := range m.Files {
		if !isSHA256(fe.SHA256) {
			return nil, bad("%q: sha256 %q is not lower-case hex of 32 bytes", fe.Path, fe.SHA256)
		}
		if i > 0 {
			sum, ok := strings.CutPrefix(fe.Path, ExhibitsDir)
			if !ok || sum != fe.SHA256 {
				return nil, bad("file %d is %q, not %s<its sha256>", i, fe.Path, ExhibitsDir)
			}
			if i > 1 && fe.Path <= m.Files[i-1].Path {
				return nil, bad("exhibit files not in order: %q after %q", fe.Path, m.Files[i-1].Path)
			}
		}
		if fe.Size < 0 {
			return nil, bad("%q has a negative size", fe.Path)
		}
		if fe.Size > lim.MaxFile {
			return nil, fmt.Errorf("%w: %s has %d bytes, the limit is %d", ErrTooLarge, fe.Path, fe.Size, lim.MaxFile)
		}
		if total += fe.Size; total > lim.MaxUncompressed {
			return nil, fmt.Errorf("%w: the files have over %d bytes, the limit", ErrTooLarge, lim.MaxUncompressed)
		}
	}
	return &m, nil
}
