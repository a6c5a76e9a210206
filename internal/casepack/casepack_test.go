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
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
)

// Two installations and a third party, each with its own keys.
type installs struct {
	sender, recipient, third *Keys
}

func newInstalls(t testing.TB) installs {
	return installs{sender: mustKeys(t, 1), recipient: mustKeys(t, 2), third: mustKeys(t, 3)}
}

var created = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

func sampleManifest() Manifest {
	return Manifest{
		CaseRef:        "KOS-2025-0042",
		Title:          "Ransomware payments <Ω>",
		OriginAgency:   "KOS-PD",
		Created:        created,
		VestigoVersion: "0.9.0",
		Redacted:       []string{"notes.author", "items.comment"},
	}
}

func sampleEntries() []Entry {
	big := make([]byte, 200<<10) // several age chunks
	seeded(7).Read(big)
	return []Entry{
		{Path: "exhibits/2/wallet dump ä.bin", Data: big},
		{Path: "case.json", Data: []byte(`{"ref":"KOS-2025-0042","title":"Ransomware payments"}`)},
		{Path: "exhibits/1/report.pdf", Data: []byte("%PDF-1.7\n...")},
		{Path: "audit.json", Data: []byte(`[{"seq":1}]`)},
		{Path: "empty.txt", Data: nil},
		{Path: "long/" + strings.Repeat("n", 200) + "/" + strings.Repeat("m", 120), Data: []byte("PAX name")},
	}
}

