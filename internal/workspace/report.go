package workspace

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/evaluate"
	"github.com/vestigo-forensics/vestigo/internal/export"
	"github.com/vestigo-forensics/vestigo/internal/prices"
	"github.com/vestigo-forensics/vestigo/internal/report"
	"github.com/vestigo-forensics/vestigo/internal/tags"
	"github.com/vestigo-forensics/vestigo/internal/tsa"
)

// Media types and provenance of reports.
const (
	// GraphMediaType is the media type of a saved graph exhibit.
	GraphMediaType = "application/vnd.vestigo.graph+json"
	// ReportSourcePrefix starts the provenance source of every report
	// exhibit ("vestigo report pdf en"). Reports are left out of later
	// reports' manifests, so that rendering again gives the same bytes.
	ReportSourcePrefix = "vestigo report"
)

// ReportOptions are what a report is assembled with.
type ReportOptions struct {
	// Version is Vestigo's version, shown on the cover.
	Version string
	// Clock gives the report's recorded creation time (default time.Now).
	Clock func() time.Time
	// Signer, when set, signs a checkpoint of the audit log when none
	// covers the case yet (and one after a rendered report is recorded);
	// DSN names the case store whose anchor file keeps it.
	Signer ed25519.PrivateKey
	DSN    string
	// TSA, when set, checks the time-stamp tokens of the exhibits and the
	// checkpoint; the manifest shows the time each states. Without it the
	// tokens are listed unread.
	TSA *TSAConfig
}

// maxGraph bounds a saved graph (as the web workspace's limit).
const maxGraph = 16 << 20

// custodial are the categories of services that hold customers' funds and
// can answer a legal request.
var custodial = map[string]bool{"exchange": true, "payment_processor": true, "wallet_service": true, "atm": true,
	"gambling": true, "custodial_wallet": true}

// reportCtx is one assembly.
type reportCtx struct {
	w    *Workspace
	ctx  context.Context
	m    *report.Model
	tags *tags.Store

	txPos     map[string]txPos
	addrSeen  map[string]string // address → chain (btc-regtest, evm-1)
	services  map[string]*report.Service
	patterns  map[string]*report.PatternCount
	traceTxs  map[int64]map[string]bool // trace finding → its txids
	methods   map[string]*report.Method
	sources   map[string]report.DataSource
	deposits  map[string][]string // hot wallet → deposit addresses of a deposits finding
	patternTx map[string][]string // txid → typologies
	items     map[string]bool     // addresses of the case's items
	// serviceDec is the decimals of the asset each service's amount is in,
	// flowDec of each trace finding's.
	serviceDec map[string]uint8
	flowDec    map[int64]uint8
}

type txPos struct {
	height int64
	at     time.Time
}

// BuildReport assembles the report of a case: the cover, the findings with
// their transactions, the addresses with every tag, the diagrams, the
// services reached with the deposit addresses there, the methodology with
// the measured error rates, the provenance, the manifest of the exhibits
// and the checkpoint covering the case. The same case state gives the same
// Model (apart from Created). The principal needs the right to change the
// case (reading all of it is an export).
func (w *Workspace) BuildReport(ctx context.Context, st *casestore.Store, p casestore.Principal, caseID int64, lang string,
	opt ReportOptions) (*report.Model, error) {
	if !slices.Contains(report.Languages(), lang) {
		return nil, fmt.Errorf("workspace: %w: report language %q is not one of %s", chain.ErrInvalid, lang, strings.Join(report.Languages(), ", "))
	}
	clock := opt.Clock
	if clock == nil {
		clock = time.Now
	}
	rec, err := st.ExportCase(ctx, p, caseID)
	if err != nil {
		return nil, err
	}
	c := rec.Case
	m := &report.Model{Format: report.FormatVersion, Lang: lang, Created: clock().UTC().Truncate(time.Second), Vestigo: opt.Version,
		Case: report.CaseInfo{ID: c.ID, Ref: c.Reference, Title: c.Title, Agency: p.Agency, AgencyCode: p.Agency, Author: p.Username,
			LegalBasis: c.LegalBasis, Status: string(c.Status), Opened: c.Opened.UTC()},
		Diagrams: []report.Diagram{}, Findings: []report.Finding{}, Addresses: []report.AddressTag{}, Methodology: []report.Method{},
		Prices: []report.PriceSeries{}, Manifest: []report.ManifestEntry{},
		Provenance: report.Provenance{Sources: []report.DataSource{}, Commands: []string{}},
		Summary:    report.Summary{Flows: []report.Flow{}, Services: []report.Service{}, Patterns: []report.PatternCount{}}}
	if name, err := agencyName(ctx, st, p); err == nil && name != "" {
		m.Case.Agency = name
	}
	rc := &reportCtx{w: w, ctx: ctx, m: m, txPos: map[string]txPos{}, addrSeen: map[string]string{}, services: map[string]*report.Service{},
		patterns: map[string]*report.PatternCount{}, traceTxs: map[int64]map[string]bool{}, methods: map[string]*report.Method{},
		sources: map[string]report.DataSource{}, deposits: map[string][]string{}, patternTx: map[string][]string{}, items: map[string]bool{},
		serviceDec: map[string]uint8{}, flowDec: map[int64]uint8{}}
	if rc.tags, err = w.Tags(); err != nil {
		return nil, err
	}

	findings := slices.Clone(rec.Findings)
	sort.Slice(findings, func(i, j int) bool { return findings[i].ID < findings[j].ID })
	// Patterns and deposits first: flows name the typologies on their way,
	// services the deposit addresses the heuristic found.
	for _, f := range findings {
		if f.Kind == casestore.FindingPatterns || f.Kind == casestore.FindingDeposits {
			if err := rc.prescan(f); err != nil {
				return nil, fmt.Errorf("workspace: report: finding %d: %w", f.ID, err)
			}
		}
	}
	for _, f := range findings {
		rf, err := rc.finding(f)
		if err != nil {
			return nil, fmt.Errorf("workspace: report: finding %d (%s): %w", f.ID, f.Kind, err)
		}
		m.Findings = append(m.Findings, rf)
	}

	items := slices.Clone(rec.Items)
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	itemTags := map[int64][]casestore.ItemTag{}
	for _, t := range rec.Tags {
		itemTags[t.ItemID] = append(itemTags[t.ItemID], t)
	}
	marks := map[string][]report.Tag{}
	for _, it := range items {
		ref := strings.TrimPrefix(it.Ref, EntityPrefix)
		if it.Kind == casestore.ItemTx {
			continue
		}
		rc.seen(ref, ledgerName(it.Chain, it.Network))
		rc.items[ref] = true
		ts := itemTags[it.ID]
		sort.Slice(ts, func(i, j int) bool { return ts[i].ID < ts[j].ID })
		for _, t := range ts {
			marks[ref] = append(marks[ref], report.Tag{Label: t.Label, Category: t.Category, Source: "case " + c.Reference + " (investigator's mark)"})
		}
		if it.Label != "" {
			marks[ref] = append(marks[ref], report.Tag{Label: it.Label, Source: "case " + c.Reference + " (item label)"})
		}
		rc.source(it.Chain, it.Network, it.Provenance)
	}
	if err := rc.addresses(marks); err != nil {
		return nil, err
	}

	exhibits := slices.Clone(rec.Exhibits)
	sort.Slice(exhibits, func(i, j int) bool { return exhibits[i].ID < exhibits[j].ID })
	reports := map[int64]bool{}
	for _, ex := range exhibits {
		if IsReportExhibit(ex) {
			reports[ex.ID] = true
			continue
		}
		me := report.ManifestEntry{ID: ex.ID, Name: ex.Name, MediaType: ex.MediaType, Size: ex.Size, SHA256: ex.SHA256, Added: ex.CreatedAt.UTC()}
		if len(ex.TSAToken) > 0 && opt.TSA != nil {
			digest, _ := hex.DecodeString(ex.SHA256)
			if info, err := tsa.VerifyWithCAFile(ex.TSAToken, digest, opt.TSA.CAFile); err == nil {
				me.Stamped, me.TSA = info.Time.UTC(), info.TSA
			} else {
				me.TSA = "token does not verify"
			}
		} else if len(ex.TSAToken) > 0 {
			me.TSA = "RFC 3161 token (not checked: no TSA CA configured)"
		}
		m.Manifest = append(m.Manifest, me)
		if ex.MediaType == GraphMediaType {
			d, err := graphDiagram(ctx, st, p, ex)
			if err != nil {
				return nil, fmt.Errorf("workspace: report: exhibit %d (%s): %w", ex.ID, ex.Name, err)
			}
			m.Diagrams = append(m.Diagrams, d)
		}
	}
	// Trace diagrams after the saved graphs (built with the findings).
	for _, f := range m.Findings {
		if f.Kind == string(casestore.FindingTrace) {
			if d, ok := rc.traceDiagram(f); ok {
				m.Diagrams = append(m.Diagrams, d)
			}
		}
	}
	rc.finish(len(items))
	if err := rc.fiat(); err != nil {
		return nil, err
	}
	m.Summary.Exhibits = len(m.Manifest)

	if m.Checkpoint, err = w.coveringCheckpoint(ctx, st, rec, reports, opt); err != nil {
		return nil, err
	}
	if err := report.Seal(m); err != nil {
		return nil, err
	}
	return m, nil
}

