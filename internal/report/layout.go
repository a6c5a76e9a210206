package report

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Geometry shared by the renderers, in points (1/72 inch).
const (
	pageWidth        = 595.28 // A4
	pageHeight       = 841.89
	marginX          = 42.0
	contentWidth     = pageWidth - 2*marginX
	maxDiagramHeight = 600.0
	// rotatedWidth is the length of an A4 page's content that a rotated
	// diagram may take (room left for its legend).
	rotatedWidth = pageHeight - 48 - 56 - 48
	nodeW        = 120.0
	nodeH        = 30.0
	nodeFont     = 7.5
	edgeFont     = 6.0
	arrowLen     = 10.0
	diagramPad   = 8.0
)

type point struct{ X, Y float64 }

// drawing is a laid-out diagram: what both renderers draw. Y grows down.
type drawing struct {
	W, H     float64
	NodeFont float64
	EdgeFont float64
	Nodes    []drawNode
	Edges    []drawEdge
}

type drawNode struct {
	X, Y, W, H   float64 // top left, size
	Fill, Stroke string  // #rrggbb
	TX, TY       float64 // the text's centre on its baseline
	Text         string  // the shortened label
	Full         string  // the label in full
}

type drawEdge struct {
	// Curve is a cubic Bézier spline: a start point, then three points
	// (two controls and an end) per segment.
	Curve  []point
	Arrow  [3]point // the arrowhead: tip, then the two base corners
	Label  string
	LX, LY float64 // the label's centre
}

// groups are the node colours by category, in legend order.
var groups = []struct{ name, fill, stroke string }{
	{"exchange", "#dbeafe", "#1d4ed8"},
	{"mixer", "#ede9fe", "#6d28d9"},
	{"sanctioned", "#fee2e2", "#b91c1c"},
	{"ransomware", "#ffedd5", "#c2410c"},
	{"tagged", "#dcfce7", "#15803d"},
	{"untagged", "#f3f4f6", "#4b5563"},
}

// groupOf names a node's colour group from its category.
func groupOf(category string) int {
	switch strings.ToLower(strings.TrimSpace(category)) {
	case "exchange":
		return 0
	case "mixing_service", "mixing", "coinjoin", "mixer":
		return 1
	case "sanction", "sanctioned":
		return 2
	case "ransomware":
		return 3
	case "":
		return 5
	default:
		return 4
	}
}

// shorten keeps labels of up to 16 characters and gives the first 8 and
// last 6 characters of longer ones.
func shorten(s string) string {
	if utf8.RuneCountInString(s) <= 16 {
		return s
	}
	r := []rune(s)
	return string(r[:8]) + "…" + string(r[len(r)-6:])
}

// layoutDiagram places d's nodes and edges in a box at most maxW wide and
// maxH high: in layers left to right (layeredLayout) when d has no
// positions, d's own positions (node centres) scaled into the box
// otherwise.
func layoutDiagram(ctx context.Context, d *Diagram, maxW, maxH float64) (*drawing, error) {
	index := make(map[string]int, len(d.Nodes))
	for i, n := range d.Nodes {
		if _, dup := index[n.ID]; dup {
			return nil, fmt.Errorf("report: %w: diagram %q: node %q appears twice", chain.ErrInvalid, d.Title, n.ID)
		}
		index[n.ID] = i
	}
	ends := make([][2]int, len(d.Edges))
	for i, e := range d.Edges {
		a, ok1 := index[e.From]
		z, ok2 := index[e.To]
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("report: %w: diagram %q: edge %q → %q names a node the diagram lacks", chain.ErrInvalid, d.Title, e.From, e.To)
		}
		ends[i] = [2]int{a, z}
	}
	var (
		centres []point
		curves  [][]point
	)
	if d.HasPos {
		centres = make([]point, len(d.Nodes))
		for i, n := range d.Nodes {
			if math.IsNaN(n.X) || math.IsInf(n.X, 0) || math.IsNaN(n.Y) || math.IsInf(n.Y, 0) {
				return nil, fmt.Errorf("report: %w: diagram %q: node %q has no finite position", chain.ErrInvalid, d.Title, n.ID)
			}
			centres[i] = point{n.X, n.Y}
		}
		curves = straightEdges(centres, ends)
	} else {
		centres = layeredLayout(len(d.Nodes), ends)
		curves = straightEdges(centres, ends)
	}
	return fit(d, centres, curves, maxW, maxH), nil
}

