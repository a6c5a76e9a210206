package export

import (
	"encoding/xml"
	"fmt"
	"io"
)

// Media types of the graph formats.
const (
	MediaTypeGraphML = "application/graphml+xml"
	MediaTypeGEXF    = "application/gexf+xml"
)

// attribute is one attribute of nodes or edges, declared once and given
// for each node or edge.
type attribute[T any] struct {
	name string
	get  func(*T) string
}

var nodeAttrs = []attribute[Node]{
	{"label", func(n *Node) string { return n.Label }},
	{"kind", func(n *Node) string { return n.Kind }},
	{"ref", func(n *Node) string { return n.Ref }},
	{"category", func(n *Node) string { return n.Category }},
	{"chain", func(n *Node) string { return n.Chain }},
	{"tags", func(n *Node) string { return n.Tags }},
}

var edgeAttrs = []attribute[Edge]{
	{"kind", func(e *Edge) string { return e.Kind }},
	{"amount", func(e *Edge) string { return e.Amount }},
	{"amount_base", func(e *Edge) string { return e.AmountBase }},
	{"asset", func(e *Edge) string { return e.Asset }},
	{"tx", func(e *Edge) string { return e.Tx }},
	{"time", func(e *Edge) string { return e.Time }},
}

// checkGraph refuses text XML cannot carry and edges to missing nodes.
func checkGraph(g *Graph) error {
	ids := make(map[string]bool, len(g.Nodes))
	for i := range g.Nodes {
		n := &g.Nodes[i]
		if n.ID == "" || ids[n.ID] {
			return invalid("node %d: empty or duplicate id", i+1)
		}
		ids[n.ID] = true
		for _, a := range append([]attribute[Node]{{"id", func(n *Node) string { return n.ID }}}, nodeAttrs...) {
			if p := textProblem(a.get(n)); p != "" {
				return invalid("node %d: %s %s", i+1, a.name, p)
			}
		}
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		if !ids[e.Source] || !ids[e.Target] {
			return invalid("edge %d: joins a node the graph lacks", i+1)
		}
		for _, a := range append([]attribute[Edge]{{"id", func(e *Edge) string { return e.ID }}}, edgeAttrs...) {
			if p := textProblem(a.get(e)); p != "" {
				return invalid("edge %d: %s %s", i+1, a.name, p)
			}
		}
	}
	return nil
}

type gmlDoc struct {
	XMLName        xml.Name `xml:"graphml"`
	XMLNS          string   `xml:"xmlns,attr"`
	XSI            string   `xml:"xmlns:xsi,attr"`
	SchemaLocation string   `xml:"xsi:schemaLocation,attr"`
	Keys           []gmlKey `xml:"key"`
	Graph          gmlGraph `xml:"graph"`
}

type gmlKey struct {
	ID   string `xml:"id,attr"`
	For  string `xml:"for,attr"`
	Name string `xml:"attr.name,attr"`
	Type string `xml:"attr.type,attr"`
}

type gmlGraph struct {
	ID          string    `xml:"id,attr"`
	EdgeDefault string    `xml:"edgedefault,attr"`
	Nodes       []gmlNode `xml:"node"`
	Edges       []gmlEdge `xml:"edge"`
}

type gmlData struct {
	Key   string `xml:"key,attr"`
	Value string `xml:",chardata"`
}

type gmlNode struct {
	ID   string    `xml:"id,attr"`
	Data []gmlData `xml:"data"`
}

type gmlEdge struct {
	ID     string    `xml:"id,attr"`
	Source string    `xml:"source,attr"`
	Target string    `xml:"target,attr"`
	Data   []gmlData `xml:"data"`
}

// GraphML writes g as GraphML (directed; every attribute a declared
// string key: nodes' label, kind, ref, category, chain and tags, edges'
// kind, amount, amount_base, asset, tx and time). Gephi, yEd and Maltego
// read it.
func GraphML(w io.Writer, g *Graph) error {
	if err := checkGraph(g); err != nil {
		return err
	}
	doc := gmlDoc{XMLNS: "http://graphml.graphdrawing.org/xmlns", XSI: "http://www.w3.org/2001/XMLSchema-instance",
		SchemaLocation: "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
		Graph:          gmlGraph{ID: "G", EdgeDefault: "directed"}}
	for _, a := range nodeAttrs {
		doc.Keys = append(doc.Keys, gmlKey{ID: "n_" + a.name, For: "node", Name: a.name, Type: "string"})
	}
	for _, a := range edgeAttrs {
		doc.Keys = append(doc.Keys, gmlKey{ID: "e_" + a.name, For: "edge", Name: a.name, Type: "string"})
	}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		gn := gmlNode{ID: n.ID}
		for _, a := range nodeAttrs {
			gn.Data = append(gn.Data, gmlData{Key: "n_" + a.name, Value: a.get(n)})
		}
		doc.Graph.Nodes = append(doc.Graph.Nodes, gn)
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		ge := gmlEdge{ID: e.ID, Source: e.Source, Target: e.Target}
		for _, a := range edgeAttrs {
			ge.Data = append(ge.Data, gmlData{Key: "e_" + a.name, Value: a.get(e)})
		}
		doc.Graph.Edges = append(doc.Graph.Edges, ge)
	}
	return writeXML(w, doc, "graphml")
}