// IsReportExhibit says whether an exhibit is a report Vestigo rendered.
func IsReportExhibit(ex casestore.Exhibit) bool {
	return strings.HasPrefix(ex.Provenance.Source, ReportSourcePrefix)
}

func agencyName(ctx context.Context, st *casestore.Store, p casestore.Principal) (string, error) {
	as, err := st.ListAgencies(ctx)
	if err != nil {
		return "", err
	}
	for _, a := range as {
		if a.ID == p.AgencyID {
			return a.Name, nil
		}
	}
	return "", nil
}

func ledgerName(ch, network string) string {
	if ch == string(chain.Ethereum) {
		return "evm-" + network
	}
	if ch == "" {
		ch = string(chain.Bitcoin)
	}
	return ch + "-" + network
}

func (rc *reportCtx) seen(addr, ledger string) {
	if addr == "" {
		return
	}
	if _, ok := rc.addrSeen[addr]; !ok {
		rc.addrSeen[addr] = ledger
	}
}

// source records the index a fact came from.
func (rc *reportCtx) source(ch, network string, pv casestore.Provenance) {
	if pv.BlockHash == "" && pv.IndexTip == 0 {
		return
	}
	ds := report.DataSource{Ledger: ledgerName(ch, network), Source: pv.Source, NodeVersion: pv.SourceIdentity.NodeVersion,
		Genesis: pv.SourceIdentity.GenesisHash, TipHeight: pv.IndexTip, TipHash: pv.BlockHash}
	if i := strings.Index(ds.Source, ", resolved in "); i >= 0 {
		ds.Source = ds.Source[i+len(", resolved in "):]
	}
	key := fmt.Sprintf("%s|%d|%s", ds.Ledger, ds.TipHeight, ds.TipHash)
	if _, ok := rc.sources[key]; !ok {
		rc.sources[key] = ds
	}
}

// prescan reads the typologies of a patterns finding and the deposit
// addresses of a deposits finding.
func (rc *reportCtx) prescan(f casestore.Finding) error {
	switch f.Kind {
	case casestore.FindingPatterns:
		for _, p := range patternsOf(f.Result) {
			for _, tx := range p.txs {
				if !slices.Contains(rc.patternTx[tx], p.typ) {
					rc.patternTx[tx] = append(rc.patternTx[tx], p.typ)
				}
			}
		}
	case casestore.FindingDeposits:
		var r entity.EVMDepositReport
		if err := json.Unmarshal(f.Result, &r); err != nil {
			return err
		}
		for _, d := range r.Deposits {
			if !slices.Contains(rc.deposits[d.HotWallet], d.Address) {
				rc.deposits[d.HotWallet] = append(rc.deposits[d.HotWallet], d.Address)
			}
		}
	}
	return nil
}

type patternView struct {
	typ, explanation string
	txs, addrs       []string
}

// patternsOf reads a patterns result: Bitcoin's list of patterns or an EVM
// chain's report.
func patternsOf(raw json.RawMessage) []patternView {
	var out []patternView
	var btc []entity.Pattern
	if err := json.Unmarshal(raw, &btc); err == nil {
		for _, p := range btc {
			out = append(out, patternView{p.Type, p.Explanation, p.Txids, p.Addresses})
		}
		return out
	}
	var evm entity.EVMPatternReport
	if err := json.Unmarshal(raw, &evm); err == nil {
		for _, p := range evm.Findings {
			out = append(out, patternView{p.Type, p.Explanation, p.Txs, p.Addresses})
		}
	}
	return out
}

func paramList(raw json.RawMessage) ([]report.Param, map[string]any, error) {
	out := []report.Param{}
	vals := map[string]any{}
	if len(bytes.TrimSpace(raw)) == 0 || string(raw) == "null" {
		return out, vals, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, nil, fmt.Errorf("parameters: %w", err)
	}
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}) {
		var v any
		d := json.NewDecoder(bytes.NewReader(m[k]))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return nil, nil, fmt.Errorf("parameter %s: %w", k, err)
		}
		vals[k] = v
		s := ""
		switch x := v.(type) {
		case string:
			s = x
		case nil:
			continue
		default:
			s = string(m[k])
		}
		out = append(out, report.Param{Name: k, Value: s})
	}
	return out, vals, nil
}

func btcAmount(a chain.Amount) report.Amount {
	return report.Amount{Base: a.String(), Units: chain.FormatUnits(a, 8), Symbol: "BTC"}
}