// straightEdges joins node centres with straight lines (as one-segment
// Bézier curves) from the start node's border to an arrow's length before
// the end node's border; a loop is an arc over its node.
func straightEdges(c []point, ends [][2]int) [][]point {
	out := make([][]point, len(ends))
	for i, e := range ends {
		a, z := c[e[0]], c[e[1]]
		if e[0] == e[1] {
			top := a.Y - nodeH/2
			p0 := point{a.X + nodeW/4, top}
			p3 := point{a.X - nodeW/4, top - arrowLen}
			out[i] = []point{p0, {p0.X + 10, top - 40}, {p3.X - 10, top - 40}, p3}
			continue
		}
		dx, dy := z.X-a.X, z.Y-a.Y
		l := math.Hypot(dx, dy)
		if l == 0 {
			dx, dy, l = 1, 0, 1
		}
		ux, uy := dx/l, dy/l
		s := borderDist(ux, uy)
		p0 := point{a.X + ux*s, a.Y + uy*s}
		t := l - borderDist(ux, uy) - arrowLen
		if t < s {
			t = s
		}
		p3 := point{a.X + ux*t, a.Y + uy*t}
		out[i] = []point{p0, lerp(p0, p3, 1.0/3), lerp(p0, p3, 2.0/3), p3}
	}
	return out
}

// borderDist is how far from a node's centre a ray in direction (ux, uy)
// leaves its rectangle.
func borderDist(ux, uy float64) float64 {
	d := math.Inf(1)
	if ux != 0 {
		d = math.Min(d, nodeW/2/math.Abs(ux))
	}
	if uy != 0 {
		d = math.Min(d, nodeH/2/math.Abs(uy))
	}
	return d
}

func lerp(a, b point, t float64) point { return point{a.X + (b.X-a.X)*t, a.Y + (b.Y-a.Y)*t} }

// Gaps between the layers (columns) and between the nodes of a layer of
// a laid-out diagram, in points; the layer gap leaves room for an edge's
// amount and date.
const (
	layerGap = 110.0
	nodeGap  = 22.0
	sweeps   = 4
)

// layeredLayout places n nodes left to right in layers, as a fund flow
// reads: each node one layer after the furthest of its predecessors (edges
// that would close a cycle are left out of the layering), and in each
// layer ordered by the mean position of its neighbours in the layer before
// (then after), over a few sweeps, to keep edges from crossing; the input
// order breaks ties, so the result depends on the diagram alone.
func layeredLayout(n int, ends [][2]int) []point {
	succ := make([][]int, n)
	for _, e := range ends {
		if e[0] != e[1] {
			succ[e[0]] = append(succ[e[0]], e[1])
		}
	}
	// Depth-first search in node order: edges to a node on the stack close
	// a cycle and are dropped from the layering.
	state := make([]int8, n) // 0 unseen, 1 on the stack, 2 done
	dag := make([][]int, n)
	pred := make([][]int, n)
	type frame struct{ v, next int }
	for root := 0; root < n; root++ {
		if state[root] != 0 {
			continue
		}
		stack := []frame{{root, 0}}
		state[root] = 1
		for len(stack) > 0 {
			top := &stack[len(stack)-1]
			if top.next == len(succ[top.v]) {
				state[top.v] = 2
				stack = stack[:len(stack)-1]
				continue
			}
			w := succ[top.v][top.next]
			top.next++
			switch state[w] {
			case 1:
				continue // a back edge
			case 0:
				state[w] = 1
				stack = append(stack, frame{w, 0})
			}
			dag[top.v] = append(dag[top.v], w)
			pred[w] = append(pred[w], top.v)
		}
	}
	// Longest-path layers, in topological order (Kahn, smallest id first).
	indeg := make([]int, n)
	for v := range dag {
		for _, w := range dag[v] {
			indeg[w]++
		}
	}
	layer := make([]int, n)
	var ready []int
	for v := 0; v < n; v++ {
		if indeg[v] == 0 {
			ready = append(ready, v)
		}
	}
	for len(ready) > 0 {
		v := ready[0]
		ready = ready[1:]
		for _, w := range dag[v] {
			layer[w] = max(layer[w], layer[v]+1)
			if indeg[w]--; indeg[w] == 0 {
				ready = append(ready, w)
			}
		}
	}
	depth := 0
	for _, l := range layer {
		depth = max(depth, l+1)
	}
	layers := make([][]int, depth)
	for v := 0; v < n; v++ {
		layers[layer[v]] = append(layers[layer[v]], v)
	}
	pos := make([]float64, n)
	place := func(l []int) {
		for i, v := range l {
			pos[v] = float64(i)
		}
	}
	for _, l := range layers {
		place(l)
	}
	order := func(l []int, nbrs [][]int) {
		key := make(map[int]float64, len(l))
		for _, v := range l {
			if len(nbrs[v]) == 0 {
				key[v] = pos[v]
				continue
			}
			var sum float64
			for _, u := range nbrs[v] {
				sum += pos[u]
			}
			key[v] = sum / float64(len(nbrs[v]))
		}
		sort.SliceStable(l, func(i, j int) bool { return key[l[i]] < key[l[j]] })
		place(l)
	}
	for range sweeps {
		for i := 1; i < depth; i++ {
			order(layers[i], pred)
		}
		for i := depth - 2; i >= 0; i-- {
			order(layers[i], dag)
		}
	}
	centres := make([]point, n)
	for i, l := range layers {
		top := -float64(len(l)-1) * (nodeH + nodeGap) / 2
		for j, v := range l {
			centres[v] = point{float64(i) * (nodeW + layerGap), top + float64(j)*(nodeH+nodeGap)}
		}
	}
	return centres
}

