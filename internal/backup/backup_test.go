package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Millisecond)
	return c.t
}

// backends open fresh, empty stores of one kind.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "cases.db") }},
	{"postgresql", func(t *testing.T) string { return pgtest.Shared(t).CreateDB(t, t.Name()) }},
}

type store struct {
	st         *casestore.Store
	exhibitDir string
}

func open(t *testing.T, dsn string) *store {
	t.Helper()
	clk := &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)}
	s := &store{exhibitDir: filepath.Join(t.TempDir(), "exhibits")}
	st, err := casestore.Open(context.Background(), dsn, casestore.Options{Clock: clk.Now, ExhibitDir: s.exhibitDir,
		Argon2: casestore.Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	s.st = st
	return s
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

var signer = ed25519.NewKeyFromSeed(bytes.Repeat([]byte{7}, 32))

const pw = "correct horse battery staple"

// populate fills a store: an agency, users, a case with content, three
// exhibits of two contents, a checkpoint, and more after it.
func populate(t *testing.T, s *store) {
	t.Helper()
	ctx := context.Background()
	st := s.st
	ag := must[casestore.Agency](t)(st.CreateAgency(ctx, "KOS-PD", "Kosovo Police"))
	must[casestore.User](t)(st.BootstrapAdmin(ctx, ag.ID, "alice", pw))
	admin := must[casestore.Principal](t)(st.AuthenticatePassword(ctx, "alice", pw))
	must[casestore.User](t)(st.CreateUser(ctx, admin, "ivan", casestore.RoleInvestigator, pw))
	p := must[casestore.Principal](t)(st.AuthenticatePassword(ctx, "ivan", pw))
	c := must[casestore.Case](t)(st.CreateCase(ctx, p, casestore.Case{Reference: "2025/1", Title: "Ransom <b>'x'</b> & ü",
		LegalBasis: "order 17"}))
	it := must[casestore.Item](t)(st.AddItem(ctx, p, c.ID, casestore.Item{Kind: casestore.ItemAddress, Chain: "btc",
		Network: "mainnet", Ref: "bc1qexample", Label: "ransom", Provenance: casestore.Provenance{Source: "btcd rpc",
			Height: 840000, Params: json.RawMessage(`{"hops":4}`)}}))
	must[casestore.Note](t)(st.AddNote(ctx, p, c.ID, it.ID, "a note\nwith two lines"))
	must[casestore.Exhibit](t)(st.AddExhibit(ctx, p, c.ID, "letter.txt", "text/plain", strings.NewReader("the bank's letter")))
	must[casestore.Exhibit](t)(st.AddExhibit(ctx, p, c.ID, "copy.txt", "text/plain", strings.NewReader("the bank's letter")))
	big := make([]byte, 300<<10)
	for i := range big {
		big[i] = byte(i * 7 % 251)
	}
	must[casestore.Exhibit](t)(st.AddExhibit(ctx, p, c.ID, "dump.bin", "application/octet-stream", bytes.NewReader(big)))
	must[casestore.Checkpoint](t)(st.Checkpoint(ctx, signer))
	must[casestore.Case](t)(st.GetCase(ctx, p, c.ID)) // a view after the checkpoint
	must[casestore.Finding](t)(st.AddFinding(ctx, p, c.ID, casestore.Finding{Kind: casestore.FindingTrace, Title: "trace",
		Params: json.RawMessage(`{"hops":4}`), Result: json.RawMessage(`[1,2]`)}))
	if _, _, err := st.CreateToken(ctx, admin, p.UserID, "api"); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, s *store) *casestore.VerifyReport {
	t.Helper()
	rep := must[*casestore.VerifyReport](t)(s.st.Verify(context.Background(),
		casestore.Verifier{SigningKeys: []ed25519.PublicKey{signer.Public().(ed25519.PublicKey)}}))
	if !rep.OK() {
		t.Fatalf("Verify: %s", strings.Join(rep.Problems, "\n"))
	}
	return rep
}

var tips = []Tip{
	{Ledger: "btc-testnet4", Height: 1200, Hash: strings.Repeat("0b", 32)},
	{Ledger: "btc-mainnet", Height: 840010, Hash: strings.Repeat("00", 4) + strings.Repeat("a5", 28)},
}

var now = time.Date(2025, 4, 1, 12, 0, 0, 0, time.UTC)

func backup(t *testing.T, s *store) ([]byte, *Manifest) {
	t.Helper()
	var buf bytes.Buffer
	m, err := Write(context.Background(), s.st, tips, "0.9.0-test", now, &buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), m
}

// exhibitFiles maps every file under an exhibit directory (relative path)
// to its content.
func exhibitFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == dir {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if d.Name() == "tmp" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = string(must[[]byte](t)(os.ReadFile(path)))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// afterHeader is a dump without its header line (which names the backend).
func afterHeader(t *testing.T, s *store) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := s.st.Dump(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	_, rest, _ := bytes.Cut(b.Bytes(), []byte("\n"))
	return rest
}

func TestBackupRestore(t *testing.T) {
	ctx := context.Background()
	for _, to := range backends {
		t.Run("sqlite_to_"+to.name, func(t *testing.T) {
			src := open(t, backends[0].dsn(t))
			populate(t, src)
			want := verify(t, src)
			data, m := backup(t, src)

			if m.Format != Format || m.Backend != "sqlite" || m.SchemaVersion != casestore.SchemaVersion() || m.Exhibits != 2 ||
				len(m.Files) != 3 || m.Files[0].Path != StoreFile || !m.Created.Equal(now) || m.VestigoVersion != "0.9.0-test" ||
				len(m.IndexTips) != 2 || m.IndexTips[0].Ledger != "btc-mainnet" {
				t.Fatalf("manifest %+v", m)
			}
			// Every file's hash in the manifest is the hash of what is in the archive.
			_, files := unpack(t, data)
			for _, fe := range m.Files {
				sum := sha256.Sum256(files[fe.Path])
				if hex.EncodeToString(sum[:]) != fe.SHA256 || int64(len(files[fe.Path])) != fe.Size {
					t.Fatalf("%s: the manifest's hash or size is not the archive's", fe.Path)
				}
			}

			dst := open(t, to.dsn(t))
			got, err := Restore(ctx, dst.st, bytes.NewReader(data), Limits{})
			if err != nil {
				t.Fatal(err)
			}
			if got.Files[2].SHA256 != m.Files[2].SHA256 || !got.Created.Equal(m.Created) {
				t.Fatalf("restore returned manifest %+v", got)
			}
			rep := verify(t, dst)
			if rep.Records != want.Records || rep.HeadHash != want.HeadHash || rep.Checkpoints != 1 || rep.Exhibits != 3 {
				t.Fatalf("restored store: %+v, original %+v", rep, want)
			}
			if a, b := exhibitFiles(t, src.exhibitDir), exhibitFiles(t, dst.exhibitDir); len(a) != 2 || !equalMaps(a, b) {
				t.Fatalf("exhibit files differ: %d in the original, %d restored", len(a), len(b))
			}
			if !bytes.Equal(afterHeader(t, src), afterHeader(t, dst)) {
				t.Fatal("the restored store's rows differ from the original's")
			}
			// It works: the users log in, the exhibits open.
			p := must[casestore.Principal](t)(dst.st.AuthenticatePassword(ctx, "ivan", pw))
			exs := must[[]casestore.Exhibit](t)(dst.st.ListExhibits(ctx, p, 1))
			_, rc, err := dst.st.OpenExhibit(ctx, p, exs[0].ID)
			if err != nil {
				t.Fatal(err)
			}
			if b := must[[]byte](t)(io.ReadAll(rc)); string(b) != "the bank's letter" {
				t.Fatalf("restored exhibit %q", b)
			}
			rc.Close()
			verify(t, dst)

			// Never into a store with data.
			_, err = Restore(ctx, dst.st, bytes.NewReader(data), Limits{})
			if !errors.Is(err, ErrNotEmpty) {
				t.Fatalf("restore into the restored store: %v", err)
			}
		})
	}
	t.Run("postgresql_to_sqlite", func(t *testing.T) {
		src := open(t, backends[1].dsn(t))
		populate(t, src)
		data, m := backup(t, src)
		if m.Backend != "postgresql" {
			t.Fatalf("backend %q", m.Backend)
		}
		dst := open(t, backends[0].dsn(t))
		if _, err := Restore(ctx, dst.st, bytes.NewReader(data), Limits{}); err != nil {
			t.Fatal(err)
		}
		verify(t, dst)
		if !equalMaps(exhibitFiles(t, src.exhibitDir), exhibitFiles(t, dst.exhibitDir)) {
			t.Fatal("exhibit files differ")
		}
	})
	t.Run("empty store", func(t *testing.T) {
		src := open(t, backends[0].dsn(t))
		data, m := backup(t, src)
		if m.Exhibits != 0 || len(m.Files) != 1 {
			t.Fatalf("manifest %+v", m)
		}
		dst := open(t, backends[0].dsn(t))
		if _, err := Restore(ctx, dst.st, bytes.NewReader(data), Limits{}); err != nil {
			t.Fatal(err)
		}
	})
}

func equalMaps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestRestoreNotEmpty(t *testing.T) {
	ctx := context.Background()
	src := open(t, backends[0].dsn(t))
	populate(t, src)
	data, _ := backup(t, src)

	withAgency := open(t, backends[0].dsn(t))
	must[casestore.Agency](t)(withAgency.st.CreateAgency(ctx, "NBI", "another"))
	if _, err := Restore(ctx, withAgency.st, bytes.NewReader(data), Limits{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore into a store with an agency: %v", err)
	}
	// No agency, but an audit record (a refused request): Load refuses.
	withAudit := open(t, backends[0].dsn(t))
	if err := withAudit.st.Audit(ctx, casestore.Principal{}, casestore.Event{Action: casestore.ActionDenied,
		ObjectType: "route", Detail: json.RawMessage(`{"route":"/api/cases"}`)}); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(ctx, withAudit.st, bytes.NewReader(data), Limits{}); !errors.Is(err, ErrNotEmpty) {
		t.Fatalf("restore into a store with an audit record: %v", err)
	}
	if n := len(exhibitFiles(t, withAudit.exhibitDir)); n != 0 {
		t.Fatalf("a refused restore wrote %d exhibit files", n)
	}
}

func TestBackupDamagedExhibit(t *testing.T) {
	ctx := context.Background()
	files := func(t *testing.T, s *store) []casestore.ExhibitFile {
		return must[[]casestore.ExhibitFile](t)(s.st.ExhibitFiles(ctx))
	}
	for name, damage := range map[string]func(path string) error{
		"swapped, same size": func(path string) error { return os.WriteFile(path, []byte("the bank's LETTER"), 0o600) },
		"swapped, other size": func(path string) error {
			return os.WriteFile(path, []byte("another letter entirely"), 0o600)
		},
		"missing":   os.Remove,
		"directory": func(path string) error { os.Remove(path); return os.Mkdir(path, 0o700) },
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t, backends[0].dsn(t))
			populate(t, s)
			var victim casestore.ExhibitFile
			for _, f := range files(t, s) {
				if fi, err := os.Stat(f.Path); err == nil && fi.Size() < 100 {
					victim = f
				}
			}
			if err := damage(victim.Path); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			_, err := Write(ctx, s.st, tips, "0.9.0", now, &buf)
			if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), victim.SHA256) {
				t.Fatalf("backup with a damaged exhibit file: %v", err)
			}
		})
	}
}