// export writes a package from the sender to the recipient.
func export(t testing.TB, in installs, m Manifest, entries []Entry) []byte {
	t.Helper()
	to, err := in.recipient.Identity("NBI").AgeRecipient()
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Write(&buf, m, entries, in.sender, to); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func plainOf(t testing.TB, in installs, m Manifest, entries []Entry) []byte {
	t.Helper()
	if m.Recipient == "" {
		m.Recipient = in.recipient.Recipient()
	}
	var buf bytes.Buffer
	if err := WritePlain(&buf, m, entries, in.sender); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// encryptTo encrypts an archive to k, as a sender-in-the-middle would.
func encryptTo(t testing.TB, plain []byte, k *Keys) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, k.Age.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func readAs(pkg []byte, k *Keys, lim Limits) (*Package, error) {
	return Read(bytes.NewReader(pkg), []age.Identity{k.Age}, lim)
}

func TestRoundTrip(t *testing.T) {
	in := newInstalls(t)
	entries := sampleEntries()
	pkg := export(t, in, sampleManifest(), entries)

	p, err := readAs(pkg, in.recipient, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Clone(entries)
	slices.SortFunc(want, func(a, b Entry) int { return strings.Compare(a.Path, b.Path) })
	if len(p.Entries) != len(want) {
		t.Fatalf("%d entries, want %d", len(p.Entries), len(want))
	}
	for i, e := range p.Entries {
		if e.Path != want[i].Path || !bytes.Equal(e.Data, want[i].Data) {
			t.Fatalf("entry %d: %q, want %q", i, e.Path, want[i].Path)
		}
		me := p.Manifest.Entries[i]
		sum := sha256.Sum256(want[i].Data)
		if me.Path != e.Path || me.Size != int64(len(e.Data)) || me.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("manifest entry %d: %+v", i, me)
		}
	}
	m := p.Manifest
	if m.Format != FormatV1 || m.CaseRef != "KOS-2025-0042" || m.Title != "Ransomware payments <Ω>" || m.OriginAgency != "KOS-PD" ||
		m.VestigoVersion != "0.9.0" || !slices.Equal(m.Redacted, []string{"notes.author", "items.comment"}) ||
		m.Recipient != in.recipient.Recipient() || !m.Created.Equal(created) || m.Created.Location() != time.UTC ||
		m.SenderKeyID != KeyID(in.sender.SigningKey()) || m.SenderKey != base64.StdEncoding.EncodeToString(in.sender.SigningKey()) {
		t.Fatalf("manifest: %+v", m)
	}
	if !bytes.Equal(p.SenderKey, in.sender.SigningKey()) || !ed25519.Verify(p.SenderKey, p.ManifestJSON, p.Signature) {
		t.Fatal("sender key or signature")
	}
	if sum := sha256.Sum256(pkg); p.Digest != hex.EncodeToString(sum[:]) {
		t.Fatalf("digest %s", p.Digest)
	}
	if err := p.VerifySender([]ed25519.PublicKey{in.third.SigningKey(), in.sender.SigningKey()}); err != nil {
		t.Fatal(err)
	}
	if err := p.VerifySender([]ed25519.PublicKey{in.recipient.SigningKey()}); !errors.Is(err, ErrUnknownSender) {
		t.Fatalf("unknown sender: %v", err)
	}
	known := []Identity{in.third.Identity("Europol"), in.sender.Identity("Kosovo Police")}
	if id, err := p.Sender(known); err != nil || id.Agency != "Kosovo Police" {
		t.Fatalf("sender: %+v %v", id, err)
	}
	if _, err := p.Sender(known[:1]); !errors.Is(err, ErrUnknownSender) {
		t.Fatalf("sender: %v", err)
	}

	// The sender cannot read what it sent to the recipient, nor can a third
	// party; a package with no identity to try is not for the reader either.
	for _, k := range []*Keys{in.sender, in.third} {
		if _, err := readAs(pkg, k, Limits{}); !errors.Is(err, ErrNotForYou) {
			t.Fatalf("wrong recipient: %v", err)
		}
	}
	if _, err := Read(bytes.NewReader(pkg), nil, Limits{}); !errors.Is(err, ErrNotForYou) {
		t.Fatalf("no identity: %v", err)
	}
	// Several identities: the right one among them opens it.
	if _, err := Read(bytes.NewReader(pkg), []age.Identity{in.third.Age, in.recipient.Age}, Limits{}); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyPackage(t *testing.T) {
	in := newInstalls(t)
	p, err := readAs(export(t, in, sampleManifest(), nil), in.recipient, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 0 || p.Manifest.Entries == nil {
		t.Fatalf("%+v", p)
	}
}

func TestDeterministicPlaintext(t *testing.T) {
	in := newInstalls(t)
	a := plainOf(t, in, sampleManifest(), sampleEntries())
	shuffled := sampleEntries()
	slices.Reverse(shuffled)
	b := plainOf(t, in, sampleManifest(), shuffled)
	if !bytes.Equal(a, b) {
		t.Fatal("the same input gave different archives")
	}
	// Encryption is random, the archive inside is the same.
	p1, p2 := export(t, in, sampleManifest(), sampleEntries()), export(t, in, sampleManifest(), sampleEntries())
	if bytes.Equal(p1, p2) {
		t.Fatal("two encryptions are identical")
	}
	// gzip: no name, no mtime, no extra fields.
	if a[3] != 0 || !bytes.Equal(a[4:8], []byte{0, 0, 0, 0}) {
		t.Fatalf("gzip header % x", a[:10])
	}
	zr, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Typeflag != tar.TypeReg || h.Mode != 0o644 || h.Uid != 0 || h.Gid != 0 || h.Uname != "" || h.Gname != "" ||
			!h.ModTime.Equal(created.Truncate(time.Second)) || !h.AccessTime.IsZero() || !h.ChangeTime.IsZero() {
			t.Fatalf("header %+v", h)
		}
		if wantFmt := tar.FormatUSTAR; len(h.Name) > 100 || strings.ContainsFunc(h.Name, func(r rune) bool { return r > 127 }) {
			if h.Format != tar.FormatPAX {
				t.Fatalf("%s: format %v", h.Name, h.Format)
			}
		} else if h.Format != wantFmt {
			t.Fatalf("%s: format %v", h.Name, h.Format)
		}
	}
	want := []string{"manifest.json", "manifest.sig"}
	for _, e := range sampleEntries() {
		want = append(want, "files/"+e.Path)
	}
	slices.Sort(want[2:])
	if !slices.Equal(names, want) {
		t.Fatalf("names %q, want %q", names, want)
	}
	// The manifest is indented JSON with every field.
	var m map[string]any
	_ = json.Unmarshal(plainEntry(t, a, "manifest.json"), &m)
	if len(m) != 11 || m["created"] != "2025-03-14T14:09:26.535897932Z" {
		t.Fatalf("manifest %v", m)
	}
}

// plainEntry returns the data of one entry of an archive.
func plainEntry(t testing.TB, plain []byte, name string) []byte {
	t.Helper()
	var out []byte
	rewrite(t, plain, func(n string, data []byte) []byte {
		if n == name {
			out = data
		}
		return data
	})
	return out
}

// rewrite rebuilds an archive with edit applied to each entry's data.
func rewrite(t testing.TB, plain []byte, edit func(name string, data []byte) []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(plain))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		data = edit(h.Name, data)
		h.Size = int64(len(data))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(data)
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

// editManifest changes the manifest and signs it again with signer (nil:
// keeps the old signature).
func editManifest(t testing.TB, plain []byte, signer *Keys, change func(*Manifest)) []byte {
	t.Helper()
	var mj []byte
	return rewrite(t, plain, func(name string, data []byte) []byte {
		switch name {
		case "manifest.json":
			m, err := parseManifest(data)
			if err != nil {
				t.Fatal(err)
			}
			change(m)
			if mj, err = marshalManifest(m); err != nil {
				t.Fatal(err)
			}
			return mj
		case "manifest.sig":
			if signer == nil {
				return data
			}
			return ed25519.Sign(signer.Sign, mj)
		}
		return data
	})
}

func TestTampering(t *testing.T) {
	in := newInstalls(t)
	plain := plainOf(t, in, sampleManifest(), sampleEntries())
	if _, err := readAs(encryptTo(t, plain, in.recipient), in.recipient, Limits{}); err != nil {
		t.Fatalf("the untouched archive: %v", err)
	}
	flip := func(data []byte) []byte {
		data = slices.Clone(data)
		data[len(data)/2] ^= 0x01
		return data
	}
	exhibit := "files/exhibits/1/report.pdf"
	flipped := rewrite(t, plain, func(name string, data []byte) []byte {
		if name == exhibit {
			return flip(data)
		}
		return data
	})
	newSum := func(m *Manifest) {
		for i := range m.Entries {
			if "files/"+m.Entries[i].Path == exhibit {
				data := flip(plainEntry(t, plain, exhibit))
				sum := sha256.Sum256(data)
				m.Entries[i].SHA256 = hex.EncodeToString(sum[:])
			}
		}
	}

	// A byte of an exhibit changed: the hash gives it away.
	if _, err := readAs(encryptTo(t, flipped, in.recipient), in.recipient, Limits{}); !errors.Is(err, ErrTampered) {
		t.Fatalf("flipped entry: %v", err)
	}
	// The manifest changed to match, the signature kept: it does not verify.
	sameKey := editManifest(t, flipped, nil, newSum)
	if _, err := readAs(encryptTo(t, sameKey, in.recipient), in.recipient, Limits{}); !errors.Is(err, ErrSignature) {
		t.Fatalf("changed manifest, old signature: %v", err)
	}
	// A byte of the signature changed.
	badSig := rewrite(t, plain, func(name string, data []byte) []byte {
		if name == "manifest.sig" {
			return flip(data)
		}
		return data
	})
	if _, err := readAs(encryptTo(t, badSig, in.recipient), in.recipient, Limits{}); !errors.Is(err, ErrSignature) {
		t.Fatalf("flipped signature: %v", err)
	}
	// Signed with another key but claiming the sender's: ErrSignature.
	claim := editManifest(t, flipped, in.third, newSum)
	if _, err := readAs(encryptTo(t, claim, in.recipient), in.recipient, Limits{}); !errors.Is(err, ErrSignature) {
		t.Fatalf("another key, sender's key claimed: %v", err)
	}
	// The key id does not match the key.
	badID := editManifest(t, plain, in.sender, func(m *Manifest) { m.SenderKeyID = KeyID(in.third.SigningKey()) })
	if _, err := readAs(encryptTo(t, badID, in.recipient), in.recipient, Limits{}); !errors.Is(err, ErrSignature) {
		t.Fatalf("wrong key id: %v", err)
	}
	// Re-signed with the third party's key, named as the sender: the package
	// is intact, but its sender is not one the recipient knows.
	resigned := editManifest(t, flipped, in.third, func(m *Manifest) {
		newSum(m)
		m.SenderKey = base64.StdEncoding.EncodeToString(in.third.SigningKey())
		m.SenderKeyID = KeyID(in.third.SigningKey())
	})
	p, err := readAs(encryptTo(t, resigned, in.recipient), in.recipient, Limits{})
	if err != nil {
		t.Fatalf("re-signed: %v", err)
	}
	if err := p.VerifySender([]ed25519.PublicKey{in.sender.SigningKey()}); !errors.Is(err, ErrUnknownSender) {
		t.Fatalf("re-signed, VerifySender: %v", err)
	}
	// The recipient forwards the package to a third party as if it had been
	// sent there: the signed manifest names the recipient.
	if _, err := readAs(encryptTo(t, plain, in.third), in.third, Limits{}); !errors.Is(err, ErrNotForYou) {
		t.Fatalf("forwarded: %v", err)
	}
}

func TestTruncatedAndAppended(t *testing.T) {
	in := newInstalls(t)
	pkg := export(t, in, sampleManifest(), sampleEntries())
	hdrEnd := bytes.Index(pkg, []byte("\n---")) + 1
	hdrEnd += bytes.IndexByte(pkg[hdrEnd:], '\n') + 1
	for _, c := range []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrFormat},
		{"ten bytes", pkg[:10], ErrFormat},
		{"header only", pkg[:hdrEnd], ErrFormat},
		{"header and nonce", pkg[:hdrEnd+16], ErrTampered},
		{"half", pkg[:len(pkg)/2], ErrTampered},
		{"last byte cut", pkg[:len(pkg)-1], ErrTampered},
		{"last chunk cut", pkg[:hdrEnd+16+3*(64<<10+16)], ErrTampered},
		{"byte appended", append(slices.Clone(pkg), 0), ErrTampered},
		{"flipped ciphertext", func() []byte { b := slices.Clone(pkg); b[len(b)-100] ^= 1; return b }(), ErrTampered},
		{"flipped header", func() []byte { b := slices.Clone(pkg); b[hdrEnd-5] ^= 1; return b }(), ErrFormat},
		{"not age", []byte("hello, world\n"), ErrFormat},
	} {
		_, err := readAs(c.data, in.recipient, Limits{})
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestLimits(t *testing.T) {
	in := newInstalls(t)
	pkg := export(t, in, sampleManifest(), sampleEntries())
	for _, c := range []struct {
		name string
		lim  Limits
	}{
		{"package", Limits{MaxPackage: int64(len(pkg)) - 1}},
		{"uncompressed", Limits{MaxUncompressed: 200 << 10}},
		{"entries", Limits{MaxEntries: len(sampleEntries()) - 1}},
		{"entry", Limits{MaxEntry: 100 << 10}},
	} {
		if _, err := readAs(pkg, in.recipient, c.lim); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	if _, err := readAs(pkg, in.recipient, Limits{MaxPackage: int64(len(pkg)), MaxEntries: len(sampleEntries()), MaxEntry: 200 << 10}); err != nil {
		t.Errorf("at the limits: %v", err)
	}
}

func TestWriteRefuses(t *testing.T) {
	in := newInstalls(t)
	to := in.recipient.Age.Recipient()
	ok := func() ([]Entry, Manifest) { return []Entry{{Path: "case.json", Data: []byte("{}")}}, sampleManifest() }
	for _, c := range []struct {
		name   string
		change func(*Manifest, *[]Entry)
		want   error
	}{
		{"zip slip", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = "../../etc/x" }, ErrUnsafePath},
		{"absolute", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = "/etc/x" }, ErrUnsafePath},
		{"backslash", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = `a\b` }, ErrUnsafePath},
		{"NUL", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = "a\x00b" }, ErrUnsafePath},
		{"dot", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = "./a" }, ErrUnsafePath},
		{"double slash", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = "a//b" }, ErrUnsafePath},
		{"trailing slash", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = "a/" }, ErrUnsafePath},
		{"drive", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = "C:/x" }, ErrUnsafePath},
		{"empty path", func(_ *Manifest, e *[]Entry) { (*e)[0].Path = "" }, ErrUnsafePath},
		{"duplicate", func(_ *Manifest, e *[]Entry) { *e = append(*e, (*e)[0]) }, ErrUnsafePath},
		{"case", func(_ *Manifest, e *[]Entry) { *e = append(*e, Entry{Path: "Case.JSON"}) }, ErrUnsafePath},
		{"file and dir", func(_ *Manifest, e *[]Entry) { *e = append(*e, Entry{Path: "case.json/x"}) }, ErrUnsafePath},
		{"no case ref", func(m *Manifest, _ *[]Entry) { m.CaseRef = "" }, nil},
		{"no agency", func(m *Manifest, _ *[]Entry) { m.OriginAgency = "" }, nil},
		{"no version", func(m *Manifest, _ *[]Entry) { m.VestigoVersion = "" }, nil},
		{"no time", func(m *Manifest, _ *[]Entry) { m.Created = time.Time{} }, nil},
		{"control char", func(m *Manifest, _ *[]Entry) { m.Title = "a\nb" }, nil},
		{"format", func(m *Manifest, _ *[]Entry) { m.Format = "vestigo-case-package/2" }, nil},
		{"entries given", func(m *Manifest, _ *[]Entry) { m.Entries = []ManifestEntry{{Path: "x"}} }, nil},
		{"other sender", func(m *Manifest, _ *[]Entry) {
			m.SenderKey = base64.StdEncoding.EncodeToString(in.third.SigningKey())
		}, nil},
		{"wrong key id", func(m *Manifest, _ *[]Entry) { m.SenderKeyID = "0011223344556677" }, nil},
		{"other recipient", func(m *Manifest, _ *[]Entry) { m.Recipient = in.third.Recipient() }, nil},
		{"redacted twice", func(m *Manifest, _ *[]Entry) { m.Redacted = []string{"a", "a"} }, nil},
	} {
		e, m := ok()
		c.change(&m, &e)
		err := Write(io.Discard, m, e, in.sender, to)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	e, m := ok()
	if err := Write(io.Discard, m, e, in.sender); err == nil {
		t.Error("no recipient accepted")
	}
	if err := Write(io.Discard, m, e, &Keys{Age: in.sender.Age}, to); err == nil {
		t.Error("no signing key accepted")
	}
	if err := WritePlain(io.Discard, m, e, in.sender); err == nil {
		t.Error("WritePlain without a recipient")
	}
	// The caller's entries are not reordered.
	e = sampleEntries()
	before := slices.Clone(e)
	if err := Write(io.Discard, m, e, in.sender, to); err != nil {
		t.Fatal(err)
	}
	for i := range e {
		if e[i].Path != before[i].Path {
			t.Fatal("Write reordered the caller's entries")
		}
	}
}

