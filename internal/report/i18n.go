package report

import (
	"embed"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

//go:embed i18n/*.json
var catalogueFiles embed.FS

// languages are the report languages, in the order Languages gives them.
var languages = []string{"en", "sq", "mk", "sr", "sr-Latn"}

// Languages returns the languages a report can be written in: en (English),
// sq (Albanian), mk (Macedonian), sr (Serbian, Cyrillic) and sr-Latn
// (Serbian, Latin).
func Languages() []string { return slices.Clone(languages) }

// catalogue is one language's texts: key → text with {name} placeholders.
type catalogue struct {
	lang  string
	texts map[string]string
}

var (
	cataloguesOnce sync.Once
	catalogues     map[string]*catalogue
	cataloguesErr  error
)

// placeholder matches a {name} placeholder of a catalogue text.
var placeholder = regexp.MustCompile(`\{[a-zA-Z]+\}`)

// loadCatalogues reads the embedded catalogues once.
func loadCatalogues() (map[string]*catalogue, error) {
	cataloguesOnce.Do(func() {
		catalogues = map[string]*catalogue{}
		for _, l := range languages {
			b, err := catalogueFiles.ReadFile("i18n/" + l + ".json")
			if err != nil {
				cataloguesErr = fmt.Errorf("report: catalogue %s: %v", l, err)
				return
			}
			c := &catalogue{lang: l, texts: map[string]string{}}
			if err := json.Unmarshal(b, &c.texts); err != nil {
				cataloguesErr = fmt.Errorf("report: catalogue %s: %v", l, err)
				return
			}
			catalogues[l] = c
		}
	})
	return catalogues, cataloguesErr
}

// catalogueFor returns the catalogue of a language, or an error wrapping
// chain.ErrInvalid for a language Languages does not list.
func catalogueFor(lang string) (*catalogue, error) {
	cs, err := loadCatalogues()
	if err != nil {
		return nil, err
	}
	c, ok := cs[lang]
	if !ok {
		return nil, fmt.Errorf("report: %w: language %q is not one of %s", chain.ErrInvalid, lang, strings.Join(languages, ", "))
	}
	return c, nil
}

// has reports whether the catalogue holds key.
func (c *catalogue) has(key string) bool {
	_, ok := c.texts[key]
	return ok
}

// t returns the text of key with its placeholders replaced: args are
// name, value pairs. Values are inserted as they are (data stays data: the
// renderers escape the result as a whole). A key the catalogue lacks gives
// the key itself, which the catalogue tests rule out for every key the
// renderers use.
func (c *catalogue) t(key string, args ...string) string {
	s, ok := c.texts[key]
	if !ok {
		return key
	}
	if len(args) == 0 {
		return s
	}
	vals := map[string]string{}
	for i := 0; i+1 < len(args); i += 2 {
		vals[args[i]] = args[i+1]
	}
	// One pass, so that a value holding "{name}" is never expanded again.
	return placeholder.ReplaceAllStringFunc(s, func(p string) string {
		if v, ok := vals[p[1:len(p)-1]]; ok {
			return v
		}
		return p
	})
}

// name returns the catalogue's name for an identifier of a kind
// (category, typology, model, findingKind, direction), or the identifier
// itself when the catalogue has none (a category of a newer taxonomy).
func (c *catalogue) name(kind, id string) string {
	if id == "" {
		return c.t("value.none")
	}
	if s, ok := c.texts[kind+"."+id]; ok {
		return s
	}
	return id
}