func TestWriteArguments(t *testing.T) {
	ctx := context.Background()
	s := open(t, backends[0].dsn(t))
	for name, c := range map[string]struct {
		tips    []Tip
		version string
		now     time.Time
	}{
		"ledger":        {[]Tip{{Ledger: "bitcoin", Height: 1, Hash: "00"}}, "1", now},
		"twice":         {[]Tip{{Ledger: "btc-mainnet", Hash: "00"}, {Ledger: "btc-mainnet", Hash: "01"}}, "1", now},
		"height":        {[]Tip{{Ledger: "btc-mainnet", Height: -1, Hash: "00"}}, "1", now},
		"hash":          {[]Tip{{Ledger: "btc-mainnet", Height: 1, Hash: "XYZ"}}, "1", now},
		"empty hash":    {[]Tip{{Ledger: "btc-mainnet", Height: 1}}, "1", now},
		"version":       {nil, "", now},
		"version lines": {nil, "1\n2", now},
		"time":          {nil, "1", time.Time{}},
	} {
		var buf bytes.Buffer
		if _, err := Write(ctx, s.st, c.tips, c.version, c.now, &buf); !errors.Is(err, casestore.ErrInvalid) || buf.Len() != 0 {
			t.Errorf("%s: %v (%d bytes written)", name, err, buf.Len())
		}
	}
}

