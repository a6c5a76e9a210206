package report

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// The renderers share one document: the Model worded in the report's
// language as a list of blocks. HTML and PDF draw the same blocks, so they
// hold the same sections, sentences and tables.

// block kinds.
const (
	bH1      = "h1"
	bH2      = "h2"
	bH3      = "h3"
	bPara    = "p"
	bKV      = "kv"
	bTable   = "table"
	bList    = "list"
	bCode    = "code" // a list of commands, in mono type
	bDiagram = "diagram"
)

type block struct {
	Kind    string
	ID      string // anchor of headings
	Text    string
	Items   []string
	KV      []kv
	Table   *table
	Drawing *drawing
	// Rotated diagrams are wide ones the PDF turns a quarter to the left
	// on a page of their own, so they print larger.
	Rotated bool
	Legend  []legendItem
	Caption string // the diagram's accessible name
}

type kv struct {
	K, V string
	Mono bool
}

// table is a table of text. In the PDF, Span columns are set as full-width
// lines under the row's other cells (long hashes stay on one line); HTML
// shows every column in order.
type table struct {
	Cols []column
	Rows [][]string
}

type column struct {
	Head   string
	Mono   bool
	Span   bool
	Right  bool
	Weight float64 // relative width among the non-span columns (PDF)
}

type legendItem struct {
	Text         string
	Fill, Stroke string
}

// document is a Model worded in a language.
type document struct {
	Lang    string
	Title   string
	Footer  string
	Blocks  []block
	Digest  string
	Created time.Time
	Author  string
	Subject string
}

// validate checks what the renderers rely on.
func validate(m *Model, c *catalogue) error {
	if m == nil {
		return fmt.Errorf("report: %w: no model", chain.ErrInvalid)
	}
	if m.Format != FormatVersion {
		return fmt.Errorf("report: %w: model format %q, want %q", chain.ErrInvalid, m.Format, FormatVersion)
	}
	if m.Created.IsZero() {
		return fmt.Errorf("report: %w: the model has no creation time", chain.ErrInvalid)
	}
	for _, me := range m.Methodology {
		if !c.has("method." + me.ID + ".name") {
			return fmt.Errorf("report: %w: method %q has no description and limits in the catalogue", chain.ErrInvalid, me.ID)
		}
	}
	return nil
}

// build words m in its language and lays out its diagrams.
func build(ctx context.Context, m *Model) (*document, error) {
	if m == nil {
		return nil, fmt.Errorf("report: %w: no model", chain.ErrInvalid)
	}
	c, err := catalogueFor(m.Lang)
	if err != nil {
		return nil, err
	}
	if err := validate(m, c); err != nil {
		return nil, err
	}
	b := &builder{c: c, m: m}
	if err := b.all(ctx); err != nil {
		return nil, err
	}
	title := c.t("report.title")
	return &document{Lang: m.Lang, Title: title + " — " + m.Case.Ref, Blocks: b.blocks, Digest: m.Digest,
		Created: m.Created.UTC(), Author: m.Case.Author, Subject: m.Case.Title,
		Footer: m.Case.Ref + " · SHA-256 " + shortHash(m.Digest)}, nil
}

type builder struct {
	c      *catalogue
	m      *Model
	blocks []block
}

func (b *builder) add(bl block)                   { b.blocks = append(b.blocks, bl) }
func (b *builder) para(s string)                  { b.add(block{Kind: bPara, Text: s}) }
func (b *builder) heading(kind, id, s string)     { b.add(block{Kind: kind, ID: id, Text: s}) }
func (b *builder) t(k string, a ...string) string { return b.c.t(k, a...) }

func (b *builder) all(ctx context.Context) error {
	b.cover()
	b.summary()
	if err := b.diagrams(ctx); err != nil {
		return err
	}
	b.findings()
	b.addresses()
	b.methodology()
	b.provenance()
	b.prices()
	b.annex()
	return nil
}

// orNone gives the catalogue's "none" for empty text.
func (b *builder) orNone(s string) string {
	if s == "" {
		return b.t("value.none")
	}
	return s
}

func (b *builder) time(t time.Time) string {
	if t.IsZero() {
		return b.t("value.none")
	}
	return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
}

func (b *builder) amount(a Amount) string {
	if a.Units == "" && a.Base == "" {
		return b.t("value.none")
	}
	v := a.Units
	if v == "" {
		v = a.Base
	}
	if a.Symbol != "" {
		v += " " + a.Symbol
	}
	return v
}

