package export

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The saved-graph document of the web workspace (web/src/graph/document.js).
const (
	GraphFormat    = "vestigo-graph"
	GraphVersion   = 1
	GraphMediaType = "application/vnd.vestigo.graph+json"
)

// Limits of a saved-graph document, as the web workspace's.
const (
	MaxGraphBytes  = 16 << 20
	maxGraphNodes  = 5000
	maxGraphEdges  = 20000
	maxGraphLabel  = 500
	maxGraphLabels = 50
	maxGraphNote   = 4000
)

// Graph is a fund-flow graph as the exporters write it.
type Graph struct {
	Nodes []Node
	Edges []Edge
}

// Node is a node: an address, a transaction or an entity.
type Node struct {
	ID       string // a:ADDRESS, t:TXID or e:ID
	Kind     string // address, tx or entity
	Ref      string // the address, txid or entity id
	Label    string // the label shown (the reference when the node has none)
	Tags     string // the node's tag labels, joined with "; "
	Category string // GraphSense category
	Chain    string // btc-<network> (btc when unknown) or evm-<chain id>
	Note     string // the investigator's note
	Hidden   bool   // hidden in the graph when it was saved
	// X and Y are the node's position in the saved graph (HasPos false:
	// the document gave none).
	X, Y   float64
	HasPos bool
}

// Edge is a payment: an address into a transaction (kind in), a
// transaction to an address (out), or an address to an address (flow).
type Edge struct {
	ID         string
	Kind       string
	Source     string
	Target     string
	Amount     string // exact, in whole units of the asset ("0.5")
	AmountBase string // exact, in base units (satoshis, wei, token units)
	Asset      string // BTC, or an EVM asset's symbol
	Tx         string
	Time       string // RFC 3339, or ""
}