func (rc *reportCtx) finding(f casestore.Finding) (report.Finding, error) {
	params, vals, err := paramList(f.Params)
	if err != nil {
		return report.Finding{}, err
	}
	rf := report.Finding{ID: f.ID, Title: f.Title, Kind: string(f.Kind), Params: params, Created: f.CreatedAt.UTC(),
		Rows: []report.TxRow{}, Notes: []string{}}
	pv := f.Provenance
	rc.source(pv.Chain, pv.Network, pv)
	if pv.Source != "" {
		rf.Source = fmt.Sprintf("%s, tip %d %s", pv.Source, pv.IndexTip, pv.BlockHash)
	}
	ledger := ledgerName(pv.Chain, pv.Network)
	evm := pv.Chain == string(chain.Ethereum)
	rc.command(f, vals, evm)
	switch f.Kind {
	case casestore.FindingTrace:
		if evm {
			err = rc.evmTrace(f, &rf, ledger)
		} else {
			err = rc.btcTrace(f, &rf, ledger)
		}
	case casestore.FindingPath:
		rc.method("path", f, params)
		if evm {
			var r entity.EVMPathReport
			if err = json.Unmarshal(f.Result, &r); err == nil {
				for i, path := range r.Paths {
					for j, s := range path {
						rf.Rows = append(rf.Rows, report.TxRow{Height: int64(s.Height), Time: s.Time.UTC(), Tx: s.Tx, From: s.From, To: s.To,
							Amount: report.Amount{Base: s.Amount, Units: s.AmountUnits, Symbol: s.Asset.Symbol}, Hop: j + 1})
						rc.seen(s.From, ledger)
						rc.seen(s.To, ledger)
					}
					rf.Notes = append(rf.Notes, fmt.Sprintf("path %d: %d moves", i+1, len(path)))
				}
			}
		} else {
			var r entity.PathReport
			if err = json.Unmarshal(f.Result, &r); err == nil {
				for i, path := range r.Paths {
					for j, s := range path.Steps {
						row, perr := rc.btcRow(s, pv.Network)
						if perr != nil {
							return rf, perr
						}
						row.Hop = j + 1
						rf.Rows = append(rf.Rows, row)
						rc.seen(s.From, ledger)
						rc.seen(s.To, ledger)
					}
					rf.Notes = append(rf.Notes, fmt.Sprintf("path %d: %d transactions", i+1, path.Hops))
				}
			}
		}
	case casestore.FindingPatterns:
		rc.method("patterns", f, params)
		for _, p := range patternsOf(f.Result) {
			pc := rc.patterns[p.typ]
			if pc == nil {
				pc = &report.PatternCount{Type: p.typ, Example: p.explanation, Txs: []string{}}
				rc.patterns[p.typ] = pc
			}
			pc.Count++
			for _, tx := range p.txs {
				if !slices.Contains(pc.Txs, tx) {
					pc.Txs = append(pc.Txs, tx)
				}
			}
			rf.Notes = append(rf.Notes, p.typ+": "+p.explanation)
		}
	case casestore.FindingDeposits:
		rc.method("deposit", f, params)
		var r entity.EVMDepositReport
		if err = json.Unmarshal(f.Result, &r); err == nil {
			for _, d := range r.Deposits {
				rc.seen(d.Address, ledger)
				rc.seen(d.HotWallet, ledger)
				rf.Notes = append(rf.Notes, fmt.Sprintf("deposit address %s of hot wallet %s (confidence %d): %s", d.Address, d.HotWallet, d.Confidence, d.Explanation))
			}
			for _, l := range r.Links {
				rf.Notes = append(rf.Notes, fmt.Sprintf("senders %s linked through deposit address %s (confidence %d): %s",
					strings.Join(l.Senders, ", "), l.Deposit, l.Confidence, l.Explanation))
			}
		}
	case casestore.FindingScreen:
		rc.method("screen", f, params)
		rc.method("attribution", f, nil)
		var r struct {
			Results []entity.Screening `json:"results"`
		}
		if err = json.Unmarshal(f.Result, &r); err == nil {
			for _, s := range r.Results {
				switch {
				case !s.Valid:
					rf.Notes = append(rf.Notes, fmt.Sprintf("%s: not a valid address (%s)", s.Input, s.Error))
				default:
					state := "not sanctioned"
					if s.Sanctioned {
						state = "SANCTIONED (" + s.SanctionedVia + ")"
					}
					rf.Notes = append(rf.Notes, fmt.Sprintf("%s: %s; categories: %s; %d direct and %d cluster tags",
						s.Address, state, orNone(s.Categories), len(s.DirectTags), len(s.ClusterTags)))
					rc.seen(s.Address, ledger)
				}
			}
		}
	case casestore.FindingRisk:
		rc.method("risk", f, params)
		var r struct {
			Address string              `json:"address"`
			Score   json.Number         `json:"score"`
			Factors []entity.RiskFactor `json:"factors"`
		}
		if err = json.Unmarshal(f.Result, &r); err == nil {
			rc.seen(r.Address, ledger)
			rf.Notes = append(rf.Notes, fmt.Sprintf("%s: risk score %s", r.Address, r.Score))
			for _, fa := range r.Factors {
				rf.Notes = append(rf.Notes, fmt.Sprintf("%s: weight %s × value %s = %s; %s", fa.Name, num(fa.Weight), num(fa.Value),
					num(fa.Contribution), strings.Join(fa.Evidence, "; ")))
			}
		}
	case casestore.FindingExposure:
		rc.method("exposure", f, params)
		rf.Notes, err = exposureNotes(f.Result)
	default:
		rf.Notes = append(rf.Notes, "result of "+string(f.Kind)+" kept as stored (see the exported finding)")
	}
	if err != nil {
		return rf, err
	}
	return rf, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// exposureNotes reads Bitcoin's or an EVM chain's exposure.
func exposureNotes(raw json.RawMessage) ([]string, error) {
	var b entity.Exposure
	if err := json.Unmarshal(raw, &b); err != nil {
		return nil, err
	}
	notes := []string{}
	if b.Incoming != nil || b.Outgoing != nil {
		for _, dir := range []struct {
			name string
			m    map[string]entity.CategoryExposure
		}{{"incoming", b.Incoming}, {"outgoing", b.Outgoing}} {
			for _, cat := range slices.Sorted(func(yield func(string) bool) {
				for k := range dir.m {
					if !yield(k) {
						return
					}
				}
			}) {
				e := dir.m[cat]
				notes = append(notes, fmt.Sprintf("%s %s: direct %s BTC, indirect %s BTC (share %s)", dir.name, cat,
					chain.FormatUnits(e.Direct, 8), chain.FormatUnits(e.Indirect, 8), num(e.Share)))
			}
		}
		return notes, nil
	}
	var e entity.EVMExposure
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, err
	}
	for _, a := range e.Assets {
		j, _ := json.Marshal(a)
		notes = append(notes, string(j))
	}
	return notes, nil
}