// fiat appends the amount's fiat values ("EUR 12.30") in currency order.
func (b *builder) amountWithFiat(a Amount) string {
	s := b.amount(a)
	if len(a.Fiat) == 0 {
		return s
	}
	curs := make([]string, 0, len(a.Fiat))
	for k := range a.Fiat {
		curs = append(curs, k)
	}
	slices.Sort(curs)
	parts := make([]string, len(curs))
	for i, k := range curs {
		parts[i] = a.Fiat[k] + " " + k
	}
	return s + " (" + strings.Join(parts, ", ") + ")"
}

func (b *builder) cover() {
	m, c := b.m, b.m.Case
	b.heading(bH1, "cover", b.t("report.title"))
	b.para(b.t("report.subtitle"))
	agency := c.Agency
	if c.AgencyCode != "" {
		agency += " (" + c.AgencyCode + ")"
	}
	b.add(block{Kind: bKV, KV: []kv{
		{K: b.t("cover.ref"), V: b.orNone(c.Ref)},
		{K: b.t("cover.title"), V: b.orNone(c.Title)},
		{K: b.t("cover.agency"), V: b.orNone(agency)},
		{K: b.t("cover.author"), V: b.orNone(c.Author)},
		{K: b.t("cover.legalBasis"), V: b.orNone(c.LegalBasis)},
		{K: b.t("cover.status"), V: b.orNone(c.Status)},
		{K: b.t("cover.opened"), V: b.time(c.Opened)},
		{K: b.t("cover.date"), V: b.time(m.Created)},
		{K: b.t("cover.version"), V: b.orNone(m.Vestigo)},
		{K: b.t("cover.format"), V: m.Format},
		{K: b.t("cover.digest"), V: b.orNone(m.Digest), Mono: true},
	}})
	b.para(b.t("cover.digestNote"))
}

func (b *builder) summary() {
	s := b.m.Summary
	b.heading(bH1, "summary", b.t("section.summary"))
	b.para(b.t("summary.counts", "items", strconv.Itoa(s.Items), "findings", strconv.Itoa(s.FindingsCount), "exhibits", strconv.Itoa(s.Exhibits)))

	b.heading(bH2, "summary-flows", b.t("summary.flows"))
	if len(s.Flows) == 0 {
		b.para(b.t("summary.noFlows"))
	}
	for _, f := range s.Flows {
		from := b.orNone(strings.Join(f.From, ", "))
		var text string
		if f.ToLabel != "" || f.Category != "" {
			text = b.t("summary.flowLabelled", "from", from, "to", f.To, "label", b.orNone(f.ToLabel),
				"category", b.c.name("category", f.Category), "amount", b.amountWithFiat(f.Amount))
		} else {
			text = b.t("summary.flow", "from", from, "to", f.To, "amount", b.amountWithFiat(f.Amount))
		}
		text += " " + b.t("summary.flowHow", "finding", strconv.FormatInt(f.FindingID, 10),
			"direction", b.c.name("direction", f.Direction), "model", b.c.name("model", f.Model), "hops", strconv.Itoa(f.Hops))
		if len(f.Patterns) > 0 {
			names := make([]string, len(f.Patterns))
			for i, p := range f.Patterns {
				names[i] = b.c.name("typology", p)
			}
			text += " " + b.t("summary.flowPatterns", "patterns", strings.Join(names, ", "))
		}
		b.para(text)
	}
	for _, r := range s.Rest {
		b.para(b.t("summary.flowRest", "finding", strconv.FormatInt(r.FindingID, 10), "count", strconv.Itoa(r.Destinations),
			"amount", b.amountWithFiat(r.Amount)))
	}

	b.heading(bH2, "summary-services", b.t("summary.services"))
	if len(s.Services) == 0 {
		b.para(b.t("summary.noServices"))
	} else {
		b.para(b.t("summary.servicesIntro"))
	}
	for _, sv := range s.Services {
		b.para(b.t("summary.service", "name", b.orNone(sv.Name), "category", b.c.name("category", sv.Category),
			"amount", b.amountWithFiat(sv.Amount), "address", b.orNone(sv.Address), "chain", b.orNone(sv.Chain), "source", b.orNone(sv.Source)))
		if len(sv.Deposits) > 0 {
			b.para(b.t("summary.deposits", "name", b.orNone(sv.Name), "addresses", strings.Join(sv.Deposits, ", ")))
		} else {
			b.para(b.t("summary.noDeposits", "name", b.orNone(sv.Name)))
		}
	}

	b.heading(bH2, "summary-patterns", b.t("summary.patterns"))
	if len(s.Patterns) == 0 {
		b.para(b.t("summary.noPatterns"))
	}
	for _, p := range s.Patterns {
		b.para(b.t("summary.pattern", "type", b.c.name("typology", p.Type), "count", strconv.Itoa(p.Count), "example", b.orNone(p.Example)))
		if len(p.Txs) > 0 {
			b.para(b.t("summary.patternTxs", "txs", strings.Join(p.Txs, ", ")))
		}
	}
}