type gexfDoc struct {
	XMLName        xml.Name  `xml:"gexf"`
	XMLNS          string    `xml:"xmlns,attr"`
	XSI            string    `xml:"xmlns:xsi,attr"`
	SchemaLocation string    `xml:"xsi:schemaLocation,attr"`
	Version        string    `xml:"version,attr"`
	Meta           gexfMeta  `xml:"meta"`
	Graph          gexfGraph `xml:"graph"`
}

type gexfMeta struct {
	Creator     string `xml:"creator"`
	Description string `xml:"description"`
}

type gexfGraph struct {
	DefaultEdgeType string           `xml:"defaultedgetype,attr"`
	Mode            string           `xml:"mode,attr"`
	Attributes      []gexfAttributes `xml:"attributes"`
	Nodes           []gexfNode       `xml:"nodes>node"`
	Edges           []gexfEdge       `xml:"edges>edge"`
}

type gexfAttributes struct {
	Class string          `xml:"class,attr"`
	Attrs []gexfAttribute `xml:"attribute"`
}

type gexfAttribute struct {
	ID    string `xml:"id,attr"`
	Title string `xml:"title,attr"`
	Type  string `xml:"type,attr"`
}

type gexfValue struct {
	For   string `xml:"for,attr"`
	Value string `xml:"value,attr"`
}

type gexfNode struct {
	ID     string      `xml:"id,attr"`
	Label  string      `xml:"label,attr"`
	Values []gexfValue `xml:"attvalues>attvalue"`
}

type gexfEdge struct {
	ID     string      `xml:"id,attr"`
	Source string      `xml:"source,attr"`
	Target string      `xml:"target,attr"`
	Values []gexfValue `xml:"attvalues>attvalue"`
}

// GEXF writes g as GEXF 1.2 (Gephi's own format): nodes with their label
// and the attributes kind, ref, category, chain and tags; directed edges
// with kind, amount, amount_base, asset, tx and time.
func GEXF(w io.Writer, g *Graph) error {
	if err := checkGraph(g); err != nil {
		return err
	}
	doc := gexfDoc{XMLNS: "http://www.gexf.net/1.2draft", XSI: "http://www.w3.org/2001/XMLSchema-instance",
		SchemaLocation: "http://www.gexf.net/1.2draft http://www.gexf.net/1.2draft/gexf.xsd", Version: "1.2",
		Meta:  gexfMeta{Creator: "Vestigo", Description: "fund-flow graph"},
		Graph: gexfGraph{DefaultEdgeType: "directed", Mode: "static"}}
	na := gexfAttributes{Class: "node"}
	for _, a := range nodeAttrs[1:] { // the label is the node's own
		na.Attrs = append(na.Attrs, gexfAttribute{ID: a.name, Title: a.name, Type: "string"})
	}
	ea := gexfAttributes{Class: "edge"}
	for _, a := range edgeAttrs {
		ea.Attrs = append(ea.Attrs, gexfAttribute{ID: a.name, Title: a.name, Type: "string"})
	}
	doc.Graph.Attributes = []gexfAttributes{na, ea}
	for i := range g.Nodes {
		n := &g.Nodes[i]
		gn := gexfNode{ID: n.ID, Label: n.Label}
		for _, a := range nodeAttrs[1:] {
			gn.Values = append(gn.Values, gexfValue{For: a.name, Value: a.get(n)})
		}
		doc.Graph.Nodes = append(doc.Graph.Nodes, gn)
	}
	for i := range g.Edges {
		e := &g.Edges[i]
		ge := gexfEdge{ID: e.ID, Source: e.Source, Target: e.Target}
		for _, a := range edgeAttrs {
			ge.Values = append(ge.Values, gexfValue{For: a.name, Value: a.get(e)})
		}
		doc.Graph.Edges = append(doc.Graph.Edges, ge)
	}
	return writeXML(w, doc, "gexf")
}

func writeXML(w io.Writer, doc any, what string) error {
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("export: %s: %w", what, err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("export: %s: %w", what, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("export: %s: %w", what, err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("export: %s: %w", what, err)
	}
	return nil
}