func TestPaths(t *testing.T) {
	for _, p := range []string{"a", "a/b/c.json", "exhibits/ä ö/ü.pdf", "..a", "a..", "a/.b", "xy:z", "a/c:d", "12:00 call.wav"} {
		if err := checkPath(p); err != nil {
			t.Errorf("%q: %v", p, err)
		}
	}
	for _, p := range []string{"", "/", "/a", "..", "../a", "a/..", "a/../b", ".", "a/./b", "a//b", "a/", `a\b`, "a\x00",
		"a\x7f", "a\nb", "c:", "C:/a", "x:y", "\xff", strings.Repeat("a", 256), strings.Repeat("a/", 600)} {
		if err := checkPath(p); !errors.Is(err, ErrUnsafePath) {
			t.Errorf("%q accepted", p)
		}
	}
	s := newPathSet()
	for _, p := range []string{"a/b", "a/c", "d"} {
		if err := s.add(p); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{"a/b", "A/b2", "a/B", "a", "d/e", "D", "ǅ", "K"} {
		if err := s.add(p); p != "ǅ" && p != "K" && !errors.Is(err, ErrUnsafePath) {
			t.Errorf("%q accepted", p)
		}
	}
	// Unicode folding: the Kelvin sign folds to k, ǅ to ǆ.
	if fold("\u212a") != fold("k") || fold("ǅ") != fold("ǆ") || fold("ǅ") != fold("Ǆ") || fold("a") == fold("b") {
		t.Error("fold")
	}
	if err := s.add("\u212a"); !errors.Is(err, ErrUnsafePath) {
		t.Errorf("Kelvin sign after K: %v", err)
	}
}