func (b *builder) diagrams(ctx context.Context) error {
	b.heading(bH1, "diagrams", b.t("section.diagrams"))
	if len(b.m.Diagrams) == 0 {
		b.para(b.t("diagram.none"))
		return nil
	}
	legend := make([]legendItem, 0, len(groups))
	for _, g := range groups {
		legend = append(legend, legendItem{Text: b.t("group." + g.name), Fill: g.fill, Stroke: g.stroke})
	}
	for i := range b.m.Diagrams {
		d := &b.m.Diagrams[i]
		b.heading(bH2, fmt.Sprintf("diagram-%d", i+1), b.orNone(d.Title))
		if d.Source != "" {
			b.para(b.t("diagram.source", "source", d.Source))
		}
		if len(d.Nodes) == 0 {
			b.para(b.t("diagram.empty"))
			continue
		}
		dr, err := layoutDiagram(ctx, d, contentWidth, maxDiagramHeight)
		if err != nil {
			return err
		}
		rotated := false
		if dr.W > 1.5*dr.H && dr.NodeFont < 0.6*nodeFont {
			// Shrunk well below its size to the page's width: across the
			// page's length it prints larger.
			turned, err := layoutDiagram(ctx, d, rotatedWidth, contentWidth)
			if err != nil {
				return err
			}
			if turned.NodeFont > 1.25*dr.NodeFont {
				dr, rotated = turned, true
			}
		}
		b.add(block{Kind: bDiagram, Drawing: dr, Rotated: rotated, Legend: legend, Caption: b.orNone(d.Title)})
		b.para(b.t("diagram.note"))
	}
	return nil
}

func (b *builder) findings() {
	b.heading(bH1, "findings", b.t("section.findings"))
	if len(b.m.Findings) == 0 {
		b.para(b.t("finding.none"))
	}
	for _, f := range b.m.Findings {
		id := strconv.FormatInt(f.ID, 10)
		b.heading(bH2, "finding-"+id, b.t("finding.heading", "id", id, "title", b.orNone(f.Title)))
		kvs := []kv{
			{K: b.t("finding.kind"), V: b.c.name("findingKind", f.Kind)},
			{K: b.t("finding.created"), V: b.time(f.Created)},
			{K: b.t("finding.source"), V: b.orNone(f.Source)},
		}
		for _, p := range f.Params {
			kvs = append(kvs, kv{K: b.t("finding.params") + ": " + p.Name, V: b.orNone(p.Value)})
		}
		b.add(block{Kind: bKV, KV: kvs})
		if len(f.Rows) == 0 {
			b.para(b.t("finding.noRows"))
		} else {
			b.add(block{Kind: bTable, Table: b.findingTable(f.Rows)})
		}
		if len(f.Notes) > 0 {
			b.heading(bH3, "", b.t("finding.notes"))
			b.add(block{Kind: bList, Items: f.Notes})
		}
	}
}