// btcRow is a Bitcoin trail edge with its block height and time.
func (rc *reportCtx) btcRow(e entity.TraceEdge, network string) (report.TxRow, error) {
	pos, err := rc.btcTx(e.Txid, network)
	if err != nil {
		return report.TxRow{}, err
	}
	return report.TxRow{Height: pos.height, Time: pos.at, Tx: e.Txid, From: e.From, To: e.To, Amount: btcAmount(e.Amount), Hop: e.Hop}, nil
}

func (rc *reportCtx) btcTx(txid, network string) (txPos, error) {
	if p, ok := rc.txPos[txid]; ok {
		return p, nil
	}
	ix, h, err := rc.w.Tx(txid, Selector{Network: chain.Network(network)})
	if err != nil {
		return txPos{}, err
	}
	r, err := ix.Record(h)
	if err != nil {
		return txPos{}, err
	}
	at, err := ix.BlockTime(r.Key.Height())
	if err != nil {
		return txPos{}, err
	}
	p := txPos{height: r.Key.Height(), at: at.UTC()}
	rc.txPos[txid] = p
	return p, nil
}

func (rc *reportCtx) btcTrace(f casestore.Finding, rf *report.Finding, ledger string) error {
	var r entity.TraceReport
	if err := json.Unmarshal(f.Result, &r); err != nil {
		return err
	}
	rc.traceMethods(f, rf.Params, r.Params.Model, r.Params.FollowChange, true)
	txs := map[string]bool{}
	incoming := map[string][]string{}
	for _, e := range r.Edges {
		row, err := rc.btcRow(e, f.Provenance.Network)
		if err != nil {
			return err
		}
		rf.Rows = append(rf.Rows, row)
		txs[e.Txid] = true
		rc.seen(e.From, ledger)
		rc.seen(e.To, ledger)
		if !slices.Contains(incoming[e.To], e.From) {
			incoming[e.To] = append(incoming[e.To], e.From)
		}
	}
	rc.traceTxs[f.ID] = txs
	typ := rc.typologiesOn(txs)
	seenDest := map[string]bool{}
	for _, d := range append(slices.Clone(r.Destinations), r.StoppedAt...) {
		if seenDest[d.Address] {
			continue
		}
		seenDest[d.Address] = true
		rc.seen(d.Address, ledger)
		amt := btcAmount(d.Amount)
		rc.m.Summary.Flows = append(rc.m.Summary.Flows, report.Flow{FindingID: f.ID, From: []string{r.Params.From}, To: d.Address,
			ToLabel: strings.Join(d.Labels, "; "), Category: d.Category, Amount: amt, Hops: d.Hops, Model: r.Params.Model,
			Direction: r.Params.Direction, Patterns: append([]string{}, typ...)})
		if err := rc.service(d.Address, d.Labels, d.Category, ledger, amt, 8, incoming[d.Address], f); err != nil {
			return err
		}
	}
	rf.Notes = append(rf.Notes, fmt.Sprintf("source %s BTC; to fees and rounding %s BTC; dropped below the minimum value %s BTC; %d transactions read",
		chain.FormatUnits(r.Source, 8), chain.FormatUnits(r.Fees, 8), chain.FormatUnits(r.Dropped, 8), r.Txs))
	if r.Summarised {
		rf.Notes = append(rf.Notes, "summarised: the trail spread beyond the frontier limit; some funds are shown where they were")
	}
	return nil
}

func (rc *reportCtx) evmTrace(f casestore.Finding, rf *report.Finding, ledger string) error {
	var r entity.EVMTraceReport
	if err := json.Unmarshal(f.Result, &r); err != nil {
		return err
	}
	rc.traceMethods(f, rf.Params, r.Params.Model, false, false)
	sym := r.Params.Asset.Symbol
	rc.flowDec[f.ID] = r.Params.Asset.Decimals
	txs := map[string]bool{}
	incoming := map[string][]string{}
	for _, e := range r.Edges {
		rf.Rows = append(rf.Rows, report.TxRow{Height: int64(e.Height), Time: e.Time.UTC(), Tx: e.Tx, From: e.From, To: e.To,
			Amount: report.Amount{Base: e.Amount, Units: e.AmountUnits, Symbol: sym}, Hop: e.Hop})
		if e.Tx != "" {
			txs[e.Tx] = true
		}
		rc.seen(e.From, ledger)
		rc.seen(e.To, ledger)
		if !slices.Contains(incoming[e.To], e.From) {
			incoming[e.To] = append(incoming[e.To], e.From)
		}
	}
	rc.traceTxs[f.ID] = txs
	typ := rc.typologiesOn(txs)
	seenDest := map[string]bool{}
	for _, d := range append(slices.Clone(r.Destinations), r.StoppedAt...) {
		if seenDest[d.Address] {
			continue
		}
		seenDest[d.Address] = true
		rc.seen(d.Address, ledger)
		amt := report.Amount{Base: d.Amount, Units: d.AmountUnits, Symbol: sym}
		rc.m.Summary.Flows = append(rc.m.Summary.Flows, report.Flow{FindingID: f.ID, From: []string{r.Params.From}, To: d.Address,
			ToLabel: strings.Join(d.Labels, "; "), Category: d.Category, Amount: amt, Hops: d.Hops, Model: r.Params.Model,
			Direction: r.Params.Direction, Patterns: append([]string{}, typ...)})
		if err := rc.service(d.Address, d.Labels, d.Category, ledger, amt, r.Params.Asset.Decimals, incoming[d.Address], f); err != nil {
			return err
		}
	}
	rf.Notes = append(rf.Notes, fmt.Sprintf("source %s %s; fees %s; dropped below the minimum value %s; %d ledger entries read",
		r.SourceUnits, sym, r.Fees, r.Dropped, r.Entries))
	if r.Incomplete != "" {
		rf.Notes = append(rf.Notes, "incomplete: "+r.Incomplete)
	}
	return nil
}

// typologiesOn lists, sorted, the typologies the patterns findings found
// in any of the transactions txs.
func (rc *reportCtx) typologiesOn(txs map[string]bool) []string {
	var typ []string
	for tx := range txs {
		for _, t := range rc.patternTx[tx] {
			if !slices.Contains(typ, t) {
				typ = append(typ, t)
			}
		}
	}
	sort.Strings(typ)
	return typ
}

