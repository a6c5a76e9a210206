package report

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goitalic"
	"golang.org/x/image/font/gofont/gomono"
	"golang.org/x/image/font/gofont/goregular"
)

// PDF layout, in points.
const (
	marginTop    = 48.0
	marginBottom = 56.0
	footerY      = pageHeight - 30
	bodySize     = 9.5
	smallSize    = 7.5
	monoSize     = 6.5
	cellPad      = 2.5
)

// RenderPDF renders m as a PDF with the Go fonts embedded (UTF-8
// TrueType subsets), vector diagrams, "page N of M" footers and tables
// that break across pages with their headers repeated. The same Model
// gives the same bytes: the document's dates are m.Created, its catalogue
// sorted, its compression fixed, and it has no /ID.
func RenderPDF(m *Model) ([]byte, error) {
	doc, err := build(context.Background(), m)
	if err != nil {
		return nil, err
	}
	// The first pass counts the pages, the second writes "page N of M".
	first, err := writePDF(doc, 0)
	if err != nil {
		return nil, err
	}
	second, err := writePDF(doc, first.pages)
	if err != nil {
		return nil, err
	}
	if second.pages != first.pages {
		return nil, fmt.Errorf("report: pdf: page count changed between passes (%d, %d)", first.pages, second.pages)
	}
	return second.bytes, nil
}

type pdfResult struct {
	bytes []byte
	pages int
}

type pdfWriter struct {
	f     *fpdf.Fpdf
	doc   *document
	c     *catalogue
	total int
	y     float64
}

func writePDF(doc *document, total int) (*pdfResult, error) {
	c, err := catalogueFor(doc.Lang)
	if err != nil {
		return nil, err
	}
	f := fpdf.NewCustom(&fpdf.InitType{OrientationStr: "P", UnitStr: "pt", SizeStr: "A4"})
	f.SetCompression(true)
	f.SetCatalogSort(true)
	f.SetCreationDate(doc.Created)
	f.SetModificationDate(doc.Created)
	f.SetProducer("Vestigo", true)
	f.SetCreator("Vestigo", true)
	f.SetTitle(doc.Title, true)
	f.SetAuthor(doc.Author, true)
	f.SetSubject(doc.Subject, true)
	f.SetLang(doc.Lang)
	f.SetMargins(marginX, marginTop, marginX)
	f.SetAutoPageBreak(false, marginBottom)
	f.AddUTF8FontFromBytes("go", "", goregular.TTF)
	f.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	f.AddUTF8FontFromBytes("go", "I", goitalic.TTF)
	f.AddUTF8FontFromBytes("gomono", "", gomono.TTF)
	w := &pdfWriter{f: f, doc: doc, c: c, total: total}
	f.SetFooterFunc(w.footer)
	w.newPage()
	for i, b := range doc.Blocks {
		w.block(i, b)
		if f.Err() {
			break
		}
	}
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("report: pdf: %v", err)
	}
	pages := f.PageNo()
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		return nil, fmt.Errorf("report: pdf: %v", err)
	}
	return &pdfResult{bytes: buf.Bytes(), pages: pages}, nil
}

func (w *pdfWriter) footer() {
	f := w.f
	f.SetFont("go", "", smallSize)
	f.SetTextColor(75, 85, 99)
	f.SetDrawColor(209, 213, 219)
	f.SetLineWidth(0.5)
	f.Line(marginX, footerY-10, pageWidth-marginX, footerY-10)
	f.Text(marginX, footerY, clip(f, w.doc.Footer, contentWidth*0.6))
	total := "?"
	if w.total > 0 {
		total = strconv.Itoa(w.total)
	}
	s := w.c.t("page.of", "n", strconv.Itoa(f.PageNo()), "total", total)
	f.Text(pageWidth-marginX-f.GetStringWidth(s), footerY, s)
	f.SetTextColor(17, 24, 39)
}

func (w *pdfWriter) newPage() {
	w.f.AddPage()
	w.y = marginTop
}

func (w *pdfWriter) bottom() float64 { return pageHeight - marginBottom }

// need starts a new page unless h points fit below the current position.
func (w *pdfWriter) need(h float64) {
	if w.y+h > w.bottom() && w.y > marginTop {
		w.newPage()
	}
}

