package tags

import (
	"regexp"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// parsed is what a parser makes of one file, before it is stored.
type parsed struct {
	format  Format
	title   string
	creator string
	tags    []Tag
	actors  []Actor
	names   map[int64]string // OFAC SDN.CSV: ent_num → name
	notes   []string
}

// limits are the parsers' share of Options.
type limits struct {
	maxNodes, maxDepth int
}

func (o Options) limits() limits { return limits{maxNodes: o.MaxYAMLNodes, maxDepth: o.MaxYAMLDepth} }

func defaultLimits() limits { return Options{}.withDefaults().limits() }

// TagPack fields, after graphsense-tagpack-tool's tagpack_schema.yaml
// (src/tagpack/conf/tagpack_schema.yaml): header-only fields, and tag fields,
// which a header may also carry for every tag to inherit.
var (
	tagPackHeaderFields = map[string]bool{"title": true, "creator": true, "description": true, "owner": true, "is_public": true, "tags": true}
	tagFields           = map[string]bool{
		"label": true, "source": true, "currency": true, "network": true, "context": true,
		"confidence": true, "is_cluster_definer": true, "lastmod": true, "category": true,
		"abuse": true, "address": true, "tx_hash": true, "actor": true, "concepts": true, "tag_type": true,
	}
	actorPackHeaderFields = map[string]bool{"title": true, "creator": true, "description": true, "lastmod": true, "is_public": true, "actors": true}
	actorFields           = map[string]bool{"id": true, "uri": true, "label": true, "lastmod": true, "categories": true, "jurisdictions": true, "context": true, "aliases": true}
)

// scalar returns the text of a scalar node; null and collections are errors.
func scalar(file, field string, n *yaml.Node) (string, error) {
	if n.Kind != yaml.ScalarNode {
		return "", errAt(file, n.Line, "%s: expected a single value", field)
	}
	if n.ShortTag() == "!!null" {
		return "", errAt(file, n.Line, "%s: empty value", field)
	}
	if !cleanText(n.Value) {
		return "", errAt(file, n.Line, "%s: not valid UTF-8 text or holds control characters", field)
	}
	return n.Value, nil
}

func boolean(file, field string, n *yaml.Node) (bool, error) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		return false, errAt(file, n.Line, "%s: expected true or false", field)
	}
	var b bool
	if err := n.Decode(&b); err != nil {
		return false, errAt(file, n.Line, "%s: expected true or false", field)
	}
	return b, nil
}

func strList(file, field string, n *yaml.Node) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, errAt(file, n.Line, "%s: expected a list", field)
	}
	out := make([]string, 0, len(n.Content))
	for _, c := range n.Content {
		s, err := scalar(file, field, c)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

var lastModLayouts = []string{
	"2006-01-02",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04:05.999999999",
	time.RFC3339,
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-1-2",
}

// validDate reports whether s is a date or date-time as TagPacks write
// them ("2021-11-12", "2023-08-16 12:18:52.619444", RFC 3339).
func validDate(s string) bool {
	for _, l := range lastModLayouts {
		if _, err := time.Parse(l, s); err == nil {
			return true
		}
	}
	return false
}

var jurisdictionRe = regexp.MustCompile(`^[A-Z]{2}$`)

// mapping returns the key/value pairs of a mapping node, rejecting fields
// not in allowed.
func mapping(file, what string, n *yaml.Node, allowed ...map[string]bool) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, errAt(file, n.Line, "%s: expected a mapping of fields", what)
	}
	out := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			return nil, errAt(file, k.Line, "%s: field names must be plain text", what)
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a[k.Value]
		}
		if !ok {
			return nil, errAt(file, k.Line, "%s: field %q is not allowed", what, truncate(k.Value, 64))
		}
		out[k.Value] = v
	}
	return out, nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// hasTopKey reports whether a YAML document's root mapping has key k; used
// to tell an ActorPack (actors:) from a TagPack (tags:).
func hasTopKey(root *yaml.Node, k string) bool {
	if root == nil || root.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == k {
			return true
		}
	}
	return false
}

// parseYAMLPack parses a TagPack or an ActorPack, whichever it is.
func parseYAMLPack(file string, data []byte, lim limits) (*parsed, error) {
	root, err := loadYAML(file, data, lim.maxNodes, lim.maxDepth)
	if err != nil {
		return nil, err
	}
	if hasTopKey(root, "actors") {
		return actorPackFromNode(file, root)
	}
	return tagPackFromNode(file, root)
}