// entry is one tar entry of a crafted backup.
type entry struct {
	hdr  tar.Header
	data []byte
}

// unpack returns the entries of a backup and its files by name.
func unpack(t *testing.T, data []byte) ([]entry, map[string][]byte) {
	t.Helper()
	zr := must[*gzip.Reader](t)(gzip.NewReader(bytes.NewReader(data)))
	tr := tar.NewReader(zr)
	var out []entry
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		b := must[[]byte](t)(io.ReadAll(tr))
		out = append(out, entry{*h, b})
		files[h.Name] = b
	}
	return out, files
}

// pack writes entries as a backup (sizes from the data unless set).
func pack(t testing.TB, es []entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range es {
		h := e.hdr
		if h.Typeflag == tar.TypeReg || h.Typeflag == 0 {
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func reg(name string, data []byte) entry {
	return entry{tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o600}, data}
}

func TestRestoreRefuses(t *testing.T) {
	ctx := context.Background()
	src := open(t, backends[0].dsn(t))
	populate(t, src)
	data, m := backup(t, src)
	es, _ := unpack(t, data)
	clone := func() []entry {
		out := make([]entry, len(es))
		for i, e := range es {
			out[i] = entry{e.hdr, bytes.Clone(e.data)}
		}
		return out
	}
	withManifest := func(es []entry, edit func(m *Manifest)) []entry {
		mm := *m
		mm.Files = append([]FileEntry(nil), m.Files...)
		edit(&mm)
		es[0].data = must[[]byte](t)(marshalManifest(&mm))
		return es
	}
	small := es[len(es)-1]
	if len(small.data) > 100 {
		small = es[len(es)-2]
	}
	for _, tc := range []struct {
		name string
		data func() []byte
		lim  Limits
		want error
		text string
	}{
		{"one byte of store.jsonl", func() []byte {
			es := clone()
			es[1].data[len(es[1].data)/2] ^= 0x20
			return pack(t, es)
		}, Limits{}, ErrCorrupt, "store.jsonl has SHA-256"},
		{"one byte of an exhibit", func() []byte {
			es := clone()
			es[len(es)-1].data[0] ^= 1
			return pack(t, es)
		}, Limits{}, ErrCorrupt, "has SHA-256"},
		{"one byte of the compressed file", func() []byte {
			b := bytes.Clone(data)
			b[len(b)/2] ^= 0x10
			return b
		}, Limits{}, nil, ""},
		{"truncated", func() []byte { return data[:len(data)*2/3] }, Limits{}, ErrCorrupt, ""},
		{"an exhibit missing", func() []byte { return pack(t, clone()[:len(es)-1]) }, Limits{}, ErrCorrupt, "ends before"},
		{"an extra entry", func() []byte { return pack(t, append(clone(), reg("exhibits/extra", []byte("x")))) },
			Limits{}, ErrCorrupt, "not in the manifest"},
		{"entries out of order", func() []byte {
			es := clone()
			es[2], es[3] = es[3], es[2]
			return pack(t, es)
		}, Limits{}, ErrCorrupt, "where the manifest lists"},
		{"manifest not first", func() []byte {
			es := clone()
			es[0], es[1] = es[1], es[0]
			return pack(t, es)
		}, Limits{}, ErrFormat, "first entry"},
		{"symlink", func() []byte {
			es := clone()
			es[2] = entry{tar.Header{Typeflag: tar.TypeSymlink, Name: es[2].hdr.Name, Linkname: "/etc/passwd"}, nil}
			return pack(t, es)
		}, Limits{}, ErrUnsafePath, "symbolic link"},
		{"hard link", func() []byte {
			es := clone()
			es[2] = entry{tar.Header{Typeflag: tar.TypeLink, Name: es[2].hdr.Name, Linkname: "store.jsonl"}, nil}
			return pack(t, es)
		}, Limits{}, ErrUnsafePath, "hard link"},
		{"directory", func() []byte {
			es := clone()
			return pack(t, append(es[:1], append([]entry{{tar.Header{Typeflag: tar.TypeDir, Name: "exhibits/", Mode: 0o700}, nil}},
				es[1:]...)...))
		}, Limits{}, ErrUnsafePath, "directory"},
		{"path traversal", func() []byte {
			es := clone()
			es[1].hdr.Name = "../../store.jsonl"
			return pack(t, es)
		}, Limits{}, ErrUnsafePath, "not a clean relative path"},
		{"absolute path", func() []byte {
			es := clone()
			es[1].hdr.Name = "/tmp/store.jsonl"
			return pack(t, es)
		}, Limits{}, ErrUnsafePath, "not a relative path"},
		{"manifest path traversal", func() []byte {
			return pack(t, withManifest(clone(), func(m *Manifest) { m.Files[1].Path = "exhibits/../../x" }))
		}, Limits{}, ErrFormat, "not exhibits/"},
		{"oversize file", func() []byte { return data }, Limits{MaxFile: 1000}, ErrTooLarge, "limit"},
		{"oversize backup", func() []byte { return data }, Limits{MaxBackup: 1000}, ErrTooLarge, "the backup is over"},
		{"oversize archive", func() []byte { return data }, Limits{MaxUncompressed: 4096}, ErrTooLarge, ""},
		{"too many files", func() []byte { return data }, Limits{MaxFiles: 1}, ErrTooLarge, "lists 2 files"},
		{"oversize manifest", func() []byte { return data }, Limits{MaxManifest: 100}, ErrTooLarge, "manifest.json"},
		{"unknown format", func() []byte {
			return pack(t, withManifest(clone(), func(m *Manifest) { m.Format = "vestigo-backup/2" }))
		}, Limits{}, ErrFormat, `"vestigo-backup/2"`},
		{"another schema", func() []byte {
			return pack(t, withManifest(clone(), func(m *Manifest) { m.SchemaVersion++ }))
		}, Limits{}, ErrFormat, "schema"},
		{"unknown field", func() []byte {
			es := clone()
			es[0].data = bytes.Replace(es[0].data, []byte(`"format"`), []byte(`"extra": 1, "format"`), 1)
			return pack(t, es)
		}, Limits{}, ErrFormat, "unknown field"},
		{"exhibit not in the dump", func() []byte {
			es := clone()
			extra := []byte("not an exhibit")
			sum := sha256.Sum256(extra)
			name := hex.EncodeToString(sum[:])
			es = append(es, reg(ExhibitsDir+name, extra))
			// Keep the manifest's order: this name may sort before the others.
			files := append([]entry{}, es[2:]...)
			for i := range files {
				for j := i + 1; j < len(files); j++ {
					if files[j].hdr.Name < files[i].hdr.Name {
						files[i], files[j] = files[j], files[i]
					}
				}
			}
			es = append(es[:2], files...)
			return pack(t, withManifest(es, func(m *Manifest) {
				m.Exhibits++
				m.Files = []FileEntry{m.Files[0]}
				for _, e := range files {
					s := sha256.Sum256(e.data)
					m.Files = append(m.Files, FileEntry{Path: e.hdr.Name, Size: int64(len(e.data)), SHA256: hex.EncodeToString(s[:])})
				}
			}))
		}, Limits{}, ErrCorrupt, "belong to no exhibit"},
		{"exhibit file left out", func() []byte {
			es := clone()
			drop := small.hdr.Name
			var kept []entry
			for _, e := range es {
				if e.hdr.Name != drop {
					kept = append(kept, e)
				}
			}
			return pack(t, withManifest(kept, func(m *Manifest) {
				m.Exhibits--
				var fs []FileEntry
				for _, f := range m.Files {
					if f.Path != drop {
						fs = append(fs, f)
					}
				}
				m.Files = fs
			}))
		}, Limits{}, ErrCorrupt, "whose file is not in the backup"},
		{"data after the gzip stream", func() []byte { return append(bytes.Clone(data), "trailing"...) },
			Limits{}, ErrCorrupt, "after the end"},
		{"not gzip", func() []byte { return []byte("hello, world") }, Limits{}, ErrFormat, "not gzip"},
		{"gzip, not tar", func() []byte {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			zw.Write([]byte("hello, world"))
			zw.Close()
			return b.Bytes()
		}, Limits{}, ErrFormat, "not a tar"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := open(t, backends[0].dsn(t))
			_, err := Restore(ctx, dst.st, bytes.NewReader(tc.data()), tc.lim)
			switch {
			case err == nil:
				t.Fatal("restored")
			case tc.want == nil && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrFormat):
				t.Fatalf("error %v, want ErrCorrupt or ErrFormat", err)
			case tc.want != nil && !errors.Is(err, tc.want):
				t.Fatalf("error %v, want %v", err, tc.want)
			case !strings.Contains(err.Error(), tc.text) || !strings.HasPrefix(err.Error(), "backup: "):
				t.Fatalf("error %q does not say %q", err, tc.text)
			}
			// Nothing of it reached the store.
			if ags := must[[]casestore.Agency](t)(dst.st.ListAgencies(ctx)); len(ags) != 0 {
				t.Fatalf("a refused restore left %d agencies", len(ags))
			}
			if n := len(exhibitFiles(t, dst.exhibitDir)); n != 0 {
				t.Fatalf("a refused restore wrote %d exhibit files", n)
			}
			// The store takes the intact backup afterwards.
			if _, err := Restore(ctx, dst.st, bytes.NewReader(data), Limits{}); err != nil {
				t.Fatalf("the intact backup after a refused one: %v", err)
			}
		})
	}
}

func TestRestoreNeedsExhibitDir(t *testing.T) {
	ctx := context.Background()
	src := open(t, backends[0].dsn(t))
	populate(t, src)
	data, _ := backup(t, src)
	st, err := casestore.Open(ctx, filepath.Join(t.TempDir(), "c.db"), casestore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := Restore(ctx, st, bytes.NewReader(data), Limits{}); err == nil || !strings.Contains(err.Error(), "ExhibitDir") {
		t.Fatalf("restore without an exhibit directory: %v", err)
	}
	if ags := must[[]casestore.Agency](t)(st.ListAgencies(ctx)); len(ags) != 0 {
		t.Fatal("loaded without an exhibit directory")
	}
}
