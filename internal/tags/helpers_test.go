package tags

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

var (
	ctx0    = context.Background()
	t0      = time.Date(2026, 5, 20, 12, 0, 0, 0, time.UTC)
	packDir = filepath.Join("testdata", "graphsense-tagpacks")
)

func openStore(t *testing.T, opt Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "tags.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustImport(t *testing.T, s *Store, path string, f Format) []FileResult {
	t.Helper()
	res, err := s.Import(ctx0, path, f, t0)
	if err != nil {
		t.Fatalf("import %s: %v", path, err)
	}
	return res
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func count(t *testing.T, s *Store) int {
	t.Helper()
	n, err := s.Count(ctx0)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// packTags returns the tags of one stored pack, through ByAddress of its
// addresses (so the query path is exercised too).
func packTags(t *testing.T, s *Store, name string) []Tag {
	t.Helper()
	rows, err := s.db.Query(`SELECT DISTINCT t.address FROM tags t JOIN packs p ON p.id = t.pack_id WHERE p.name = ?`, name)
	if err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			t.Fatal(err)
		}
		addrs = append(addrs, a)
	}
	rows.Close()
	by, err := s.ByAddress(ctx0, addrs)
	if err != nil {
		t.Fatal(err)
	}
	var out []Tag
	for _, a := range addrs {
		for _, tg := range by[a] {
			if tg.Pack.Name == name {
				out = append(out, tg)
			}
		}
	}
	return out
}

// addressLines counts the tags of a TagPack by a method independent of the
// parser: lines whose key is address (as "- address:" or "  address:").
var addressLine = regexp.MustCompile(`(?m)^\s*(- )?address:`)

func addressLines(t *testing.T, path string) int {
	return len(addressLine.FindAll(readFile(t, path), -1))
}

func result(t *testing.T, res []FileResult, name string) FileResult {
	t.Helper()
	for _, r := range res {
		if r.Name == name {
			return r
		}
	}
	t.Fatalf("no result for %s in %+v", name, res)
	return FileResult{}
}

func readFileErr(path string) ([]byte, error) { return os.ReadFile(path) }
