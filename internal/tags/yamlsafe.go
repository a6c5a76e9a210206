package tags

import (
	"regexp"
	"strconv"

	"gopkg.in/yaml.v3"
)

// yamlNodeBound returns an upper bound of the number of nodes that
// yaml.v3 builds for data, from the raw bytes alone. Every collection entry
// is introduced by an indicator or a line break: the first item of a flow
// collection by '[' or '{', the next ones by ',', a block sequence item by
// '-', a block mapping entry by a line break (or '?' or ':' in flow
// context), and each introduces at most three nodes (the collection it
// opens, a key and a value). Counting those bytes anywhere, also inside
// quoted scalars and comments, can only over-count. Line breaks include
// the Unicode ones yaml.v3 accepts (NEL, LS, PS), whose last bytes are
// 0x85, 0xA8 and 0xA9.
func yamlNodeBound(data []byte) int {
	n := 0
	for _, c := range data {
		switch c {
		case ',', '-', '[', '{', '\n', '\r', '?', ':', 0x85, 0xA8, 0xA9:
			n++
		}
	}
	return 3*n + 3
}

var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// loadYAML parses data into a node tree within the limits: the node bound
// is checked before parsing (so a huge flow sequence is refused in bounded
// memory), and the tree is then walked to reject anchors and aliases (no
// TagPack needs them, and they are what YAML bombs are made of), nesting
// deeper than maxDepth, more than maxNodes nodes, and duplicate mapping keys.
func loadYAML(file string, data []byte, maxNodes, maxDepth int) (*yaml.Node, error) {
	if b := yamlNodeBound(data); b > maxNodes {
		return nil, errAt(file, 0, "YAML document too large: up to %d nodes, the limit is %d", b, maxNodes)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		if m := yamlErrLine.FindStringSubmatch(err.Error()); m != nil {
			line, _ := strconv.Atoi(m[1])
			return nil, errAt(file, line, "malformed YAML: %s", m[2])
		}
		return nil, errAt(file, 0, "malformed YAML: %v", err)
	}
	if doc.Kind == 0 {
		return nil, errAt(file, 1, "empty YAML document")
	}
	w := walker{file: file, maxNodes: maxNodes, maxDepth: maxDepth}
	if err := w.walk(&doc, 0); err != nil {
		return nil, err
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, errAt(file, doc.Line, "expected one YAML document")
	}
	return doc.Content[0], nil
}

type walker struct {
	file               string
	nodes              int
	maxNodes, maxDepth int
}

func (w *walker) walk(n *yaml.Node, depth int) error {
	w.nodes++
	if w.nodes > w.maxNodes {
		return errAt(w.file, n.Line, "YAML document has more than %d nodes", w.maxNodes)
	}
	if depth > w.maxDepth {
		return errAt(w.file, n.Line, "YAML nesting deeper than %d levels", w.maxDepth)
	}
	if n.Kind == yaml.AliasNode {
		return errAt(w.file, n.Line, "YAML alias *%s: anchors and aliases are not allowed", n.Value)
	}
	if n.Anchor != "" {
		return errAt(w.file, n.Line, "YAML anchor &%s: anchors and aliases are not allowed", n.Anchor)
	}
	if n.Kind == yaml.MappingNode {
		if len(n.Content)%2 != 0 {
			return errAt(w.file, n.Line, "malformed YAML mapping")
		}
		seen := make(map[string]bool, len(n.Content)/2)
		for i := 0; i < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind == yaml.ScalarNode {
				if seen[k.Value] {
					return errAt(w.file, k.Line, "duplicate key %q", k.Value)
				}
				seen[k.Value] = true
			}
		}
	}
	for _, c := range n.Content {
		if err := w.walk(c, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// nodeJSON renders a YAML node as JSON (for the context of actors, which
// GraphSense defines as JSON). Scalars that YAML resolves to numbers,
// booleans or null keep that type; everything else is a string.
func nodeJSON(n *yaml.Node, b []byte) []byte {
	switch n.Kind {
	case yaml.MappingNode:
		b = append(b, '{')
		for i := 0; i+1 < len(n.Content); i += 2 {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, n.Content[i].Value)
			b = append(b, ':')
			b = nodeJSON(n.Content[i+1], b)
		}
		return append(b, '}')
	case yaml.SequenceNode:
		b = append(b, '[')
		for i, c := range n.Content {
			if i > 0 {
				b = append(b, ',')
			}
			b = nodeJSON(c, b)
		}
		return append(b, ']')
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!int", "!!float":
			if f, err := strconv.ParseFloat(n.Value, 64); err == nil {
				return strconv.AppendFloat(b, f, 'g', -1, 64)
			}
		case "!!bool":
			var v bool
			if n.Decode(&v) == nil {
				return strconv.AppendBool(b, v)
			}
		case "!!null":
			return append(b, "null"...)
		}
		return appendJSONString(b, n.Value)
	}
	return append(b, "null"...)
}

// appendJSONString appends s as a JSON string.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		case r == 0xFFFD:
			b = append(b, "\ufffd"...)
		default:
			b = append(b, string(r)...)
		}
	}
	return append(b, '"')
}
