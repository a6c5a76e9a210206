package tags

import (
	"fmt"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// billionLaughs is the YAML bomb: nine levels of aliases, each expanding
// nine times the previous one (9^9 "lol"s if a decoder expanded them).
func billionLaughs() string {
	var b strings.Builder
	b.WriteString("title: t\ncreator: c\n")
	b.WriteString(`a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]` + "\n")
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		fmt.Fprintf(&b, "%s: &%s [*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s,*%s]\n", n, n, prev, prev, prev, prev, prev, prev, prev, prev, prev)
		prev = n
	}
	b.WriteString("tags: *i\n")
	return b.String()
}

// bounded runs f and fails the test if it takes longer than d or allocates
// more than maxAlloc bytes.
func bounded(t *testing.T, name string, d time.Duration, maxAlloc uint64, f func() error) error {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- f() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(d):
		t.Fatalf("%s: still running after %v", name, d)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > maxAlloc {
		t.Errorf("%s: allocated %d bytes, bound %d", name, alloc, maxAlloc)
	} else {
		t.Logf("%s: %v, %d bytes allocated", name, time.Since(start), alloc)
	}
	return err
}

func TestYAMLBombs(t *testing.T) {
	lim := defaultLimits()
	huge := "title: t\ncreator: c\ntags: [" + strings.Repeat("1,", 4<<20) + "1]\n" // 8 MiB, 4M items
	cases := []struct {
		name     string
		doc      string
		maxAlloc uint64
		want     string
	}{
		{"billion laughs", billionLaughs(), 1 << 20, "anchors and aliases are not allowed"},
		{"alias", "title: t\ncreator: c\ntags:\n- &x {address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT, label: x}\n- *x\n", 1 << 20, "anchors and aliases are not allowed"},
		{"deep flow", "title: t\ncreator: c\ntags: " + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + "\n", 16 << 20, "nesting deeper than 20"},
		{"deeper flow", "title: t\ncreator: c\ntags: " + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + "\n", 16 << 20, "depth"},
		{"deep block", "title: t\ncreator: c\ntags:\n" + deepBlock(200), 16 << 20, "nesting deeper than 20"},
		{"huge flow sequence", huge, 1 << 20, "YAML document too large"},
		{"many keys", "title: t\ncreator: c\n" + strings.Repeat("a: b\n", 600_000), 1 << 20, "YAML document too large"},
	}
	for _, c := range cases {
		data := []byte(c.doc) // converted outside the measurement
		err := bounded(t, c.name, 10*time.Second, c.maxAlloc, func() error {
			_, err := parseTagPack("bomb.yaml", data, lim)
			return err
		})
		if err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "bomb.yaml") {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// Through Import: refused, nothing stored.
	s := openStore(t, Options{})
	p := writeFile(t, t.TempDir(), "bomb.yaml", billionLaughs())
	res, err := s.Import(ctx0, p, "", t0)
	if err == nil || res[0].Status != StatusFailed || !strings.Contains(res[0].Error, "bomb.yaml:3: YAML anchor &a") {
		t.Fatalf("%+v %v", res, err)
	}
	if count(t, s) != 0 {
		t.Fatal("stored")
	}
	// The node limit is an option; real packs are far below the default.
	small := openStore(t, Options{MaxYAMLNodes: 100})
	if _, err := small.Import(ctx0, filepath.Join(packDir, "lazarus.yaml"), "", t0); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatal(err)
	}
	if b := yamlNodeBound(readFile(t, filepath.Join(packDir, "samourai.yaml"))); b > defaultMaxYAMLNodes/2 {
		t.Fatalf("samourai.yaml bound %d is too close to the default limit", b)
	}
}

// deepBlock nests n block mappings by indentation.
func deepBlock(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		b.WriteString(strings.Repeat(" ", i) + "k:\n")
	}
	b.WriteString(strings.Repeat(" ", n+1) + "v\n")
	return b.String()
}

// TestYAMLNodeBound checks that the bound really bounds: for every real
// pack and a few odd documents, the parsed tree has at most as many nodes.
func TestYAMLNodeBound(t *testing.T) {
	docs := map[string]string{
		"flow map":    "{a, b, c: [1, {d: e}], f: {}}",
		"block":       "a:\n  b:\n  - c\n  - d: e\n    f: g\n? h\n: i\n",
		"multi doc":   "a: 1\n---\nb: 2\n",
		"scalar":      "just text",
		"json":        `{"a":[1,2,{"b":null}],"c":"d"}`,
		"nel":         "a: b\u0085c: d\n",
		"compact":     "- - - a\n    - b\n  - c\n",
		"empty items": "[,]",
	}
	for name, d := range docs {
		n, err := countNodes([]byte(d))
		if err != nil {
			continue // not valid YAML: the parser rejects it anyway
		}
		if b := yamlNodeBound([]byte(d)); n > b {
			t.Errorf("%s: %d nodes, bound %d", name, n, b)
		}
	}
	files, _ := filepath.Glob(filepath.Join(packDir, "*.yaml"))
	for _, f := range files {
		data := readFile(t, f)
		n, err := countNodes(data)
		if err != nil {
			t.Fatal(err)
		}
		if b := yamlNodeBound(data); n > b {
			t.Errorf("%s: %d nodes, bound %d", f, n, b)
		}
	}
}

func TestMalformedYAML(t *testing.T) {
	cases := map[string]string{
		"title: t\ncreator: c\ntags:\n- address: 1abc\n  label: [unclosed\n": `x.yaml:4: malformed YAML: did not find expected ',' or ']'`,
		"title: t\n\tcreator: c\n":                     `x.yaml:2: malformed YAML`,
		"title: t\ncreator: c\ntags:\n- address: 'a\n": `x.yaml:4: malformed YAML`,
		"- a\n- b\n":                         `x.yaml:1: TagPack header: expected a mapping`,
		"":                                   `x.yaml:1: empty YAML document`,
		"title: [t]\ncreator: c\ntags: []\n": `x.yaml:1: title: expected a single value`,
	}
	for doc, want := range cases {
		_, err := parseTagPack("x.yaml", []byte(doc), defaultLimits())
		if err == nil || !strings.Contains(err.Error(), want) || !IsInvalid(err) {
			t.Errorf("%q: %v, want %q", doc, err, want)
		}
	}
	if !regexp.MustCompile(`^tags: \S+x\.yaml:\d+: `).MatchString(fmt.Sprint(func() error {
		_, err := parseTagPack("/some/x.yaml", []byte("a: [\n"), defaultLimits())
		return err
	}())) {
		t.Error("no file:line")
	}
}

func countNodes(data []byte) (int, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return 0, err
	}
	var walk func(*yaml.Node) int
	walk = func(n *yaml.Node) int {
		c := 1
		for _, k := range n.Content {
			c += walk(k)
		}
		return c
	}
	return walk(&doc), nil
}
