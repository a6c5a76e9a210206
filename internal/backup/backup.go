package backup

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Format is the format of the backups this version writes and reads.
const Format = "vestigo-backup/1"

// Names inside the archive.
const (
	ManifestFile = "manifest.json"
	StoreFile    = "store.jsonl"
	ExhibitsDir  = "exhibits/"
)

// Errors (see the package documentation).
var (
	ErrFormat  = errors.New("not a Vestigo backup")
	ErrCorrupt = errors.New("backup is damaged")
	// ErrUnsafePath is the case packages' own: both read tar archives
	// with the same rules for entries (casepack.RegularFile).
	ErrUnsafePath = casepack.ErrUnsafePath
	ErrTooLarge   = errors.New("backup too large")
	ErrNotEmpty   = errors.New("the store is not empty")
	ErrUntrusted  = errors.New("the restored store does not verify")
)

// Manifest describes a backup.
type Manifest struct {
	Format         string      `json:"format"` // Format
	Created        time.Time   `json:"created"`
	VestigoVersion string      `json:"vestigo_version"`
	Backend        string      `json:"backend"` // sqlite or postgresql: where the dump was taken
	SchemaVersion  int         `json:"schema_version"`
	IndexTips      []Tip       `json:"index_tips"` // sorted by ledger
	Exhibits       int         `json:"exhibits"`   // exhibit files (one per content)
	Files          []FileEntry `json:"files"`      // store.jsonl, then exhibits/<sha256> by name
}

// Tip is the tip of a chain index the case store refers to.
type Tip struct {
	Ledger string `json:"ledger"` // e.g. "btc-mainnet"
	Height int64  `json:"height"`
	Hash   string `json:"hash"` // the tip block's hash, hex
}

// FileEntry is one file of the archive.
type FileEntry struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // lower-case hex
}

const (
	maxVersion = 64
	maxHash    = 128
)

func invalidf(format string, a ...any) error {
	return fmt.Errorf("backup: %s: %w", fmt.Sprintf(format, a...), casestore.ErrInvalid)
}

// oneLine tells whether s is 1 to max bytes of UTF-8 without control
// characters.
func oneLine(s string, max int) bool {
	if s == "" || len(s) > max || !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, unicode.IsControl)
}

func isSHA256(s string) bool {
	return len(s) == 64 && strings.Trim(s, "0123456789abcdef") == ""
}

// checkTips validates tips and returns them sorted by ledger.
func checkTips(tips []Tip) ([]Tip, error) {
	out := slices.Clone(tips)
	if out == nil {
		out = []Tip{}
	}
	slices.SortFunc(out, func(a, b Tip) int { return strings.Compare(a.Ledger, b.Ledger) })
	for i, t := range out {
		if _, err := chain.ParseLedger(t.Ledger); err != nil {
			return nil, fmt.Errorf("index tip %d: %v", i, err)
		}
		if i > 0 && out[i-1].Ledger == t.Ledger {
			return nil, fmt.Errorf("index tip of %s given twice", t.Ledger)
		}
		if t.Height < 0 {
			return nil, fmt.Errorf("index tip of %s: negative height %d", t.Ledger, t.Height)
		}
		if len(t.Hash) == 0 || len(t.Hash) > maxHash || len(t.Hash)%2 != 0 || strings.Trim(t.Hash, "0123456789abcdef") != "" {
			return nil, fmt.Errorf("index tip of %s: hash %q is not lower-case hex", t.Ledger, t.Hash)
		}
	}
	return out, nil
}