func (w *pdfWriter) block(i int, b block) {
	f := w.f
	switch b.Kind {
	case bH1:
		if i > 0 {
			w.newPage()
		}
		size := 16.0
		if b.ID == "cover" {
			size = 22
			w.y += 40
		}
		ft := font{"go", "B", size}
		w.use(ft)
		f.Bookmark(b.Text, 0, w.y)
		w.lines(wrap(f, b.Text, contentWidth), marginX, size*1.25, ft)
		f.SetDrawColor(31, 41, 55)
		f.SetLineWidth(1.2)
		f.Line(marginX, w.y+2, pageWidth-marginX, w.y+2)
		w.y += 12
	case bH2:
		ft := font{"go", "B", 12.5}
		w.need(12.5*1.3*3 + 8)
		w.use(ft)
		w.y += 6
		f.Bookmark(b.Text, 1, w.y)
		w.lines(wrap(f, b.Text, contentWidth), marginX, 12.5*1.3, ft)
		w.y += 3
	case bH3:
		ft := font{"go", "B", 10.5}
		w.need(10.5*1.3*3 + 4)
		w.use(ft)
		w.y += 3
		w.lines(wrap(f, b.Text, contentWidth), marginX, 10.5*1.3, ft)
		w.y += 1
	case bPara:
		w.use(fontBody)
		w.lines(wrap(f, b.Text, contentWidth), marginX, bodySize*1.4, fontBody)
		w.y += 4
	case bList:
		for _, it := range b.Items {
			w.use(fontBody)
			ls := wrap(f, it, contentWidth-12)
			w.need(bodySize * 1.4)
			w.use(fontBody)
			f.Text(marginX+2, w.y+bodySize*1.4*0.78, "•")
			w.lines(ls, marginX+12, bodySize*1.4, fontBody)
		}
		w.y += 4
	case bCode:
		for _, it := range b.Items {
			w.use(fontCode)
			w.lines(wrap(f, it, contentWidth-8), marginX+6, smallSize*1.45, fontCode)
			w.y += 2
		}
		w.y += 4
	case bKV:
		w.kv(b.KV)
	case bTable:
		w.table(b.Table)
	case bDiagram:
		w.diagram(b)
	}
}

// font is a font of the document.
type font struct {
	family, style string
	size          float64
}

var (
	fontBody  = font{"go", "", bodySize}
	fontSmall = font{"go", "", smallSize}
	fontMono  = font{"gomono", "", monoSize}
	fontCode  = font{"gomono", "", smallSize}
)

func (w *pdfWriter) use(ft font) { w.f.SetFont(ft.family, ft.style, ft.size) }

// lines sets wrapped lines in font ft at x, one per lh, breaking pages as
// needed (the footer changes the font, so it is set again after a break).
func (w *pdfWriter) lines(ls []string, x, lh float64, ft font) {
	w.use(ft)
	for _, l := range ls {
		if w.y+lh > w.bottom() {
			w.newPage()
			w.use(ft)
		}
		w.f.Text(x, w.y+lh*0.78, l)
		w.y += lh
	}
}

func (w *pdfWriter) kv(items []kv) {
	f := w.f
	keyW := contentWidth * 0.3
	valW := contentWidth - keyW
	lh := bodySize * 1.35
	for _, it := range items {
		f.SetFont("go", "B", bodySize)
		kl := wrap(f, it.K, keyW-2*cellPad)
		vsize := bodySize
		vfont := "go"
		if it.Mono {
			vfont, vsize = "gomono", smallSize
		}
		f.SetFont(vfont, "", vsize)
		vl := wrap(f, it.V, valW-2*cellPad)
		n := max(len(kl), len(vl))
		for i := 0; i < n; i++ {
			if w.y+lh > w.bottom() {
				w.newPage()
			}
			if i < len(kl) {
				f.SetFont("go", "B", bodySize)
				f.Text(marginX+cellPad, w.y+lh*0.78, kl[i])
			}
			if i < len(vl) {
				f.SetFont(vfont, "", vsize)
				f.Text(marginX+keyW+cellPad, w.y+lh*0.78, vl[i])
			}
			w.y += lh
		}
		f.SetDrawColor(229, 231, 235)
		f.SetLineWidth(0.4)
		f.Line(marginX, w.y+1, pageWidth-marginX, w.y+1)
		w.y += 3
	}
	w.y += 6
}