// service records a custodial destination with the deposit addresses the
// funds reached it through: a destination tagged itself (a hot wallet)
// was reached through the addresses paying it on the trail; one whose
// category comes from its cluster is itself a deposit address of the
// service. Services are one per name (the tags' labels) and ledger.
func (rc *reportCtx) service(addr string, labels []string, category, ledger string, amt report.Amount, dec uint8, in []string, f casestore.Finding) error {
	if !custodial[category] {
		return nil
	}
	direct := false
	if rc.tags != nil {
		if _, err := tags.CheckQueryAddress(addr); err == nil {
			m, err := rc.tags.ByAddress(rc.ctx, []string{addr})
			if err != nil {
				return err
			}
			for _, t := range m[addr] {
				if t.Category == category || t.Abuse == category {
					direct = true
				}
			}
		}
	}
	name := strings.Join(labels, "; ")
	if name == "" {
		name = addr
	}
	key := ledger + "|" + category + "|" + name + "|" + amt.Symbol
	rc.serviceDec[key] = dec
	s := rc.services[key]
	if s == nil {
		s = &report.Service{Name: name, Category: category, Chain: ledger, Amount: report.Amount{Base: "0", Symbol: amt.Symbol},
			Deposits: []string{}, Source: fmt.Sprintf("tags of the destination of finding %d", f.ID)}
		rc.services[key] = s
	}
	if s.Address == "" || direct {
		s.Address = addr
	}
	if sum, ok := addDecimal(s.Amount.Base, amt.Base); ok && s.Amount.Symbol == amt.Symbol {
		s.Amount.Base = sum
		s.Amount.Units = ""
	}
	deps := slices.Clone(rc.deposits[addr])
	if direct {
		deps = append(deps, in...)
	} else {
		deps = append(deps, addr)
	}
	for _, d := range deps {
		if !slices.Contains(s.Deposits, d) {
			s.Deposits = append(s.Deposits, d)
		}
	}
	return nil
}

func addDecimal(a, b string) (string, bool) {
	x, err1 := chain.ParseAmount(a)
	y, err2 := chain.ParseAmount(b)
	if err1 != nil || err2 != nil {
		return "", false
	}
	s, err := x.Add(y)
	if err != nil {
		return "", false
	}
	return s.String(), true
}

// traceMethods records the methods a trace used.
func (rc *reportCtx) traceMethods(f casestore.Finding, params []report.Param, model string, change, btc bool) {
	rc.method("taint."+model, f, params)
	rc.method("attribution", f, nil)
	if btc {
		rc.method("cospend", f, nil)
		rc.method("coinjoin", f, nil)
		if change {
			rc.method("change", f, nil)
		}
	}
}

// method notes that finding f used method id with params.
func (rc *reportCtx) method(id string, f casestore.Finding, params []report.Param) {
	m := rc.methods[id]
	if m == nil {
		m = &report.Method{ID: id, Params: []report.Param{}, Figures: []report.Figure{}}
		rc.methods[id] = m
	}
	var kv []string
	for _, p := range params {
		kv = append(kv, p.Name+"="+p.Value)
	}
	val := strings.Join(kv, ", ")
	if val == "" {
		val = string(f.Kind)
	}
	m.Params = append(m.Params, report.Param{Name: fmt.Sprintf("finding %d", f.ID), Value: val})
}

// command is the vestigo command that reproduces a finding.
func (rc *reportCtx) command(f casestore.Finding, v map[string]any, evm bool) {
	str := func(k string) string {
		switch x := v[k].(type) {
		case string:
			return x
		case json.Number:
			return x.String()
		case bool:
			return strconv.FormatBool(x)
		}
		return ""
	}
	var args []string
	add := func(flag, k string, skip ...string) {
		if s := str(k); s != "" && !slices.Contains(skip, s) {
			args = append(args, flag, shellQuote(s))
		}
	}
	net := func() {
		if evm {
			add("--chain-id", "chain_id", "0")
		} else {
			add("--network", "network")
		}
	}
	switch f.Kind {
	case casestore.FindingTrace:
		args = append(args, "vestigo", "trace", shellQuote(str("from")))
		net()
		add("--direction", "direction")
		add("--model", "model")
		add("--hops", "hops")
		add("--min-value", "min_value", "0")
		add("--since", "since")
		add("--until", "until")
		add("--stop-at", "stop_at")
		add("--level", "level")
		add("--max-frontier", "max_frontier")
		if str("follow_change") == "true" {
			args = append(args, "--follow-change")
			add("--change-confidence", "change_confidence")
		}
		add("--asset", "asset")
		add("--amount", "amount")
		add("--from-block", "from_block", "0")
		add("--to-block", "to_block", "0")
	case casestore.FindingPath:
		args = append(args, "vestigo", "path", shellQuote(str("from")), shellQuote(str("to")))
		net()
		add("--hops", "hops")
		add("--k", "k")
		add("--max-fanout", "max_fanout")
	case casestore.FindingExposure:
		args = append(args, "vestigo", "exposure", shellQuote(str("address")))
		net()
		add("--hops", "hops")
	case casestore.FindingRisk:
		args = append(args, "vestigo", "risk", shellQuote(str("address")))
		net()
	case casestore.FindingPatterns:
		args = append(args, "vestigo", "patterns")
		if a := str("address"); a != "" {
			args = append(args, shellQuote(a))
		} else {
			add("--from-height", "from_height")
			add("--to-height", "to_height")
		}
		net()
	case casestore.FindingScreen:
		args = append(args, "vestigo", "screen")
		if as, ok := v["addresses"].([]any); ok {
			for _, a := range as {
				if s, ok := a.(string); ok {
					args = append(args, shellQuote(s))
				}
			}
		}
		net()
	case casestore.FindingDeposits:
		args = append(args, "vestigo", "deposits")
		net()
	default:
		return
	}
	rc.m.Provenance.Commands = append(rc.m.Provenance.Commands, strings.Join(append(args, "--json"), " "))
}

func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:,/") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// addresses lists every address of the case and of its findings with
// every tag on it.
func (rc *reportCtx) addresses(marks map[string][]report.Tag) error {
	addrs := slices.Sorted(func(yield func(string) bool) {
		for a := range rc.addrSeen {
			if !yield(a) {
				return
			}
		}
	})
	for _, a := range addrs {
		at := report.AddressTag{Address: a, Chain: rc.addrSeen[a], Tags: []report.Tag{}}
		if rc.tags != nil {
			if _, err := tags.CheckQueryAddress(a); err == nil {
				m, err := rc.tags.ByAddress(rc.ctx, []string{a})
				if err != nil {
					return err
				}
				for _, t := range m[a] {
					cat := t.Category
					if cat == "" {
						cat = t.Abuse
					}
					at.Tags = append(at.Tags, report.Tag{Label: t.Label, Category: cat, Source: t.Source, Confidence: t.ConfidenceLevel,
						Pack: t.Pack.Name, Sanctioned: t.Sanctioned})
				}
			}
		}
		at.Tags = append(at.Tags, marks[a]...)
		if len(at.Tags) == 0 && !rc.items[a] && !rc.isService(a) {
			// An intermediate address of a trail without tags: in the
			// finding's table, not repeated here.
			continue
		}
		rc.m.Addresses = append(rc.m.Addresses, at)
	}
	return nil
}

func (rc *reportCtx) isService(a string) bool {
	for _, s := range rc.services {
		if s.Address == a || slices.Contains(s.Deposits, a) {
			return true
		}
	}
	return false
}

// finish orders what the findings gathered.
// summaryFlows is how many untagged destinations of a trace finding the
// summary names; the others are summed in one line.
const summaryFlows = 5