// fit translates and scales the geometry into the box and builds the
// drawing; the arrowhead of each edge continues its last segment by
// arrowLen.
func fit(d *Diagram, centres []point, curves [][]point, maxW, maxH float64) *drawing {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	grow := func(p point, hw, hh float64) {
		minX, maxX = math.Min(minX, p.X-hw), math.Max(maxX, p.X+hw)
		minY, maxY = math.Min(minY, p.Y-hh), math.Max(maxY, p.Y+hh)
	}
	for _, c := range centres {
		grow(c, nodeW/2, nodeH/2)
	}
	for _, cv := range curves {
		for _, p := range cv {
			grow(p, arrowLen, arrowLen)
		}
	}
	w := maxX - minX + 2*diagramPad
	h := maxY - minY + 2*diagramPad
	s := math.Min(1, math.Min(maxW/w, maxH/h))
	tr := func(p point) point {
		return point{round2((p.X - minX + diagramPad) * s), round2((p.Y - minY + diagramPad) * s)}
	}
	dr := &drawing{W: round2(w * s), H: round2(h * s), NodeFont: round2(nodeFont * s), EdgeFont: round2(edgeFont * s)}
	for i, n := range d.Nodes {
		label := n.Label
		if label == "" {
			label = n.ID
		}
		g := groups[groupOf(n.Category)]
		c := tr(centres[i])
		dr.Nodes = append(dr.Nodes, drawNode{X: round2(c.X - nodeW*s/2), Y: round2(c.Y - nodeH*s/2), W: round2(nodeW * s), H: round2(nodeH * s),
			TX: c.X, TY: round2(c.Y + nodeFont*s*0.35), Fill: g.fill, Stroke: g.stroke, Text: shorten(label), Full: label})
	}
	for i, e := range d.Edges {
		pts := make([]point, len(curves[i]))
		for j, p := range curves[i] {
			pts[j] = tr(p)
		}
		end, prev := pts[len(pts)-1], pts[len(pts)-2]
		dx, dy := end.X-prev.X, end.Y-prev.Y
		l := math.Hypot(dx, dy)
		if l == 0 {
			dx, dy, l = 1, 0, 1
		}
		ux, uy := dx/l, dy/l
		al := arrowLen * s
		tip := point{round2(end.X + ux*al), round2(end.Y + uy*al)}
		half := al * 0.35
		arrow := [3]point{tip, {round2(end.X - uy*half), round2(end.Y + ux*half)}, {round2(end.X + uy*half), round2(end.Y - ux*half)}}
		label := e.Amount
		if e.When != "" {
			if label != "" {
				label += " · "
			}
			label += e.When
		}
		mid := bezierAt(pts, 0.5)
		dr.Edges = append(dr.Edges, drawEdge{Curve: pts, Arrow: arrow, Label: label, LX: round2(mid.X), LY: round2(mid.Y - 2*s)})
	}
	return dr
}

// bezierAt evaluates a spline of cubic segments at t in [0, 1].
func bezierAt(p []point, t float64) point {
	segs := (len(p) - 1) / 3
	if segs < 1 {
		return p[0]
	}
	x := t * float64(segs)
	k := min(int(x), segs-1)
	u := x - float64(k)
	a, b, c, d := p[3*k], p[3*k+1], p[3*k+2], p[3*k+3]
	v := 1 - u
	return point{
		v*v*v*a.X + 3*v*v*u*b.X + 3*v*u*u*c.X + u*u*u*d.X,
		v*v*v*a.Y + 3*v*v*u*b.Y + 3*v*u*u*c.Y + u*u*u*d.Y,
	}
}

// round2 rounds to hundredths of a point, so both renderers print the same
// numbers whatever the arithmetic before.
func round2(v float64) float64 { return math.Round(v*100) / 100 }

// num prints a coordinate.
func num(v float64) string { return strconv.FormatFloat(round2(v), 'f', -1, 64) }