// table draws t: the non-span columns side by side, each span column as a
// full-width line ("Head: value", the value in mono type) under them. A
// row breaks across pages line by line; each page repeats the header.
func (w *pdfWriter) table(t *table) {
	f := w.f
	var main, spans []int
	total := 0.0
	for i, c := range t.Cols {
		if c.Span {
			spans = append(spans, i)
		} else {
			main = append(main, i)
			total += c.Weight
		}
	}
	widths := make([]float64, len(t.Cols))
	for _, i := range main {
		widths[i] = contentWidth * t.Cols[i].Weight / total
	}
	lh := smallSize * 1.3
	monoLH := monoSize * 1.45
	f.SetFont("go", "B", smallSize)
	headLines := make([][]string, len(t.Cols))
	headN := 1
	for _, i := range main {
		headLines[i] = wrap(f, t.Cols[i].Head, widths[i]-2*cellPad)
		headN = max(headN, len(headLines[i]))
	}
	headH := float64(headN)*lh + 2*cellPad
	header := func() {
		f.SetFillColor(243, 244, 246)
		f.Rect(marginX, w.y, contentWidth, headH, "F")
		f.SetFont("go", "B", smallSize)
		x := marginX
		for _, i := range main {
			for k, l := range headLines[i] {
				tx := x + cellPad
				if t.Cols[i].Right {
					tx = x + widths[i] - cellPad - f.GetStringWidth(l)
				}
				f.Text(tx, w.y+cellPad+float64(k)*lh+lh*0.78, l)
			}
			x += widths[i]
		}
		w.y += headH
	}
	// A line of a row: either line k of the main cells, or a span line.
	type rowLine struct {
		k        int
		spanHead string
		spanText string
		indent   float64
		h        float64
	}
	w.need(headH + 3*lh)
	header()
	for _, r := range t.Rows {
		f.SetFont("go", "", smallSize)
		cells := make([][]string, len(t.Cols))
		n := 1
		for _, i := range main {
			cells[i] = wrap(f, r[i], widths[i]-2*cellPad)
			n = max(n, len(cells[i]))
		}
		var ls []rowLine
		for k := 0; k < n; k++ {
			ls = append(ls, rowLine{k: k, h: lh})
		}
		for _, i := range spans {
			f.SetFont("go", "", smallSize)
			head := t.Cols[i].Head + ": "
			hw := f.GetStringWidth(head)
			f.SetFont("gomono", "", monoSize)
			for j, l := range wrap(f, r[i], contentWidth-2*cellPad-hw) {
				h := head
				if j > 0 {
					h = ""
				}
				ls = append(ls, rowLine{k: -1, spanHead: h, spanText: l, indent: hw, h: monoLH})
			}
		}
		w.y += cellPad / 2
		for _, l := range ls {
			if w.y+l.h > w.bottom() {
				w.newPage()
				header()
				w.y += cellPad / 2
			}
			if l.k >= 0 {
				f.SetFont("go", "", smallSize)
				x := marginX
				for _, i := range main {
					if l.k < len(cells[i]) {
						s := cells[i][l.k]
						tx := x + cellPad
						if t.Cols[i].Right {
							tx = x + widths[i] - cellPad - f.GetStringWidth(s)
						}
						f.Text(tx, w.y+l.h*0.78, s)
					}
					x += widths[i]
				}
			} else {
				w.use(fontSmall)
				x := marginX + cellPad
				if l.spanHead != "" {
					f.SetTextColor(75, 85, 99)
					f.Text(x, w.y+l.h*0.78, l.spanHead)
					f.SetTextColor(17, 24, 39)
				}
				w.use(fontMono)
				f.Text(x+l.indent, w.y+l.h*0.78, l.spanText)
			}
			w.y += l.h
		}
		w.y += cellPad / 2
		f.SetDrawColor(209, 213, 219)
		f.SetLineWidth(0.4)
		f.Line(marginX, w.y, pageWidth-marginX, w.y)
	}
	w.y += 8
}