// condenseFlows keeps, per finding, the flows to tagged destinations and
// the summaryFlows largest others, and sums the rest.
func (rc *reportCtx) condenseFlows() {
	m := rc.m
	byFinding := map[int64][]int{}
	var order []int64
	for i, f := range m.Summary.Flows {
		if _, ok := byFinding[f.FindingID]; !ok {
			order = append(order, f.FindingID)
		}
		byFinding[f.FindingID] = append(byFinding[f.FindingID], i)
	}
	keep := make([]bool, len(m.Summary.Flows))
	m.Summary.Rest = []report.FlowRest{}
	for _, id := range order {
		var untagged []int
		for _, i := range byFinding[id] {
			if f := m.Summary.Flows[i]; f.Category != "" || f.ToLabel != "" {
				keep[i] = true
			} else {
				untagged = append(untagged, i)
			}
		}
		base := func(i int) *big.Int {
			v, _ := new(big.Int).SetString(m.Summary.Flows[i].Amount.Base, 10)
			if v == nil {
				v = new(big.Int)
			}
			return v
		}
		sort.SliceStable(untagged, func(a, b int) bool { return base(untagged[a]).Cmp(base(untagged[b])) > 0 })
		rest := new(big.Int)
		n := 0
		for j, i := range untagged {
			if j < summaryFlows {
				keep[i] = true
				continue
			}
			rest.Add(rest, base(i))
			n++
		}
		if n > 0 {
			sym := m.Summary.Flows[untagged[0]].Amount.Symbol
			dec, ok := rc.flowDec[id]
			if !ok {
				dec = 8
			}
			units := ""
			if a, err := chain.AmountFromBig(rest); err == nil {
				units = chain.FormatUnits(a, dec)
			}
			m.Summary.Rest = append(m.Summary.Rest, report.FlowRest{FindingID: id, Destinations: n,
				Amount: report.Amount{Base: rest.String(), Units: units, Symbol: sym}})
		}
	}
	flows := m.Summary.Flows[:0:0]
	for i, f := range m.Summary.Flows {
		if keep[i] {
			flows = append(flows, f)
		}
	}
	m.Summary.Flows = flows
}

func (rc *reportCtx) finish(items int) {
	m := rc.m
	rc.condenseFlows()
	for _, key := range slices.Sorted(func(yield func(string) bool) {
		for k := range rc.services {
			if !yield(k) {
				return
			}
		}
	}) {
		s := rc.services[key]
		sort.Strings(s.Deposits)
		if s.Amount.Units == "" {
			if a, err := chain.ParseAmount(s.Amount.Base); err == nil {
				s.Amount.Units = chain.FormatUnits(a, rc.serviceDec[key])
			}
		}
		m.Summary.Services = append(m.Summary.Services, *s)
	}
	for _, t := range slices.Sorted(func(yield func(string) bool) {
		for k := range rc.patterns {
			if !yield(k) {
				return
			}
		}
	}) {
		m.Summary.Patterns = append(m.Summary.Patterns, *rc.patterns[t])
	}
	m.Summary.Items = items
	m.Summary.FindingsCount = len(m.Findings)
	for _, k := range slices.Sorted(func(yield func(string) bool) {
		for k := range rc.sources {
			if !yield(k) {
				return
			}
		}
	}) {
		m.Provenance.Sources = append(m.Provenance.Sources, rc.sources[k])
	}
	evals, _ := rc.w.Evaluations()
	for _, id := range methodOrder {
		mt := rc.methods[id]
		if mt == nil {
			continue
		}
		mt.Figures = figures(id, evals)
		m.Methodology = append(m.Methodology, *mt)
	}
}

// methodOrder is the order of the methodology section.
var methodOrder = []string{"attribution", "cospend", "coinjoin", "change", "taint.haircut", "taint.fifo", "taint.poison", "path",
	"patterns", "deposit", "exposure", "risk", "screen"}

// figures are the measured error rates of a method from the saved
// evaluations.
func figures(id string, evals []evaluate.Report) []report.Figure {
	out := []report.Figure{}
	for _, r := range evals {
		on := fmt.Sprintf("generated %s scenario, seed %d, %s, tip %d %s", r.Scenario, r.Seed, r.Network, r.TipHeight, r.TipHash)
		metric := func(mt evaluate.Metric) {
			out = append(out, report.Figure{Name: mt.Name, Precision: mt.Precision, Recall: mt.Recall,
				Support: mt.TruePositives + mt.FalseNegatives, MeasuredOn: on})
		}
		switch id {
		case "cospend":
			for _, c := range r.Clustering {
				out = append(out, report.Figure{Name: "clustering " + c.Mode, Precision: c.Precision, Recall: c.Recall, Support: c.TruePairs, MeasuredOn: on})
			}
		case "coinjoin":
			metric(r.CoinJoin)
			for _, d := range r.CoinJoinDetectors {
				metric(d)
			}
		case "change":
			for _, c := range r.Change {
				metric(c)
			}
		}
	}
	return out
}

// graphDiagram reads a saved graph exhibit (through the store: the read
// is audited as an export, and the content checked against its SHA-256).
func graphDiagram(ctx context.Context, st *casestore.Store, p casestore.Principal, ex casestore.Exhibit) (report.Diagram, error) {
	_, rd, err := st.OpenExhibit(ctx, p, ex.ID)
	if err != nil {
		return report.Diagram{}, err
	}
	data, err := io.ReadAll(io.LimitReader(rd, maxGraph+1))
	rd.Close()
	if err != nil {
		return report.Diagram{}, err
	}
	if len(data) > maxGraph {
		return report.Diagram{}, fmt.Errorf("a saved graph larger than %d bytes", maxGraph)
	}
	g, err := export.ParseGraph(data)
	if err != nil {
		return report.Diagram{}, err
	}
	d := report.Diagram{Title: ex.Name, Source: fmt.Sprintf("exhibit %d (sha256 %s)", ex.ID, ex.SHA256), Nodes: []report.Node{},
		Edges: []report.Edge{}, HasPos: true}
	shown := map[string]bool{}
	for _, n := range g.Nodes {
		if n.Hidden {
			continue
		}
		shown[n.ID] = true
		d.Nodes = append(d.Nodes, report.Node{ID: n.ID, Label: n.Label, Kind: n.Kind, Category: n.Category, Note: n.Note, X: n.X, Y: n.Y})
		d.HasPos = d.HasPos && n.HasPos
	}
	for _, e := range g.Edges {
		if !shown[e.Source] || !shown[e.Target] {
			continue
		}
		amt := ""
		if e.Amount != "" {
			amt = strings.TrimSpace(e.Amount + " " + e.Asset)
		}
		when := e.Time
		if len(when) > 10 {
			when = when[:10]
		}
		d.Edges = append(d.Edges, report.Edge{From: e.Source, To: e.Target, Amount: amt, When: when})
	}
	return d, nil
}

