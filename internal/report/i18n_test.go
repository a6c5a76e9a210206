package report

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

func TestCataloguesComplete(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	en := cs["en"]
	for _, l := range Languages() {
		c, ok := cs[l]
		if !ok {
			t.Fatalf("no catalogue %s", l)
		}
		for k, v := range en.texts {
			tv, ok := c.texts[k]
			if !ok {
				t.Errorf("%s lacks %q", l, k)
				continue
			}
			if strings.TrimSpace(tv) == "" {
				t.Errorf("%s: %q is empty", l, k)
			}
			want, got := placeholder.FindAllString(v, -1), placeholder.FindAllString(tv, -1)
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				t.Errorf("%s: %q has placeholders %v, English %v", l, k, got, want)
			}
		}
		for k := range c.texts {
			if _, ok := en.texts[k]; !ok {
				t.Errorf("%s has %q, which English lacks", l, k)
			}
		}
	}
	// Every method the Model documents has a name, description and limits.
	for _, id := range []string{"cospend", "change", "coinjoin", "taint.haircut", "taint.fifo", "taint.poison", "path", "patterns",
		"deposit", "exposure", "risk", "screen", "attribution"} {
		for _, part := range []string{"name", "desc", "limits"} {
			if !en.has("method." + id + "." + part) {
				t.Errorf("no method.%s.%s", id, part)
			}
		}
	}
	// Category names are concepts of the tag taxonomy.
	n := 0
	for k := range en.texts {
		if id, ok := strings.CutPrefix(k, "category."); ok {
			n++
			if !tags.IsConcept(id) {
				t.Errorf("category %q is not a concept of the tag taxonomy", id)
			}
		}
	}
	if n < 70 {
		t.Errorf("only %d categories named", n)
	}
	// The translations are translations: most texts differ from English.
	for _, l := range []string{"sq", "mk", "sr", "sr-Latn"} {
		same := 0
		for k, v := range en.texts {
			if cs[l].texts[k] == v {
				same++
			}
		}
		if same > len(en.texts)/8 {
			t.Errorf("%s: %d of %d texts are the English ones", l, same, len(en.texts))
		}
	}
}

func TestUnknownLanguage(t *testing.T) {
	for _, l := range []string{"", "de", "sr-Cyrl-XX", "EN"} {
		if _, err := catalogueFor(l); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("language %q: %v, want ErrInvalid", l, err)
		}
	}
	m := richModel(t)
	m.Lang = "fr"
	if _, err := RenderHTML(m); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("RenderHTML fr: %v", err)
	}
	if _, err := RenderPDF(m); !errors.Is(err, chain.ErrInvalid) {
		t.Errorf("RenderPDF fr: %v", err)
	}
}

// TestFontCoverage checks that the embedded fonts have a glyph for every
// character of every catalogue (bold for headings, regular for text) and
// for the characters the renderers add.
func TestFontCoverage(t *testing.T) {
	cs, err := loadCatalogues()
	if err != nil {
		t.Fatal(err)
	}
	fonts := map[string][]byte{"regular": goregular.TTF, "bold": gobold.TTF, "italic": goitalic.TTF, "mono": gomono.TTF}
	for name, b := range fonts {
		f, err := sfnt.Parse(b)
		if err != nil {
			t.Fatal(err)
		}
		var buf sfnt.Buffer
		check := func(where string, s string) {
			for _, r := range s {
				if r == '\n' || r == ' ' {
					continue
				}
				gi, err := f.GlyphIndex(&buf, r)
				if err != nil || gi == 0 {
					t.Errorf("font %s has no glyph for %q (U+%04X) of %s", name, r, r, where)
				}
			}
		}
		check("the renderers", "•…·—→0123456789abcdef#:")
		if name == "mono" || name == "italic" {
			check("hex and addresses", "0123456789abcdefABCDEFxqpzry")
			continue
		}
		for l, c := range cs {
			for k, v := range c.texts {
				check(l+":"+k, v)
			}
		}
	}
}