func (b *builder) findingTable(rows []TxRow) *table {
	var curs []string
	for _, r := range rows {
		for k := range r.Amount.Fiat {
			if !slices.Contains(curs, k) {
				curs = append(curs, k)
			}
		}
	}
	slices.Sort(curs)
	t := &table{Cols: []column{
		{Head: b.t("col.height"), Right: true, Weight: 1},
		{Head: b.t("col.time"), Weight: 2.2},
		{Head: b.t("col.tx"), Mono: true, Span: true},
		{Head: b.t("col.from"), Mono: true, Span: true},
		{Head: b.t("col.to"), Mono: true, Span: true},
		{Head: b.t("col.amount"), Right: true, Weight: 2.4},
	}}
	for _, cur := range curs {
		t.Cols = append(t.Cols, column{Head: b.t("col.fiat", "currency", cur), Right: true, Weight: 1.6})
	}
	t.Cols = append(t.Cols, column{Head: b.t("col.hop"), Right: true, Weight: 0.7})
	for _, r := range rows {
		row := []string{strconv.FormatInt(r.Height, 10), b.time(r.Time), b.orNone(r.Tx), b.orNone(r.From), b.orNone(r.To), b.amount(r.Amount)}
		for _, cur := range curs {
			row = append(row, b.orNone(r.Amount.Fiat[cur]))
		}
		row = append(row, strconv.Itoa(r.Hop))
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (b *builder) addresses() {
	b.heading(bH1, "addresses", b.t("section.addresses"))
	if len(b.m.Addresses) == 0 {
		b.para(b.t("addresses.none"))
		return
	}
	b.para(b.t("addresses.intro"))
	t := &table{Cols: []column{
		{Head: b.t("col.address"), Mono: true, Span: true},
		{Head: b.t("col.chain"), Weight: 1.2},
		{Head: b.t("col.label"), Weight: 2.2},
		{Head: b.t("col.category"), Weight: 1.5},
		{Head: b.t("col.source"), Weight: 2.6},
		{Head: b.t("col.confidence"), Right: true, Weight: 1.1},
		{Head: b.t("col.pack"), Weight: 1.6},
		{Head: b.t("col.sanctioned"), Weight: 1},
	}}
	for _, a := range b.m.Addresses {
		if len(a.Tags) == 0 {
			t.Rows = append(t.Rows, []string{a.Address, b.orNone(a.Chain), b.t("addresses.untagged"), b.t("value.none"), b.t("value.none"), b.t("value.none"), b.t("value.none"), b.t("value.none")})
		}
		for _, tg := range a.Tags {
			sanc := b.t("value.no")
			if tg.Sanctioned {
				sanc = b.t("value.yes")
			}
			t.Rows = append(t.Rows, []string{a.Address, b.orNone(a.Chain), b.orNone(tg.Label), b.c.name("category", tg.Category),
				b.orNone(tg.Source), strconv.Itoa(tg.Confidence), b.orNone(tg.Pack), sanc})
		}
	}
	b.add(block{Kind: bTable, Table: t})
}

// ratio formats a precision or recall as `vestigo heuristics evaluate`
// reports it (four decimals), so the figures can be compared.
func ratio(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }

func (b *builder) methodology() {
	b.heading(bH1, "methodology", b.t("section.methodology"))
	if len(b.m.Methodology) == 0 {
		b.para(b.t("methodology.none"))
		return
	}
	b.para(b.t("methodology.intro"))
	b.para(b.t("methodology.figuresNote"))
	for _, me := range b.m.Methodology {
		key := "method." + me.ID
		b.heading(bH2, "method-"+strings.ReplaceAll(me.ID, ".", "-"), b.t(key+".name"))
		b.para(b.t(key + ".desc"))
		if len(me.Params) > 0 {
			b.heading(bH3, "", b.t("methodology.params"))
			kvs := make([]kv, len(me.Params))
			for i, p := range me.Params {
				kvs[i] = kv{K: p.Name, V: b.orNone(p.Value)}
			}
			b.add(block{Kind: bKV, KV: kvs})
		}
		b.heading(bH3, "", b.t("methodology.figures"))
		if len(me.Figures) == 0 {
			b.para(b.t("methodology.noFigures"))
		} else {
			t := &table{Cols: []column{
				{Head: b.t("col.name"), Weight: 2},
				{Head: b.t("col.precision"), Right: true, Weight: 1.1},
				{Head: b.t("col.recall"), Right: true, Weight: 1.1},
				{Head: b.t("col.support"), Right: true, Weight: 1},
				{Head: b.t("col.measuredOn"), Weight: 4},
			}}
			for _, f := range me.Figures {
				t.Rows = append(t.Rows, []string{b.orNone(f.Name), ratio(f.Precision), ratio(f.Recall), strconv.FormatUint(f.Support, 10), b.orNone(f.MeasuredOn)})
			}
			b.add(block{Kind: bTable, Table: t})
		}
		b.heading(bH3, "", b.t("methodology.limits"))
		b.para(b.t(key + ".limits"))
	}
}

func (b *builder) provenance() {
	p := b.m.Provenance
	b.heading(bH1, "provenance", b.t("section.provenance"))
	if len(p.Sources) == 0 {
		b.para(b.t("provenance.none"))
	} else {
		b.para(b.t("provenance.intro"))
		t := &table{Cols: []column{
			{Head: b.t("col.ledger"), Weight: 1.3},
			{Head: b.t("col.source"), Weight: 2.5},
			{Head: b.t("col.nodeVersion"), Weight: 1.6},
			{Head: b.t("col.tipHeight"), Right: true, Weight: 1},
			{Head: b.t("col.genesis"), Mono: true, Span: true},
			{Head: b.t("col.tipHash"), Mono: true, Span: true},
		}}
		for _, s := range p.Sources {
			t.Rows = append(t.Rows, []string{b.orNone(s.Ledger), b.orNone(s.Source), b.orNone(s.NodeVersion), strconv.FormatInt(s.TipHeight, 10), b.orNone(s.Genesis), b.orNone(s.TipHash)})
		}
		b.add(block{Kind: bTable, Table: t})
	}
	b.heading(bH2, "reproduction", b.t("provenance.commands"))
	if len(p.Commands) == 0 {
		b.para(b.t("provenance.noCommands"))
	} else {
		b.para(b.t("provenance.commandsIntro"))
		b.add(block{Kind: bCode, Items: p.Commands})
	}
	b.heading(bH2, "explorer", b.t("provenance.explorer"))
	b.para(b.t("provenance.explorerText"))
	b.para(b.t("provenance.verify"))
}

func (b *builder) prices() {
	b.heading(bH1, "prices", b.t("section.prices"))
	if len(b.m.Prices) == 0 {
		b.para(b.t("prices.none"))
		return
	}
	b.para(b.t("prices.intro"))
	t := &table{Cols: []column{
		{Head: b.t("col.asset"), Weight: 1},
		{Head: b.t("col.currency"), Weight: 1},
		{Head: b.t("col.file"), Weight: 3},
		{Head: b.t("col.from.date"), Weight: 1.5},
		{Head: b.t("col.to.date"), Weight: 1.5},
		{Head: b.t("col.days"), Right: true, Weight: 0.8},
		{Head: b.t("col.sha256"), Mono: true, Span: true},
	}}
	for _, p := range b.m.Prices {
		t.Rows = append(t.Rows, []string{b.orNone(p.Asset), b.orNone(p.Currency), b.orNone(p.File), b.orNone(p.From), b.orNone(p.To), strconv.Itoa(p.Days), b.orNone(p.SHA256)})
	}
	b.add(block{Kind: bTable, Table: t})
}

func (b *builder) annex() {
	b.heading(bH1, "annex", b.t("section.annex"))
	b.heading(bH2, "manifest", b.t("section.manifest"))
	if len(b.m.Manifest) == 0 {
		b.para(b.t("manifest.none"))
	} else {
		b.para(b.t("manifest.intro"))
		t := &table{Cols: []column{
			{Head: b.t("col.id"), Right: true, Weight: 0.6},
			{Head: b.t("col.name"), Weight: 2.6},
			{Head: b.t("col.mediaType"), Weight: 1.8},
			{Head: b.t("col.size"), Right: true, Weight: 1.1},
			{Head: b.t("col.added"), Weight: 1.8},
			{Head: b.t("col.stamped"), Weight: 1.8},
			{Head: b.t("col.tsa"), Weight: 1.8},
			{Head: b.t("col.sha256"), Mono: true, Span: true},
		}}
		for _, e := range b.m.Manifest {
			stamped := b.t("value.unstamped")
			if !e.Stamped.IsZero() {
				stamped = b.time(e.Stamped)
			}
			t.Rows = append(t.Rows, []string{strconv.FormatInt(e.ID, 10), b.orNone(e.Name), b.orNone(e.MediaType), strconv.FormatInt(e.Size, 10),
				b.time(e.Added), stamped, b.orNone(e.TSA), b.orNone(e.SHA256)})
		}
		b.add(block{Kind: bTable, Table: t})
	}
	b.heading(bH2, "checkpoint", b.t("section.checkpoint"))
	cp := b.m.Checkpoint
	if cp == nil {
		b.para(b.t("checkpoint.none"))
		return
	}
	b.para(b.t("checkpoint.intro"))
	stamped := b.t("value.unstamped")
	if !cp.Stamped.IsZero() {
		stamped = b.time(cp.Stamped)
	}
	b.add(block{Kind: bKV, KV: []kv{
		{K: b.t("checkpoint.id"), V: strconv.FormatInt(cp.ID, 10)},
		{K: b.t("checkpoint.seq"), V: strconv.FormatInt(cp.Seq, 10)},
		{K: b.t("checkpoint.head"), V: b.orNone(cp.HeadHash), Mono: true},
		{K: b.t("checkpoint.key"), V: b.orNone(cp.KeyID), Mono: true},
		{K: b.t("checkpoint.signature"), V: b.orNone(cp.Signature), Mono: true},
		{K: b.t("checkpoint.created"), V: b.time(cp.Created)},
		{K: b.t("checkpoint.stamped"), V: stamped},
	}})
}

// shortHash gives the first 16 characters of a hash, for running footers.
func shortHash(h string) string {
	if len(h) <= 16 {
		return h
	}
	return h[:16] + "…"
}