// traceDiagram is the graph of a trace finding's edges.
func (rc *reportCtx) traceDiagram(f report.Finding) (report.Diagram, bool) {
	if len(f.Rows) == 0 {
		return report.Diagram{}, false
	}
	d := report.Diagram{Title: f.Title, Source: fmt.Sprintf("finding %d", f.ID), Nodes: []report.Node{}, Edges: []report.Edge{}}
	cats := map[string][2]string{}
	for _, fl := range rc.m.Summary.Flows {
		if fl.FindingID == f.ID {
			cats[fl.To] = [2]string{fl.Category, fl.ToLabel}
		}
	}
	have := map[string]bool{}
	node := func(a string) {
		if have[a] {
			return
		}
		have[a] = true
		n := report.Node{ID: a, Label: a, Kind: "address"}
		if c, ok := cats[a]; ok {
			n.Category = c[0]
			if c[1] != "" {
				n.Label = c[1]
				n.Note = a
			}
		}
		d.Nodes = append(d.Nodes, n)
	}
	for _, r := range f.Rows {
		node(r.From)
		node(r.To)
		when := ""
		if !r.Time.IsZero() {
			when = r.Time.Format("2006-01-02")
		}
		d.Edges = append(d.Edges, report.Edge{From: r.From, To: r.To, Amount: strings.TrimSpace(r.Amount.Units + " " + r.Amount.Symbol), When: when})
	}
	return d, true
}

// contentSeq is the seq of the case's last content record: every record
// of the case except views, exports, denials, checkpoints and the records
// of report exhibits.
func contentSeq(audit []casestore.AuditRecord, reports map[int64]bool) int64 {
	var last int64
	for _, r := range audit {
		switch r.Action {
		case casestore.ActionView, casestore.ActionExport, casestore.ActionDenied, casestore.ActionCheckpoint:
			continue
		}
		if r.ObjectType == "exhibit" && reports[r.ObjectID] {
			continue
		}
		last = max(last, r.Seq)
	}
	return last
}

// coveringCheckpoint is the first checkpoint at or after the case's last
// content record (the first, so that later checkpoints do not change the
// report); with a signer, one is made when none covers the case yet.
func (w *Workspace) coveringCheckpoint(ctx context.Context, st *casestore.Store, rec *casestore.CaseRecords, reports map[int64]bool,
	opt ReportOptions) (*report.Checkpoint, error) {
	seq := contentSeq(rec.Audit, reports)
	cps, err := st.ListCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	var found *casestore.Checkpoint
	for i := range cps {
		if cps[i].Seq >= seq && (found == nil || cps[i].Seq < found.Seq) {
			found = &cps[i]
		}
	}
	if found == nil && opt.Signer != nil {
		cp, err := w.checkpoint(ctx, st, opt)
		if err != nil {
			return nil, err
		}
		found = &cp
	}
	if found == nil {
		return nil, nil
	}
	out := &report.Checkpoint{ID: found.ID, Seq: found.Seq, HeadHash: found.HeadHash, KeyID: found.KeyID,
		Signature: hex.EncodeToString(found.Signature), Created: found.CreatedAt.UTC()}
	if len(found.TSAToken) > 0 && opt.TSA != nil {
		if digest, err := casestore.CheckpointDigest(found.Seq, found.HeadHash); err == nil {
			if info, err := tsa.VerifyWithCAFile(found.TSAToken, digest, opt.TSA.CAFile); err == nil {
				out.Stamped = info.Time.UTC()
			}
		}
	}
	return out, nil
}

func (w *Workspace) checkpoint(ctx context.Context, st *casestore.Store, opt ReportOptions) (casestore.Checkpoint, error) {
	cp, err := st.Checkpoint(ctx, opt.Signer)
	if err != nil {
		return cp, err
	}
	return cp, w.AppendAnchor(opt.DSN, cp)
}

// RenderedReport is a report rendered and recorded as an exhibit.
type RenderedReport struct {
	Exhibit casestore.Exhibit `json:"exhibit"`
	Digest  string            `json:"digest"` // the Model's content digest
	Format  string            `json:"format"`
	Lang    string            `json:"lang"`
	// Checkpoint is the checkpoint signed after the report was recorded
	// (nil without a signer).
	Checkpoint *casestore.Checkpoint `json:"checkpoint,omitempty"`
	Data       []byte                `json:"-"`
}

// ReportFormats are the formats a report renders to.
var ReportFormats = []string{"pdf", "html"}