// Write writes a backup of st to w: the dump, then the files of the
// exhibits in it, and returns its manifest. tips are the chain index tips
// the store refers to; version is this Vestigo's; now is the backup's time.
// On error w holds an incomplete backup, which the caller discards.
func Write(ctx context.Context, st *casestore.Store, tips []Tip, version string, now time.Time, w io.Writer) (*Manifest, error) {
	tips, err := checkTips(tips)
	if err != nil {
		return nil, invalidf("%v", err)
	}
	if !oneLine(version, maxVersion) {
		return nil, invalidf("version %q: 1 to %d bytes on one line", version, maxVersion)
	}
	if now.IsZero() {
		return nil, invalidf("the time of the backup is not set")
	}
	now = now.UTC()

	dump, err := os.CreateTemp("", "vestigo-backup-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	defer func() {
		dump.Close()
		os.Remove(dump.Name())
	}()
	h := sha256.New()
	cw := &countWriter{}
	bw := bufio.NewWriterSize(io.MultiWriter(dump, h, cw), 1<<20)
	if err := st.Dump(ctx, bw); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return nil, fmt.Errorf("backup: write the dump: %w", err)
	}
	if _, err := dump.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	head, sums, err := scanDump(dump)
	if err != nil {
		return nil, fmt.Errorf("backup: the store's own dump: %w", err)
	}
	m := &Manifest{Format: Format, Created: now, VestigoVersion: version, Backend: st.Backend(),
		SchemaVersion: head.SchemaVersion, IndexTips: tips, Exhibits: len(sums),
		Files: []FileEntry{{Path: StoreFile, Size: cw.n, SHA256: hex.EncodeToString(h.Sum(nil))}}}

	// The files of the exhibits in the dump, where the store keeps them.
	paths := map[string]string{}
	if len(sums) > 0 {
		files, err := st.ExhibitFiles(ctx)
		if err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		for _, f := range files {
			paths[f.SHA256] = f.Path
		}
	}
	for _, sum := range sums {
		path, ok := paths[sum]
		if !ok {
			return nil, fmt.Errorf("backup: exhibit file %s: its exhibit was deleted while the backup ran; run it again: %w", sum, ErrCorrupt)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("backup: exhibit file %s is missing (%v): %w", sum, err, ErrCorrupt)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("backup: exhibit file %s (%s) is not a regular file: %w", sum, path, ErrCorrupt)
		}
		m.Files = append(m.Files, FileEntry{Path: ExhibitsDir + sum, Size: fi.Size(), SHA256: sum})
	}

	zw, err := gzip.NewWriterLevel(w, gzip.DefaultCompression)
	if err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	tw := tar.NewWriter(zw)
	mj, err := marshalManifest(m)
	if err != nil {
		return nil, err
	}
	put := func(name string, size int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Size: size, Mode: 0o600,
			ModTime: now.Truncate(time.Second)})
	}
	if err := put(ManifestFile, int64(len(mj))); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if _, err := tw.Write(mj); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if _, err := dump.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	for i, fe := range m.Files {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		if err := put(fe.Path, fe.Size); err != nil {
			return nil, fmt.Errorf("backup: %w", err)
		}
		if i == 0 {
			err = copyChecked(tw, dump, fe, StoreFile+" (the dump just taken)")
		} else {
			err = copyExhibit(tw, paths[fe.SHA256], fe)
		}
		if err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("backup: %w", err)
	}
	return m, nil
}

func copyExhibit(w io.Writer, path string, fe FileEntry) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup: exhibit file %s is missing (%v): %w", fe.SHA256, err, ErrCorrupt)
	}
	defer f.Close()
	return copyChecked(w, f, fe, "exhibit file "+fe.SHA256)
}

// copyChecked copies exactly fe.Size bytes of r to w and fails unless r
// had exactly those bytes and they hash to fe.SHA256.
func copyChecked(w io.Writer, r io.Reader, fe FileEntry, what string) error {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), io.LimitReader(r, fe.Size))
	if err != nil {
		return fmt.Errorf("backup: copy %s: %w", what, err)
	}
	var one [1]byte
	if m, _ := io.ReadFull(r, one[:]); n != fe.Size || m != 0 {
		return fmt.Errorf("backup: %s changed size while it was copied (%d bytes expected): %w", what, fe.Size, ErrCorrupt)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != fe.SHA256 {
		return fmt.Errorf("backup: %s: the content has SHA-256 %s, not %s (replaced or damaged): %w", what, got, fe.SHA256, ErrCorrupt)
	}
	return nil
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// marshalManifest is the manifest's one encoding: indented JSON and a
// final newline.
func marshalManifest(m *Manifest) ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("backup: manifest: %w", err)
	}
	return append(b, '\n'), nil
}

// scanDump reads a casestore dump's header and the SHA-256 of every
// exhibit row, sorted and without repetitions. Errors wrap ErrCorrupt.
func scanDump(r io.Reader) (casestore.DumpHeader, []string, error) {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 1<<20))
	var head casestore.DumpHeader
	if err := dec.Decode(&head); err != nil {
		return head, nil, fmt.Errorf("%w: %s: header: %v", ErrCorrupt, StoreFile, err)
	}
	if head.Format != casestore.DumpFormat {
		return head, nil, fmt.Errorf("%w: %s: format %q, want %q", ErrCorrupt, StoreFile, head.Format, casestore.DumpFormat)
	}
	seen := map[string]bool{}
	for line := 2; ; line++ {
		var l struct {
			Table string          `json:"table"`
			Row   json.RawMessage `json:"row"`
		}
		if err := dec.Decode(&l); err == io.EOF {
			break
		} else if err != nil {
			return head, nil, fmt.Errorf("%w: %s: line %d: %v", ErrCorrupt, StoreFile, line, err)
		}
		if l.Table != "exhibits" {
			continue
		}
		var ex struct {
			SHA256 string `json:"sha256"`
		}
		if err := json.Unmarshal(l.Row, &ex); err != nil || !isSHA256(ex.SHA256) {
			return head, nil, fmt.Errorf("%w: %s: line %d: an exhibit without a valid sha256", ErrCorrupt, StoreFile, line)
		}
		seen[ex.SHA256] = true
	}
	sums := make([]string, 0, len(seen))
	for s := range seen {
		sums = append(sums, s)
	}
	slices.Sort(sums)
	return head, sums, nil
}
