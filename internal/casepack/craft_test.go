package casepack

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"filippo.io/age"
)

// raw is one hand-made tar entry: a header and its data (or a reader of
// Size bytes for large data).
type raw struct {
	hdr    tar.Header
	data   []byte
	stream io.Reader
}

func file(name string, data []byte) raw {
	return raw{hdr: tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))}, data: data}
}

// craftTar writes entries as a tar archive into w.
func craftTar(t testing.TB, w io.Writer, entries []raw) {
	t.Helper()
	tw := tar.NewWriter(w)
	for _, e := range entries {
		h := e.hdr
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
		src := e.stream
		if src == nil {
			src = bytes.NewReader(e.data)
		}
		if _, err := io.Copy(tw, src); err != nil {
			t.Fatalf("%s: %v", h.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

// craft gzips a hand-made tar and encrypts it to k, streaming: large
// entries are never held in memory, only the compressed package.
func craft(t testing.TB, k *Keys, level int, entries []raw) []byte {
	t.Helper()
	var buf bytes.Buffer
	aw, err := age.Encrypt(&buf, k.Age.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	zw, err := gzip.NewWriterLevel(aw, level)
	if err != nil {
		t.Fatal(err)
	}
	craftTar(t, zw, entries)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := aw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// signed returns manifest.json and manifest.sig for files of the given
// sizes and hashes, signed by the sender and addressed to the recipient;
// change may alter the manifest before it is signed.
func signed(t testing.TB, in installs, files []ManifestEntry, change func(*Manifest)) (raw, raw) {
	t.Helper()
	m := sampleManifest()
	m.Format = FormatV1
	m.Created = m.Created.UTC()
	m.SenderKey = base64.StdEncoding.EncodeToString(in.sender.SigningKey())
	m.SenderKeyID = KeyID(in.sender.SigningKey())
	m.Recipient = in.recipient.Recipient()
	m.Entries = append([]ManifestEntry{}, files...)
	if change != nil {
		change(&m)
	}
	mj, err := marshalManifest(&m)
	if err != nil {
		t.Fatal(err)
	}
	return file("manifest.json", mj), file("manifest.sig", ed25519.Sign(in.sender.Sign, mj))
}

func entryOf(path string, data []byte) ManifestEntry {
	sum := sha256.Sum256(data)
	return ManifestEntry{Path: path, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:])}
}

func TestHandCrafted(t *testing.T) {
	in := newInstalls(t)
	a, b := []byte(`{"a":1}`), []byte(`{"b":2}`)
	ab := []ManifestEntry{entryOf("a.json", a), entryOf("b.json", b)}
	man, sig := signed(t, in, ab, nil)
	fa, fb := file("files/a.json", a), file("files/b.json", b)
	withType := func(name string, typ byte, link string) raw {
		return raw{hdr: tar.Header{Typeflag: typ, Name: name, Linkname: link, Mode: 0o644}}
	}
	manWith := func(change func(*Manifest)) raw { m, _ := signed(t, in, ab, change); return m }
	sigWith := func(change func(*Manifest)) raw { _, s := signed(t, in, ab, change); return s }
	compact := func() raw {
		m, _ := parseManifest(man.data)
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.Encode(m)
		return file("manifest.json", buf.Bytes())
	}()
	compactSig := file("manifest.sig", ed25519.Sign(in.sender.Sign, compact.data))
	unknownField := file("manifest.json", bytes.Replace(man.data, []byte(`"format"`), []byte(`"extra": 1,
  "format"`), 1))
	unknownSig := file("manifest.sig", ed25519.Sign(in.sender.Sign, unknownField.data))

	for _, c := range []struct {
		name    string
		entries []raw
		want    error
	}{
		{"valid", []raw{man, sig, fa, fb}, nil},
		{"zip slip first", []raw{file("../../etc/x", a)}, ErrUnsafePath},
		{"zip slip in files", []raw{man, sig, file("files/../../etc/x", a)}, ErrUnsafePath},
		{"zip slip in the manifest", []raw{manWith(func(m *Manifest) { m.Entries[0].Path = "../../etc/x" }),
			sigWith(func(m *Manifest) { m.Entries[0].Path = "../../etc/x" })}, ErrUnsafePath},
		{"absolute path", []raw{man, sig, file("/etc/passwd", a)}, ErrUnsafePath},
		{"absolute under files", []raw{man, sig, file("files//etc/passwd", a)}, ErrUnsafePath},
		{"backslash", []raw{man, sig, file(`files/..\..\x`, a)}, ErrUnsafePath},
		{"control character", []raw{man, sig, file("files/a\x1b.json", a)}, ErrUnsafePath},
		{"symlink", []raw{man, sig, withType("files/a.json", tar.TypeSymlink, "/etc/passwd")}, ErrUnsafePath},
		{"symlink first", []raw{withType("manifest.json", tar.TypeSymlink, "/etc/passwd")}, ErrUnsafePath},
		{"hard link", []raw{man, sig, withType("files/a.json", tar.TypeLink, "manifest.json")}, ErrUnsafePath},
		{"directory", []raw{man, sig, withType("files/dir/", tar.TypeDir, "")}, ErrUnsafePath},
		{"directory outside files", []raw{withType("etc/", tar.TypeDir, "")}, ErrUnsafePath},
		{"device", []raw{man, sig, withType("files/a.json", tar.TypeChar, "")}, ErrUnsafePath},
		{"fifo", []raw{man, sig, withType("files/a.json", tar.TypeFifo, "")}, ErrUnsafePath},
		{"outside files", []raw{man, sig, file("a.json", a)}, ErrUnsafePath},
		{"duplicate", []raw{man, sig, fa, fa, fb}, ErrUnsafePath},
		{"duplicate manifest", []raw{man, sig, man}, ErrUnsafePath},
		{"case duplicate", []raw{man, sig, fa, file("files/A.json", a)}, ErrUnsafePath},
		{"manifest lists a duplicate", []raw{
			manWith(func(m *Manifest) { m.Entries[1] = m.Entries[0] }), sigWith(func(m *Manifest) { m.Entries[1] = m.Entries[0] })}, ErrUnsafePath},
		{"manifest not first", []raw{fa, man, sig, fb}, ErrTampered},
		{"signature missing", []raw{man}, ErrSignature},
		{"signature not second", []raw{man, fa, sig, fb}, ErrSignature},
		{"signature short", []raw{man, file("manifest.sig", sig.data[:63])}, ErrSignature},
		{"entry missing", []raw{man, sig, fa}, ErrTampered},
		{"entry not in the manifest", []raw{man, sig, fa, fb, file("files/c.json", a)}, ErrTampered},
		{"entries out of order", []raw{man, sig, fb, fa}, ErrTampered},
		{"entry swapped", []raw{man, sig, file("files/a.json", b), fb}, ErrTampered},
		{"entry longer", []raw{man, sig, file("files/a.json", append(a, ' ')), fb}, ErrTampered},
		{"unknown version", []raw{manWith(func(m *Manifest) { m.Format = "vestigo-case-package/2" }),
			sigWith(func(m *Manifest) { m.Format = "vestigo-case-package/2" })}, ErrFormat},
		{"not canonical", []raw{compact, compactSig, fa, fb}, ErrFormat},
		{"unknown field", []raw{unknownField, unknownSig, fa, fb}, ErrFormat},
		{"manifest not JSON", []raw{file("manifest.json", []byte("format: x")), sig}, ErrFormat},
		{"bad hash text", []raw{manWith(func(m *Manifest) { m.Entries[0].SHA256 = strings.ToUpper(m.Entries[0].SHA256) }),
			sigWith(func(m *Manifest) { m.Entries[0].SHA256 = strings.ToUpper(m.Entries[0].SHA256) }), fa, fb}, ErrFormat},
		{"unsorted manifest", []raw{manWith(func(m *Manifest) { m.Entries[0], m.Entries[1] = m.Entries[1], m.Entries[0] }),
			sigWith(func(m *Manifest) { m.Entries[0], m.Entries[1] = m.Entries[1], m.Entries[0] }), fb, fa}, ErrFormat},
		{"empty archive", nil, ErrFormat},
		{"addressed elsewhere", []raw{manWith(func(m *Manifest) { m.Recipient = in.third.Recipient() }),
			sigWith(func(m *Manifest) { m.Recipient = in.third.Recipient() }), fa, fb}, ErrNotForYou},
	} {
		pkg := craft(t, in.recipient, gzip.DefaultCompression, c.entries)
		_, err := readAs(pkg, in.recipient, Limits{})
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// TestLayers: each layer must be what it says and end where it ends.
func TestLayers(t *testing.T) {
	in := newInstalls(t)
	a := []byte(`{"a":1}`)
	man, sig := signed(t, in, []ManifestEntry{entryOf("a.json", a)}, nil)
	entries := []raw{man, sig, file("files/a.json", a)}
	var tarBytes bytes.Buffer
	craftTar(t, &tarBytes, entries)
	gz := func(parts ...[]byte) []byte {
		var buf bytes.Buffer
		for _, p := range parts {
			zw := gzip.NewWriter(&buf)
			zw.Write(p)
			zw.Close()
		}
		return buf.Bytes()
	}
	good := gz(tarBytes.Bytes())
	badCRC := gz(tarBytes.Bytes())
	badCRC[len(badCRC)-6] ^= 1
	for _, c := range []struct {
		name  string
		plain []byte
		want  error
	}{
		{"valid", good, nil},
		{"tar without gzip", tarBytes.Bytes(), ErrFormat},
		{"gzip of junk", gz([]byte(strings.Repeat("junk", 300))), ErrFormat},
		{"junk after the tar", gz(append(bytes.Clone(tarBytes.Bytes()), "junk"...)), ErrFormat},
		{"zeros after the tar", gz(append(bytes.Clone(tarBytes.Bytes()), make([]byte, 10240)...)), ErrFormat},
		{"second gzip member", gz(tarBytes.Bytes(), []byte("more")), ErrFormat},
		{"junk after the gzip", append(bytes.Clone(good), "junk"...), ErrFormat},
		{"bad gzip checksum", badCRC, ErrFormat},
		{"truncated gzip", good[:len(good)-9], ErrFormat},
		{"empty", nil, ErrFormat},
	} {
		_, err := readAs(encryptTo(t, c.plain, in.recipient), in.recipient, Limits{})
		if (c.want == nil && err != nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

// zeros is an endless source of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// meter counts what Read takes from the package file.
type meter struct {
	r io.Reader
	n int64
}

func (m *meter) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	m.n += int64(n)
	return n, err
}

// TestBombs: 1 GiB compressed to about a megabyte, read with small limits.
// Each must be refused with ErrTooLarge after reading a small part of the
// package, which shows that nothing was inflated beyond the limit.
func TestBombs(t *testing.T) {
	t.Parallel()
	in := newInstalls(t)
	const gib = 1 << 30
	lim := Limits{MaxUncompressed: 16 << 20, MaxEntry: 8 << 20}
	readPart := func(name string, pkg []byte, lim Limits, maxShare float64) {
		t.Helper()
		m := &meter{r: bytes.NewReader(pkg)}
		_, err := Read(m, []age.Identity{in.recipient.Age}, lim)
		if !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v", name, err)
		}
		if share := float64(m.n) / float64(len(pkg)); share > maxShare {
			t.Errorf("%s: read %d of %d bytes of the package", name, m.n, len(pkg))
		}
		t.Logf("%s: %d bytes of package, %d read: %v", name, len(pkg), m.n, err)
	}

	// A gigabyte of zeros as the first entry: refused at its header.
	bomb := func() raw {
		return raw{hdr: tar.Header{Typeflag: tar.TypeReg, Name: "files/zeros", Mode: 0o644, Size: gib}, stream: io.LimitReader(zeros{}, gib)}
	}
	pkg := craft(t, in.recipient, gzip.BestSpeed, []raw{bomb()})
	if len(pkg) > 4<<20 {
		t.Fatalf("the bomb is %d bytes", len(pkg))
	}
	readPart("entry bomb", pkg, lim, 0.1)
	// The same, after an honest signed manifest that lists it: refused
	// when the manifest is checked, before any of it is read, even with a
	// MaxEntry that would take it.
	man, sig := signed(t, in, []ManifestEntry{{Path: "zeros", Size: gib, SHA256: strings.Repeat("0", 64)}}, nil)
	pkg2 := craft(t, in.recipient, gzip.BestSpeed, []raw{man, sig, bomb()})
	readPart("listed bomb", pkg2, Limits{MaxUncompressed: 16 << 20, MaxEntry: 2 * gib}, 0.1)
	readPart("listed bomb, MaxEntry", pkg2, Limits{MaxEntry: 8 << 20}, 0.1)

	// A gigabyte of tar headers: 1024 empty files, each header carrying a
	// PAX comment of almost a megabyte. No entry is large; the count of
	// decompressed bytes stops it.
	headerBomb := func(n int) []byte {
		comment := strings.Repeat("a", 1<<20-1024)
		var files []ManifestEntry
		for i := range n {
			files = append(files, entryOf(fmt.Sprintf("p%04d", i), nil))
		}
		man, sig := signed(t, in, files, nil)
		entries := []raw{man, sig}
		for _, f := range files {
			e := file("files/"+f.Path, nil)
			e.hdr.PAXRecords = map[string]string{"comment": comment}
			entries = append(entries, e)
		}
		return craft(t, in.recipient, gzip.BestSpeed, entries)
	}
	readPart("header bomb", headerBomb(1024), lim, 0.1)
	// Eight such headers are within the limit: the limit, not the shape,
	// refused the bomb.
	if p, err := readAs(headerBomb(8), in.recipient, lim); err != nil || len(p.Entries) != 8 {
		t.Fatalf("eight headers: %v", err)
	}
}