var graphRE = struct {
	address, tx, entity, network, evmAddress, evmTx, btcTx, base, units, color, time, concept, group, digits *regexp.Regexp
}{
	address:    regexp.MustCompile(`^[A-Za-z0-9_-]{1,130}$`),
	tx:         regexp.MustCompile(`^[0-9a-f]{64}$`),
	entity:     regexp.MustCompile(`^[0-9]{1,18}$`),
	network:    regexp.MustCompile(`^(|mainnet|testnet|testnet4|signet|regtest|evm-[1-9][0-9]{0,18})$`),
	evmAddress: regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`),
	evmTx:      regexp.MustCompile(`^(|0x[0-9a-f]{64})$`),
	btcTx:      regexp.MustCompile(`^(|[0-9a-f]{64})$`),
	base:       regexp.MustCompile(`^(0|[1-9][0-9]{0,79})$`),
	units:      regexp.MustCompile(`^(0|[1-9][0-9]{0,79})(\.[0-9]{0,254}[1-9])?$`),
	color:      regexp.MustCompile(`^(|#[0-9a-fA-F]{6})$`),
	time:       regexp.MustCompile(`^(|\d{4}-\d{2}-\d{2}T[0-9:.]+(Z|[+-]\d{2}:\d{2}))$`),
	concept:    regexp.MustCompile(`^[a-z0-9_]{0,64}$`),
	group:      regexp.MustCompile(`^(|sanctioned|abuse|mixer|darknet|gambling|exchange|defi|service|tagged|untagged)$`),
	digits:     regexp.MustCompile(`^[0-9]{0,18}$`),
}

var (
	filterDayRE = regexp.MustCompile(`^(|\d{4}-\d{2}-\d{2})$`)
	filterMinRE = regexp.MustCompile(`^(|\d{1,8}(\.\d{0,8})?)$`)
)

var graphMarks = map[string]bool{"dest": true, "stop": true, "source": true, "peel": true, "path": true, "trace": true, "coinjoin": true, "sanctioned": true}

type docGraph struct {
	Format  string          `json:"format"`
	Version json.RawMessage `json:"version"`
	Created string          `json:"created"`
	Case    json.RawMessage `json:"case"`
	Group   *bool           `json:"group"`
	Filters *docFilters     `json:"filters"`
	Nodes   []docNode       `json:"nodes"`
	Edges   []docEdge       `json:"edges"`
	Trace   json.RawMessage `json:"trace"`
}

type docFilters struct {
	From string `json:"from"`
	To   string `json:"to"`
	Min  string `json:"min"`
}

type docNode struct {
	ID        string          `json:"id"`
	Kind      string          `json:"kind"`
	Ref       string          `json:"ref"`
	Network   string          `json:"network"`
	Label     string          `json:"label"`
	Labels    []string        `json:"labels"`
	Category  string          `json:"category"`
	Group     string          `json:"group"`
	Entity    string          `json:"entity"`
	Time      string          `json:"time"`
	Coinjoin  bool            `json:"coinjoin"`
	Seed      bool            `json:"seed"`
	Origin    string          `json:"origin"`
	Via       string          `json:"via"`
	Note      string          `json:"note"`
	Color     string          `json:"color"`
	Hidden    bool            `json:"hidden"`
	Collapsed bool            `json:"collapsed"`
	Marks     []string        `json:"marks"`
	X         json.RawMessage `json:"x"`
	Y         json.RawMessage `json:"y"`
}

type docEdge struct {
	ID     string          `json:"id"`
	Kind   string          `json:"kind"`
	Source string          `json:"source"`
	Target string          `json:"target"`
	Amount json.RawMessage `json:"amount"`
	Time   string          `json:"time"`
	Txid   string          `json:"txid"`
	Hop    json.RawMessage `json:"hop"`
	Marks  []string        `json:"marks"`
	EVM    *docEVM         `json:"evm"`
}

type docEVM struct {
	Asset    json.RawMessage `json:"asset"`
	Symbol   string          `json:"symbol"`
	Decimals json.RawMessage `json:"decimals"`
	Amount   string          `json:"amount"`
	Units    string          `json:"units"`
}

// ParseGraph reads a saved-graph document (format vestigo-graph, version
// 1) as strictly as the web workspace does: unknown fields, wrong types,
// malformed references, ids that do not match their node or edge, edges
// to missing nodes or across chains, EVM amounts whose units do not match
// and documents above the limits are refused, naming what is wrong.
func ParseGraph(data []byte) (*Graph, error) {
	if len(data) > MaxGraphBytes {
		return nil, invalid("graph: larger than the limit of a saved graph (%d bytes)", MaxGraphBytes)
	}
	if !utf8.Valid(data) {
		return nil, invalid("graph: not UTF-8 text")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(data, &probe); err != nil {
		return nil, invalid("graph: not a JSON object")
	}
	var f string
	if json.Unmarshal(probe["format"], &f) != nil || f != GraphFormat {
		return nil, invalid("graph: not a Vestigo graph (format)")
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	var doc docGraph
	if err := d.Decode(&doc); err != nil {
		return nil, invalid("graph: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, invalid("graph: more than one JSON value")
	}
	if string(doc.Version) != strconv.Itoa(GraphVersion) {
		return nil, invalid("graph: version %.10s is not supported (expected %d)", doc.Version, GraphVersion)
	}
	if err := checkStr(doc.Created, "created", 40, graphRE.time); err != nil {
		return nil, err
	}
	if !isNull(doc.Case) {
		if _, err := wholeNumber(doc.Case, "case", math.MaxInt64); err != nil {
			return nil, err
		}
	}
	if fl := doc.Filters; fl != nil {
		for _, v := range []struct{ s, where string }{{fl.From, "filters.from"}, {fl.To, "filters.to"}} {
			if err := checkStr(v.s, v.where, 10, filterDayRE); err != nil {
				return nil, err
			}
		}
		if err := checkStr(fl.Min, "filters.min", 20, filterMinRE); err != nil {
			return nil, err
		}
	}
	if doc.Nodes == nil || doc.Edges == nil {
		return nil, invalid("graph: nodes and edges must be lists")
	}
	if len(doc.Nodes) > maxGraphNodes {
		return nil, invalid("graph: more than %d nodes", maxGraphNodes)
	}
	if len(doc.Edges) > maxGraphEdges {
		return nil, invalid("graph: more than %d edges", maxGraphEdges)
	}
	if t := bytes.TrimSpace(doc.Trace); len(t) > 0 && !bytes.Equal(t, []byte("null")) && t[0] != '{' {
		return nil, invalid("graph: trace: not an object")
	}
	g := &Graph{Nodes: make([]Node, 0, len(doc.Nodes)), Edges: make([]Edge, 0, len(doc.Edges))}
	network := map[string]string{}
	for i, n := range doc.Nodes {
		node, err := checkNode(n, fmt.Sprintf("node %d", i+1))
		if err != nil {
			return nil, err
		}
		if _, dup := network[node.ID]; dup {
			return nil, invalid("graph: node %d: duplicate id", i+1)
		}
		network[node.ID] = n.Network
		g.Nodes = append(g.Nodes, node)
	}
	ids := map[string]bool{}
	for i, e := range doc.Edges {
		edge, err := checkEdge(e, fmt.Sprintf("edge %d", i+1), network)
		if err != nil {
			return nil, err
		}
		if ids[edge.ID] {
			return nil, invalid("graph: edge %d: duplicate id", i+1)
		}
		ids[edge.ID] = true
		g.Edges = append(g.Edges, edge)
	}
	return g, nil
}

func checkStr(s, where string, max int, re *regexp.Regexp) error {
	if p := textProblem(s); p != "" {
		return invalid("graph: %s %s", where, p)
	}
	if utf8.RuneCountInString(s) > max {
		return invalid("graph: %s: longer than %d characters", where, max)
	}
	if re != nil && !re.MatchString(s) {
		return invalid("graph: %s: malformed", where)
	}
	return nil
}

// isNull reports a field that is absent or null.
func isNull(raw json.RawMessage) bool { return len(raw) == 0 || string(raw) == "null" }

// wholeNumber reads a JSON number (not a string) that is a whole number
// from 0 to max.
func wholeNumber(raw json.RawMessage, where string, max uint64) (uint64, error) {
	v, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil || v > max {
		return 0, invalid("graph: %s: not a whole number from 0 to %d", where, max)
	}
	return v, nil
}

func checkNode(n docNode, w string) (Node, error) {
	var refRE *regexp.Regexp
	prefix := ""
	switch n.Kind {
	case "address":
		refRE, prefix = graphRE.address, "a:"
	case "tx":
		refRE, prefix = graphRE.tx, "t:"
	case "entity":
		refRE, prefix = graphRE.entity, "e:"
	default:
		return Node{}, invalid("graph: %s: unknown kind", w)
	}
	checks := []struct {
		s, where string
		max      int
		re       *regexp.Regexp
	}{
		{n.Ref, w + ".ref", 130, refRE}, {n.Network, w + ".network", 23, graphRE.network},
		{n.ID, w + ".id", 140, nil}, {n.Label, w + ".label", maxGraphLabel, nil},
		{n.Category, w + ".category", 64, graphRE.concept}, {n.Group, w + ".group", 20, graphRE.group},
		{n.Entity, w + ".entity", 18, graphRE.digits}, {n.Time, w + ".time", 40, graphRE.time},
		{n.Origin, w + ".origin", 140, nil}, {n.Via, w + ".via", 18, graphRE.digits},
		{n.Note, w + ".note", maxGraphNote, nil}, {n.Color, w + ".color", 7, graphRE.color},
	}
	for _, c := range checks {
		if err := checkStr(c.s, c.where, c.max, c.re); err != nil {
			return Node{}, err
		}
	}
	evm := strings.HasPrefix(n.Network, "evm-")
	if evm && (n.Kind != "address" || !graphRE.evmAddress.MatchString(n.Ref)) {
		return Node{}, invalid("graph: %s: a node of an EVM chain is a 0x address", w)
	}
	if !evm && strings.HasPrefix(strings.ToLower(n.Ref), "0x") {
		return Node{}, invalid("graph: %s: a 0x address needs its EVM chain (network evm-<chain id>)", w)
	}
	if n.ID != prefix+n.Ref {
		return Node{}, invalid("graph: %s: id does not match its kind and ref", w)
	}
	if len(n.Labels) > maxGraphLabels {
		return Node{}, invalid("graph: %s.labels: more than %d", w, maxGraphLabels)
	}
	for j, l := range n.Labels {
		if err := checkStr(l, fmt.Sprintf("%s.labels[%d]", w, j), maxGraphLabel, nil); err != nil {
			return Node{}, err
		}
	}
	if err := checkMarks(n.Marks, w+".marks"); err != nil {
		return Node{}, err
	}
	var pos [2]float64
	given := 0
	for i, c := range []struct {
		v     json.RawMessage
		where string
	}{{n.X, w + ".x"}, {n.Y, w + ".y"}} {
		if isNull(c.v) {
			continue
		}
		f, err := strconv.ParseFloat(string(c.v), 64)
		if err != nil || c.v[0] == '"' || math.IsInf(f, 0) || math.Abs(f) > 1e7 {
			return Node{}, invalid("graph: %s: not a coordinate", c.where)
		}
		pos[i] = f
		given++
	}
	chainName := "btc"
	switch {
	case evm:
		chainName = n.Network
	case n.Network != "":
		chainName = "btc-" + n.Network
	}
	label := n.Label
	if label == "" {
		label = n.Ref
	}
	return Node{ID: n.ID, Kind: n.Kind, Ref: n.Ref, Label: label, Tags: strings.Join(n.Labels, "; "), Category: n.Category, Chain: chainName,
		Note: n.Note, Hidden: n.Hidden, X: pos[0], Y: pos[1], HasPos: given == 2}, nil
}

func checkMarks(ms []string, where string) error {
	if len(ms) > len(graphMarks) {
		return invalid("graph: %s: not a list of marks", where)
	}
	for _, m := range ms {
		if !graphMarks[m] {
			return invalid("graph: %s: unknown mark", where)
		}
	}
	return nil
}

func checkEdge(e docEdge, w string, network map[string]string) (Edge, error) {
	switch e.Kind {
	case "in", "out", "flow":
	default:
		return Edge{}, invalid("graph: %s: unknown kind", w)
	}
	for _, c := range []struct{ s, where string }{{e.Source, w + ".source"}, {e.Target, w + ".target"}} {
		if err := checkStr(c.s, c.where, 140, nil); err != nil {
			return Edge{}, err
		}
	}
	sn, ok1 := network[e.Source]
	tn, ok2 := network[e.Target]
	if !ok1 || !ok2 {
		return Edge{}, invalid("graph: %s: joins a node the document lacks", w)
	}
	evm := strings.HasPrefix(sn, "evm-")
	if evm != strings.HasPrefix(tn, "evm-") || evm && sn != tn {
		return Edge{}, invalid("graph: %s: joins nodes of different chains", w)
	}
	txRE := graphRE.btcTx
	if evm {
		txRE = graphRE.evmTx
	}
	if err := checkStr(e.Txid, w+".txid", 66, txRE); err != nil {
		return Edge{}, err
	}
	if err := checkStr(e.Time, w+".time", 40, graphRE.time); err != nil {
		return Edge{}, err
	}
	if evm != (e.EVM != nil) {
		if evm {
			return Edge{}, invalid("graph: %s: an EVM edge lacks its asset and amount", w)
		}
		return Edge{}, invalid("graph: %s: only an edge between EVM addresses has an EVM amount", w)
	}
	if evm && e.Kind != "flow" {
		return Edge{}, invalid("graph: %s: an EVM edge is a flow", w)
	}
	var amount uint64
	if !isNull(e.Amount) {
		var err error
		if amount, err = wholeNumber(e.Amount, w+".amount", 1<<53-1); err != nil {
			return Edge{}, err
		}
	}
	if !isNull(e.Hop) {
		if _, err := wholeNumber(e.Hop, w+".hop", 1000); err != nil {
			return Edge{}, err
		}
	}
	if err := checkMarks(e.Marks, w+".marks"); err != nil {
		return Edge{}, err
	}
	out := Edge{Kind: e.Kind, Source: e.Source, Target: e.Target, Tx: e.Txid, Time: e.Time}
	id := e.Kind + "|" + e.Source + "|" + e.Target + "|" + e.Txid
	if evm {
		if amount != 0 {
			return Edge{}, invalid("graph: %s.amount: an EVM edge's amount is in its evm record", w)
		}
		v := e.EVM
		asset, err := wholeNumber(v.Asset, w+".evm.asset", 0xffffffff)
		if err != nil {
			return Edge{}, err
		}
		dec, err := wholeNumber(v.Decimals, w+".evm.decimals", 255)
		if err != nil {
			return Edge{}, err
		}
		if err := checkStr(v.Symbol, w+".evm.symbol", 64, nil); err != nil {
			return Edge{}, err
		}
		if err := checkStr(v.Amount, w+".evm.amount", 80, graphRE.base); err != nil {
			return Edge{}, err
		}
		if err := checkStr(v.Units, w+".evm.units", 336, graphRE.units); err != nil {
			return Edge{}, err
		}
		if BaseToUnits(v.Amount, int(dec)) != v.Units {
			return Edge{}, invalid("graph: %s.evm: units do not match the amount and decimals", w)
		}
		id += "|" + strconv.FormatUint(asset, 10)
		out.Amount, out.AmountBase, out.Asset = v.Units, v.Amount, v.Symbol
		if out.Asset == "" {
			out.Asset = "asset " + strconv.FormatUint(asset, 10)
		}
	} else {
		base := strconv.FormatUint(amount, 10)
		out.Amount, out.AmountBase, out.Asset = BaseToUnits(base, 8), base, "BTC"
	}
	if err := checkStr(e.ID, w+".id", 400, nil); err != nil {
		return Edge{}, err
	}
	if e.ID != id {
		return Edge{}, invalid("graph: %s: id does not match the edge", w)
	}
	out.ID = id
	return out, nil
}

// BaseToUnits writes base units (a string of digits) in whole units of
// decimals, exactly and without trailing zeros ("1500000", 6 → "1.5");
// "" when base is not a string of digits.
func BaseToUnits(base string, decimals int) string {
	if base == "" || strings.Trim(base, "0123456789") != "" || decimals < 0 {
		return ""
	}
	trim := func(s string) string {
		s = strings.TrimLeft(s, "0")
		if s == "" {
			return "0"
		}
		return s
	}
	if decimals == 0 {
		return trim(base)
	}
	if len(base) < decimals+1 {
		base = strings.Repeat("0", decimals+1-len(base)) + base
	}
	whole, frac := trim(base[:len(base)-decimals]), strings.TrimRight(base[len(base)-decimals:], "0")
	if frac == "" {
		return whole
	}
	return whole + "." + frac
}