// RenderReport assembles the case's report, renders it (pdf or html) and
// stores the file as an exhibit of the case, named
// report-<reference>-<lang>.<format>, so that it is hashed, time-stamped,
// audited and kept. With a signer a checkpoint then covers its record.
func (w *Workspace) RenderReport(ctx context.Context, st *casestore.Store, p casestore.Principal, caseID int64, format, lang string,
	opt ReportOptions) (*RenderedReport, error) {
	var media string
	switch format {
	case "pdf":
		media = "application/pdf"
	case "html":
		media = "text/html"
	default:
		return nil, fmt.Errorf("workspace: %w: report format %q is not pdf or html", chain.ErrInvalid, format)
	}
	m, err := w.BuildReport(ctx, st, p, caseID, lang, opt)
	if err != nil {
		return nil, err
	}
	var data []byte
	if format == "pdf" {
		data, err = report.RenderPDF(m)
	} else {
		data, err = report.RenderHTML(m)
	}
	if err != nil {
		return nil, err
	}
	params, _ := json.Marshal(map[string]string{"digest": m.Digest})
	name := fmt.Sprintf("report-%s-%s.%s", strings.NewReplacer("/", "-", `\`, "-").Replace(m.Case.Ref), lang, format)
	ex, err := st.AddExhibitWithProvenance(ctx, p, caseID, name, media, casestore.Provenance{
		Source: fmt.Sprintf("%s %s %s", ReportSourcePrefix, format, lang), VestigoVersion: opt.Version, Params: params}, bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	out := &RenderedReport{Exhibit: ex, Digest: m.Digest, Format: format, Lang: lang, Data: data}
	if opt.Signer != nil {
		cp, err := w.checkpoint(ctx, st, opt)
		if err != nil {
			return nil, err
		}
		out.Checkpoint = &cp
	}
	return out, nil
}

// ReportVerification is what VerifyReport found.
type ReportVerification struct {
	SHA256  string             `json:"sha256"`
	Size    int64              `json:"size"`
	Found   bool               `json:"found"`
	Exhibit *casestore.Exhibit `json:"exhibit,omitempty"`
	CaseRef string             `json:"case_reference,omitempty"`
	Digest  string             `json:"digest,omitempty"` // the Model's digest recorded with it
	// Stamped is the time the exhibit's time-stamp token states (zero:
	// not checked or none).
	Stamped time.Time `json:"stamped"`
	// Record is the audit record of the report's creation, Checkpoint the
	// first checkpoint covering it.
	Record     int64                   `json:"record,omitempty"`
	Checkpoint *casestore.Checkpoint   `json:"checkpoint,omitempty"`
	Audit      *casestore.VerifyReport `json:"audit,omitempty"`
	Problems   []string                `json:"problems"`
	Unchecked  []string                `json:"unchecked,omitempty"`
}

// OK says the file is a report Vestigo recorded and everything checked
// agrees.
func (r *ReportVerification) OK() bool { return r.Found && len(r.Problems) == 0 }

// VerifyReport checks a report file: its SHA-256 must be that of a report
// exhibit of one of the principal's cases; the exhibit's time-stamp token
// must verify over it (when v.VerifyToken is set); the audit log must
// verify; and a checkpoint must cover the record of the report's creation.
// The hash decides: one changed byte and the file is not a report Vestigo
// recorded.
func VerifyReport(ctx context.Context, st *casestore.Store, p casestore.Principal, data []byte, v casestore.Verifier) (*ReportVerification, error) {
	sum := sha256.Sum256(data)
	out := &ReportVerification{SHA256: hex.EncodeToString(sum[:]), Size: int64(len(data)), Problems: []string{}}
	var ex *casestore.Exhibit
	var ref string
	for off := 0; ex == nil; off += 1000 {
		cs, err := st.ListCases(ctx, p, casestore.CaseFilter{Limit: 1000, Offset: off})
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			exs, err := st.ListExhibits(ctx, p, c.ID)
			if err != nil {
				return nil, err
			}
			for i := range exs {
				if exs[i].SHA256 == out.SHA256 && IsReportExhibit(exs[i]) {
					ex, ref = &exs[i], c.Reference
					break
				}
			}
			if ex != nil {
				break
			}
		}
		if len(cs) < 1000 {
			break
		}
	}
	if ex == nil {
		out.Problems = append(out.Problems, fmt.Sprintf("not a report Vestigo recorded: no report exhibit of your agency's cases has SHA-256 %s", out.SHA256))
		return out, nil
	}
	out.Found, out.Exhibit, out.CaseRef = true, ex, ref
	var pr struct {
		Digest string `json:"digest"`
	}
	if json.Unmarshal(ex.Provenance.Params, &pr) == nil {
		out.Digest = pr.Digest
	}
	switch {
	case len(ex.TSAToken) == 0:
		out.Unchecked = append(out.Unchecked, "time-stamp: the report was recorded without a TSA token")
	case v.VerifyToken == nil:
		out.Unchecked = append(out.Unchecked, "time-stamp: not checked (no TSA CA configured)")
	default:
		if err := v.VerifyToken(ex.TSAToken, sum[:]); err != nil {
			out.Problems = append(out.Problems, fmt.Sprintf("time-stamp of exhibit %d does not verify: %v", ex.ID, err))
		}
	}
	audit, err := st.Verify(ctx, v)
	if err != nil {
		return nil, err
	}
	out.Audit = audit
	for _, pb := range audit.Problems {
		out.Problems = append(out.Problems, "audit log: "+pb)
	}
	seq, err := creationRecord(ctx, st, p, ex)
	switch {
	case errors.Is(err, casestore.ErrForbidden):
		out.Unchecked = append(out.Unchecked, "checkpoint: your role may not read the audit log of the case")
		return out, nil
	case err != nil:
		return nil, err
	case seq == 0:
		out.Problems = append(out.Problems, fmt.Sprintf("the audit log has no record of the creation of exhibit %d", ex.ID))
		return out, nil
	}
	out.Record = seq
	cps, err := st.ListCheckpoints(ctx)
	if err != nil {
		return nil, err
	}
	for i := range cps {
		if cps[i].Seq >= seq && (out.Checkpoint == nil || cps[i].Seq < out.Checkpoint.Seq) {
			out.Checkpoint = &cps[i]
		}
	}
	if out.Checkpoint == nil {
		out.Problems = append(out.Problems, fmt.Sprintf("no checkpoint covers the report's audit record %d yet (vestigo audit checkpoint)", seq))
	}
	return out, nil
}

// creationRecord is the seq of the audit record that created exhibit ex:
// read from the case's audit log (administrators, reviewers) or its export
// (investigators).
func creationRecord(ctx context.Context, st *casestore.Store, p casestore.Principal, ex *casestore.Exhibit) (int64, error) {
	find := func(rs []casestore.AuditRecord) int64 {
		for _, r := range rs {
			if r.ObjectType == "exhibit" && r.ObjectID == ex.ID && r.Action == casestore.ActionCreate {
				return r.Seq
			}
		}
		return 0
	}
	switch p.Role {
	case casestore.RoleAdmin, casestore.RoleReviewer:
		var after int64
		for {
			rs, err := st.ListAudit(ctx, p, casestore.AuditFilter{CaseID: ex.CaseID, AfterSeq: after, Limit: 1000})
			if err != nil {
				return 0, err
			}
			if s := find(rs); s != 0 {
				return s, nil
			}
			if len(rs) < 1000 {
				return 0, nil
			}
			after = rs[len(rs)-1].Seq
		}
	case casestore.RoleInvestigator:
		rec, err := st.ExportCase(ctx, p, ex.CaseID)
		if err != nil {
			return 0, err
		}
		return find(rec.Audit), nil
	}
	return 0, casestore.ErrForbidden
}

// fiat values every transaction row of the findings in each currency a
// price series of its asset gives for the row's day (exactly, rounded
// half-even to the cent), and lists the series used.
func (rc *reportCtx) fiat() error {
	ps, err := rc.w.Prices()
	if err != nil || ps == nil {
		return err
	}
	defer ps.Close()
	series, err := ps.Series(rc.ctx)
	if err != nil {
		return err
	}
	bySym := map[string][]prices.Series{}
	for _, s := range series {
		bySym[s.Asset] = append(bySym[s.Asset], s)
	}
	used := map[string]bool{}
	for fi := range rc.m.Findings {
		for ri := range rc.m.Findings[fi].Rows {
			r := &rc.m.Findings[fi].Rows[ri]
			ss := bySym[strings.ToUpper(r.Amount.Symbol)]
			if len(ss) == 0 || r.Time.IsZero() || r.Amount.Units == "" {
				continue
			}
			for _, s := range ss {
				q, ok, err := ps.Quote(rc.ctx, s.Asset, s.Currency, r.Time)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				v, err := prices.Value(r.Amount.Units, q.Rat())
				if err != nil {
					return err
				}
				if r.Amount.Fiat == nil {
					r.Amount.Fiat = map[string]string{}
				}
				r.Amount.Fiat[s.Currency] = v
				used[s.Asset+"|"+s.Currency] = true
			}
		}
	}
	for _, s := range series {
		if used[s.Asset+"|"+s.Currency] {
			rc.m.Prices = append(rc.m.Prices, report.PriceSeries{Asset: s.Asset, Currency: s.Currency, File: s.File, SHA256: s.SHA256,
				From: s.First, To: s.Last, Days: s.Days})
		}
	}
	return nil
}