func (w *pdfWriter) diagram(b block) {
	f := w.f
	d := b.Drawing
	legendH := 16.0
	if b.Rotated {
		// A page of its own, the drawing turned a quarter to the left: its
		// left-to-right flow runs up the page.
		w.newPage()
		ox := marginX + (contentWidth-d.H)/2
		oy := w.y + d.W
		f.TransformBegin()
		f.TransformRotate(90, ox, oy)
		w.draw(d, ox, oy)
		f.TransformEnd()
		w.y = oy + 6
	} else {
		w.need(d.H + legendH + 4)
		ox := marginX + (contentWidth-d.W)/2
		oy := w.y
		w.draw(d, ox, oy)
		w.y = oy + d.H + 6
	}
	// Legend.
	f.SetFont("go", "", smallSize)
	x := marginX
	for _, it := range b.Legend {
		tw := f.GetStringWidth(it.Text)
		if x+14+tw > pageWidth-marginX {
			x = marginX
			w.y += 12
		}
		setColor(f.SetFillColor, it.Fill)
		setColor(f.SetDrawColor, it.Stroke)
		f.SetLineWidth(0.8)
		f.Rect(x, w.y, 10, 8, "FD")
		f.Text(x+14, w.y+7, it.Text)
		x += 14 + tw + 14
	}
	w.y += legendH
}

// draw draws d with its top-left corner at (ox, oy).
func (w *pdfWriter) draw(d *drawing, ox, oy float64) {
	f := w.f
	f.SetDrawColor(55, 65, 81)
	f.SetFillColor(55, 65, 81)
	f.SetLineWidth(0.8)
	for _, e := range d.Edges {
		c := e.Curve
		f.MoveTo(ox+c[0].X, oy+c[0].Y)
		for j := 1; j+2 < len(c); j += 3 {
			f.CurveBezierCubicTo(ox+c[j].X, oy+c[j].Y, ox+c[j+1].X, oy+c[j+1].Y, ox+c[j+2].X, oy+c[j+2].Y)
		}
		f.DrawPath("D")
	}
	for _, e := range d.Edges {
		a := e.Arrow
		f.Polygon([]fpdf.PointType{{X: ox + a[0].X, Y: oy + a[0].Y}, {X: ox + a[1].X, Y: oy + a[1].Y}, {X: ox + a[2].X, Y: oy + a[2].Y}}, "F")
	}
	f.SetFont("go", "", d.EdgeFont)
	for _, e := range d.Edges {
		if e.Label != "" {
			f.Text(ox+e.LX-f.GetStringWidth(e.Label)/2, oy+e.LY, e.Label)
		}
	}
	f.SetLineWidth(1)
	for _, n := range d.Nodes {
		setColor(f.SetFillColor, n.Fill)
		setColor(f.SetDrawColor, n.Stroke)
		f.Rect(ox+n.X, oy+n.Y, n.W, n.H, "FD")
		f.SetFont("go", "", d.NodeFont)
		f.Text(ox+n.TX-f.GetStringWidth(n.Text)/2, oy+n.TY, n.Text)
	}
}

// setColor applies a #rrggbb colour.
func setColor(set func(r, g, b int), hex string) {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil {
		set(0, 0, 0)
		return
	}
	set(int(v>>16&0xff), int(v>>8&0xff), int(v&0xff))
}

// wrap breaks s into lines no wider than width in the current font: at
// spaces where it can, inside a word (a hash, a long label) where it must.
// Newlines in s are kept; control characters are shown as spaces.
func wrap(f *fpdf.Fpdf, s string, width float64) []string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' {
			return r
		}
		if unicode.IsControl(r) || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	var out []string
	for _, para := range strings.Split(s, "\n") {
		out = append(out, wrapLine(f, para, width)...)
	}
	return out
}

func wrapLine(f *fpdf.Fpdf, s string, width float64) []string {
	if f.GetStringWidth(s) <= width {
		return []string{s}
	}
	var out []string
	line := ""
	for _, word := range strings.Split(s, " ") {
		cand := word
		if line != "" {
			cand = line + " " + word
		}
		if f.GetStringWidth(cand) <= width {
			line = cand
			continue
		}
		if line != "" {
			out = append(out, line)
			line = ""
		}
		// The word alone: break it by characters if it is too wide.
		for f.GetStringWidth(word) > width {
			cut, acc := 0, 0.0
			for i, r := range word {
				cw := f.GetStringWidth(string(r))
				if acc+cw > width && i > 0 {
					break
				}
				acc += cw
				cut = i + utf8.RuneLen(r)
			}
			out = append(out, word[:cut])
			word = word[cut:]
		}
		line = word
	}
	if line != "" || len(out) == 0 {
		out = append(out, line)
	}
	return out
}

// clip shortens s with "…" to fit width in the current font.
func clip(f *fpdf.Fpdf, s string, width float64) string {
	if f.GetStringWidth(s) <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && f.GetStringWidth(string(r)+"…") > width {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}