// parseTagPack parses a GraphSense TagPack.
func parseTagPack(file string, data []byte, lim limits) (*parsed, error) {
	root, err := loadYAML(file, data, lim.maxNodes, lim.maxDepth)
	if err != nil {
		return nil, err
	}
	return tagPackFromNode(file, root)
}

func parseActorPack(file string, data []byte, lim limits) (*parsed, error) {
	root, err := loadYAML(file, data, lim.maxNodes, lim.maxDepth)
	if err != nil {
		return nil, err
	}
	return actorPackFromNode(file, root)
}

func tagPackFromNode(file string, root *yaml.Node) (*parsed, error) {
	head, err := mapping(file, "TagPack header", root, tagPackHeaderFields, tagFields)
	if err != nil {
		return nil, err
	}
	p := &parsed{format: FormatTagPack}
	for _, f := range []string{"title", "creator", "tags"} {
		if head[f] == nil {
			return nil, errAt(file, root.Line, "TagPack header: mandatory field %q missing", f)
		}
	}
	if p.title, err = scalar(file, "title", head["title"]); err != nil {
		return nil, err
	}
	if p.creator, err = scalar(file, "creator", head["creator"]); err != nil {
		return nil, err
	}
	for _, f := range []string{"description", "owner"} {
		if n := head[f]; n != nil {
			if _, err := scalar(file, f, n); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range []string{"address", "tx_hash"} {
		if n := head[f]; n != nil {
			return nil, errAt(file, n.Line, "TagPack header: %s belongs to each tag, not to the header", f)
		}
	}
	public := false
	if n := head["is_public"]; n != nil {
		if public, err = boolean(file, "is_public", n); err != nil {
			return nil, err
		}
	}
	list := head["tags"]
	if list.Kind != yaml.SequenceNode {
		return nil, errAt(file, list.Line, "tags: expected a list of tags")
	}
	if len(list.Content) == 0 {
		return nil, errAt(file, list.Line, "tags: the list is empty")
	}
	inherited := make(map[string]*yaml.Node)
	for k, v := range head {
		if tagFields[k] {
			inherited[k] = v
		}
	}
	p.tags = make([]Tag, 0, len(list.Content))
	merged := make(map[string]*yaml.Node, len(tagFields))
	for _, tn := range list.Content {
		own, err := mapping(file, "tag", tn, tagFields)
		if err != nil {
			return nil, err
		}
		clear(merged)
		for k, v := range inherited {
			merged[k] = v
		}
		for k, v := range own {
			merged[k] = v
		}
		t, err := buildTag(file, tn.Line, merged)
		if err != nil {
			return nil, err
		}
		t.Creator = p.creator
		t.IsPublic = public
		p.tags = append(p.tags, t)
	}
	return p, nil
}

// buildTag makes a tag of the merged (header and tag) fields and validates
// it against the schema and the taxonomies.
func buildTag(file string, line int, f map[string]*yaml.Node) (Tag, error) {
	t := Tag{Line: line}
	str := func(k string, dst *string) error {
		n := f[k]
		if n == nil {
			return nil
		}
		s, err := scalar(file, k, n)
		if err != nil {
			return err
		}
		*dst = s
		return nil
	}
	for _, k := range []string{"label", "source", "currency", "network", "confidence", "lastmod", "category", "abuse", "address", "tx_hash", "actor", "tag_type"} {
		var dst *string
		switch k {
		case "label":
			dst = &t.Label
		case "source":
			dst = &t.Source
		case "currency":
			dst = &t.Currency
		case "network":
			dst = &t.Network
		case "confidence":
			dst = &t.Confidence
		case "lastmod":
			dst = &t.LastMod
		case "category":
			dst = &t.Category
		case "abuse":
			dst = &t.Abuse
		case "address":
			dst = &t.Address
		case "tx_hash":
			dst = &t.TxHash
		case "actor":
			dst = &t.Actor
		case "tag_type":
			dst = &t.TagType
		}
		if err := str(k, dst); err != nil {
			return t, err
		}
	}
	if n := f["context"]; n != nil {
		if n.Kind == yaml.ScalarNode {
			s, err := scalar(file, "context", n)
			if err != nil {
				return t, err
			}
			t.Context = s
		} else {
			if !cleanTree(n) {
				return t, errAt(file, n.Line, "context: not valid UTF-8 text or holds control characters")
			}
			t.Context = string(nodeJSON(n, nil))
		}
	}
	if n := f["is_cluster_definer"]; n != nil {
		b, err := boolean(file, "is_cluster_definer", n)
		if err != nil {
			return t, err
		}
		t.IsClusterDefiner = b
	}
	if n := f["concepts"]; n != nil {
		cs, err := strList(file, "concepts", n)
		if err != nil {
			return t, err
		}
		for _, c := range cs {
			if !IsConcept(c) {
				return t, errAt(file, n.Line, "unknown concept %q (not in the GraphSense concepts taxonomy)", truncate(c, 64))
			}
		}
		t.Concepts = cs
	}
	at := func(k string) int {
		if n := f[k]; n != nil {
			return n.Line
		}
		return line
	}
	for _, k := range []string{"label", "source", "currency"} {
		if f[k] == nil {
			return t, errAt(file, line, "tag: mandatory field %q missing", k)
		}
	}
	if strings.TrimSpace(t.Label) == "" {
		return t, errAt(file, at("label"), "tag: empty label")
	}
	if t.Confidence == "" {
		t.Confidence = DefaultConfidence // what the GraphSense tool does
	}
	if err := checkTag(file, &t, at, false); err != nil {
		return t, err
	}
	return t, nil
}

// checkTag validates and normalises the fields every format shares:
// currency, address or transaction, confidence, category, abuse, lastmod.
// at gives the line of a field. A tag with a Confidence id gets that id's
// level; one without keeps the ConfidenceLevel the caller set.
func checkTag(file string, t *Tag, at func(string) int, strict bool) error {
	t.Currency = normCurrency(t.Currency)
	if t.Currency == "" {
		return errAt(file, at("currency"), "tag: empty currency")
	}
	if t.Network == "" {
		t.Network = t.Currency
	} else {
		t.Network = normCurrency(t.Network)
	}
	if t.Address == "" && t.TxHash == "" {
		return errAt(file, t.Line, "tag: neither address nor tx_hash")
	}
	if t.Address != "" {
		a, problem, err := checkAddress(file, at("address"), t.Currency, t.Address, strict)
		if err != nil {
			return err
		}
		t.Address, t.AddressProblem = a, problem
	}
	if t.TxHash != "" {
		h, ok := normTxHash(t.TxHash)
		if !ok {
			return errAt(file, at("tx_hash"), "invalid transaction hash %q", truncate(t.TxHash, 130))
		}
		t.TxHash = h
	}
	if t.Confidence != "" {
		l, ok := confidenceLevels[t.Confidence]
		if !ok {
			return errAt(file, at("confidence"), "unknown confidence %q (not in the GraphSense confidence taxonomy)", truncate(t.Confidence, 64))
		}
		t.ConfidenceLevel = l
	}
	if t.ConfidenceLevel < 0 || t.ConfidenceLevel > 100 {
		return errAt(file, at("confidence"), "confidence level %d out of 0..100", t.ConfidenceLevel)
	}
	if t.Category != "" && !IsConcept(t.Category) {
		return errAt(file, at("category"), "unknown category %q (not in the GraphSense concepts taxonomy)", truncate(t.Category, 64))
	}
	if t.Abuse != "" && !IsConcept(t.Abuse) {
		return errAt(file, at("abuse"), "unknown abuse %q (not in the GraphSense concepts taxonomy)", truncate(t.Abuse, 64))
	}
	if t.TagType != "" && !tagTypes[t.TagType] {
		return errAt(file, at("tag_type"), "unknown tag_type %q (actor, event, attribute or mention)", truncate(t.TagType, 64))
	}
	if t.LastMod != "" && !validDate(t.LastMod) {
		return errAt(file, at("lastmod"), "lastmod %q is not a date", truncate(t.LastMod, 64))
	}
	for _, s := range []string{t.Label, t.Source, t.Actor, t.Context, t.Creator} {
		if !cleanText(s) {
			return errAt(file, t.Line, "tag: text is not valid UTF-8 or holds control characters")
		}
	}
	return nil
}

func actorPackFromNode(file string, root *yaml.Node) (*parsed, error) {
	head, err := mapping(file, "ActorPack header", root, actorPackHeaderFields)
	if err != nil {
		return nil, err
	}
	p := &parsed{format: FormatActorPack}
	for _, f := range []string{"title", "creator", "actors"} {
		if head[f] == nil {
			return nil, errAt(file, root.Line, "ActorPack header: mandatory field %q missing", f)
		}
	}
	if p.title, err = scalar(file, "title", head["title"]); err != nil {
		return nil, err
	}
	if p.creator, err = scalar(file, "creator", head["creator"]); err != nil {
		return nil, err
	}
	if n := head["lastmod"]; n != nil {
		s, err := scalar(file, "lastmod", n)
		if err != nil {
			return nil, err
		}
		if !validDate(s) {
			return nil, errAt(file, n.Line, "lastmod %q is not a date", truncate(s, 64))
		}
	}
	if n := head["is_public"]; n != nil {
		if _, err := boolean(file, "is_public", n); err != nil {
			return nil, err
		}
	}
	list := head["actors"]
	if list.Kind != yaml.SequenceNode || len(list.Content) == 0 {
		return nil, errAt(file, list.Line, "actors: expected a non-empty list of actors")
	}
	seen := make(map[string]int, len(list.Content))
	for _, an := range list.Content {
		f, err := mapping(file, "actor", an, actorFields)
		if err != nil {
			return nil, err
		}
		a := Actor{Line: an.Line}
		for _, k := range []string{"id", "label", "uri"} {
			n := f[k]
			if n == nil {
				return nil, errAt(file, an.Line, "actor: mandatory field %q missing", k)
			}
			s, err := scalar(file, k, n)
			if err != nil {
				return nil, err
			}
			switch k {
			case "id":
				a.ID = strings.TrimSpace(s)
			case "label":
				a.Label = s
			case "uri":
				a.URI = s
			}
		}
		if a.ID == "" || strings.TrimSpace(a.Label) == "" {
			return nil, errAt(file, an.Line, "actor: empty id or label")
		}
		if prev, dup := seen[a.ID]; dup {
			return nil, errAt(file, an.Line, "actor %q defined twice (first at line %d)", truncate(a.ID, 64), prev)
		}
		seen[a.ID] = an.Line
		if n := f["lastmod"]; n != nil {
			s, err := scalar(file, "lastmod", n)
			if err != nil {
				return nil, err
			}
			if !validDate(s) {
				return nil, errAt(file, n.Line, "lastmod %q is not a date", truncate(s, 64))
			}
		}
		n := f["categories"]
		if n == nil {
			return nil, errAt(file, an.Line, "actor: mandatory field \"categories\" missing")
		}
		if a.Categories, err = strList(file, "categories", n); err != nil {
			return nil, err
		}
		for _, c := range a.Categories {
			if !IsConcept(c) {
				return nil, errAt(file, n.Line, "unknown category %q (not in the GraphSense concepts taxonomy)", truncate(c, 64))
			}
		}
		if n := f["jurisdictions"]; n != nil {
			if a.Jurisdictions, err = strList(file, "jurisdictions", n); err != nil {
				return nil, err
			}
			for _, j := range a.Jurisdictions {
				if !jurisdictionRe.MatchString(j) {
					return nil, errAt(file, n.Line, "jurisdiction %q is not an ISO 3166 two-letter country code", truncate(j, 64))
				}
			}
		}
		if n := f["aliases"]; n != nil {
			if a.Aliases, err = strList(file, "aliases", n); err != nil {
				return nil, err
			}
		}
		if n := f["context"]; n != nil {
			if n.Kind == yaml.ScalarNode {
				if a.Context, err = scalar(file, "context", n); err != nil {
					return nil, err
				}
			} else {
				if !cleanTree(n) {
					return nil, errAt(file, n.Line, "context: not valid UTF-8 text or holds control characters")
				}
				a.Context = string(nodeJSON(n, nil))
			}
		}
		p.actors = append(p.actors, a)
	}
	return p, nil
}

func cleanTree(n *yaml.Node) bool {
	if !cleanText(n.Value) {
		return false
	}
	for _, c := range n.Content {
		if !cleanTree(c) {
			return false
		}
	}
	return true
}
