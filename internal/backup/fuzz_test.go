package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// FuzzReadArchive: any input is refused with one of the package's errors
// or read in full; nothing panics, nothing is staged outside the directory
// given, and what is read has a manifest that checks.
func FuzzReadArchive(f *testing.F) {
	manifest := []byte(`{"format":"vestigo-backup/1","created":"2025-04-01T12:00:00Z","vestigo_version":"1","backend":"sqlite",` +
		`"schema_version":` + strconv.Itoa(casestore.SchemaVersion()) + `,"index_tips":[],"exhibits":0,"files":[{"path":"store.jsonl",` +
		`"size":2,"sha256":"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}]}`)
	f.Add(pack(f, []entry{reg(ManifestFile, manifest), reg(StoreFile, []byte("{}"))}))
	f.Add(pack(f, []entry{reg(ManifestFile, manifest)}))
	f.Add(pack(f, []entry{reg(ManifestFile, manifest), {tar.Header{Typeflag: tar.TypeSymlink, Name: StoreFile, Linkname: "/etc"}, nil}}))
	f.Add(pack(f, []entry{reg(ManifestFile, []byte(`{"format":"vestigo-backup/1"}`))}))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		lim := Limits{MaxBackup: 1 << 20, MaxUncompressed: 4 << 20, MaxFiles: 100, MaxFile: 1 << 20, MaxManifest: 1 << 16}
		m, err := readArchive(context.Background(), bytes.NewReader(data), lim, t.TempDir())
		if err != nil {
			if !errors.Is(err, ErrFormat) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnsafePath) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v wraps none of the package's errors", err)
			}
			return
		}
		if _, err := parseManifest(must[[]byte](t)(marshalManifest(m)), lim); err != nil {
			t.Fatalf("an accepted manifest does not check again: %v", err)
		}
	})
}
