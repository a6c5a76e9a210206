package report

import "time"

// FormatVersion names the layout of a Model.
const FormatVersion = "vestigo-report/1"

// Model is everything a report shows, assembled from the case store, the
// indexes, the tags, the price series and the saved evaluations (package
// workspace does that). Renderers turn it into HTML or PDF without asking
// anything else: the same Model gives the same bytes.
//
// Text fields hold data (labels, addresses, titles typed by investigators:
// untrusted, escaped by the renderers). Sentences and headings come from
// the renderer's catalogue in the report's language, keyed by the Kind and
// ID fields below.
type Model struct {
	Format string `json:"format"`
	// Lang is the report's language: en, sq, mk, sr (Serbian, Cyrillic) or
	// sr-Latn.
	Lang string `json:"lang"`
	// Created is the recorded creation time: the only field that differs
	// between two renderings of the same case state.
	Created time.Time `json:"created"`
	// Vestigo is the version of the program that rendered it.
	Vestigo string   `json:"vestigo"`
	Case    CaseInfo `json:"case"`
	// Digest is the SHA-256 (hex) of the canonical JSON of the Model with
	// Created and Digest left empty (see ContentDigest): the report's
	// content hash shown on the cover.
	Digest string `json:"digest"`

	Summary     Summary         `json:"summary"`
	Diagrams    []Diagram       `json:"diagrams"`
	Findings    []Finding       `json:"findings"`
	Addresses   []AddressTag    `json:"addresses"`
	Methodology []Method        `json:"methodology"`
	Provenance  Provenance      `json:"provenance"`
	Prices      []PriceSeries   `json:"prices"`
	Manifest    []ManifestEntry `json:"manifest"`
	Checkpoint  *Checkpoint     `json:"checkpoint"`
}

// CaseInfo is the cover's case.
type CaseInfo struct {
	ID         int64     `json:"id"`
	Ref        string    `json:"ref"`
	Title      string    `json:"title"`
	Agency     string    `json:"agency"` // the agency's name
	AgencyCode string    `json:"agency_code"`
	Author     string    `json:"author"` // the user who renders the report
	LegalBasis string    `json:"legal_basis"`
	Status     string    `json:"status"`
	Opened     time.Time `json:"opened"`
}

// Summary is the plain-language summary, as structured statements the
// renderer words in the report's language.
type Summary struct {
	// Flows: who paid whom, how much, through which patterns: the tagged
	// destinations of each trace finding and its largest untagged ones.
	Flows []Flow `json:"flows"`
	// Rest sums, per finding, the destinations Flows leaves out (they are
	// in the finding's table).
	Rest []FlowRest `json:"rest"`
	// Services that can receive a legal request (exchanges and other
	// custodians reached), with the deposit addresses at each.
	Services []Service `json:"services"`
	// Patterns found, with how often.
	Patterns []PatternCount `json:"patterns"`
	// Counts of the case's contents.
	Items         int `json:"items"`
	FindingsCount int `json:"findings"`
	Exhibits      int `json:"exhibits"`
}

// Amount is an exact amount: base units (satoshis, wei, a token's
// smallest unit) and the same in whole units with the asset's symbol; Fiat
// holds its value in other currencies at the time, where a price series
// was imported ("EUR" → "1234.56").
type Amount struct {
	Base   string            `json:"base"`
	Units  string            `json:"units"`
	Symbol string            `json:"symbol"`
	Fiat   map[string]string `json:"fiat,omitempty"`
}

// Flow is "funds of From reached To": a destination of a trace finding.
type Flow struct {
	FindingID int64    `json:"finding_id"`
	From      []string `json:"from"` // the traced addresses (or an entity reference)
	To        string   `json:"to"`
	ToLabel   string   `json:"to_label"` // the destination's tag label, if any
	Category  string   `json:"category"` // the destination's category, if tagged
	Amount    Amount   `json:"amount"`
	Hops      int      `json:"hops"`
	Model     string   `json:"model"`     // haircut, fifo or poison
	Direction string   `json:"direction"` // forward or backward
	Patterns  []string `json:"patterns"`  // typologies on the way (peel_chain, ...)
}

// FlowRest is what the other destinations of a trace finding received.
type FlowRest struct {
	FindingID    int64  `json:"finding_id"`
	Destinations int    `json:"destinations"`
	Amount       Amount `json:"amount"`
}

// Service is a service reached by the funds that can answer a legal
// request.
type Service struct {
	Name     string   `json:"name"`
	Category string   `json:"category"`
	Address  string   `json:"address"` // the service's address the funds reached
	Chain    string   `json:"chain"`   // btc-regtest, evm-1, ...
	Amount   Amount   `json:"amount"`
	Deposits []string `json:"deposit_addresses"`
	Source   string   `json:"source"` // where the attribution comes from
}

// PatternCount is a typology and how often the case's findings show it.
type PatternCount struct {
	Type    string   `json:"type"`
	Count   int      `json:"count"`
	Example string   `json:"example"` // one explanation, as the detector wrote it
	Txs     []string `json:"txs"`
}

// Diagram is a fund-flow diagram: a saved graph of the case or the graph
// of a trace finding. Positions are in points when the source had them
// (a saved graph); otherwise the renderer lays the diagram out.
type Diagram struct {
	Title  string `json:"title"`
	Source string `json:"source"` // "exhibit 3 (sha256 …)" or "finding 2"
	Nodes  []Node `json:"nodes"`
	Edges  []Edge `json:"edges"`
	HasPos bool   `json:"has_positions"`
}

// Node of a diagram.
type Node struct {
	ID       string  `json:"id"`
	Label    string  `json:"label"`    // address (shortened by the renderer) or tag label
	Kind     string  `json:"kind"`     // address, tx, entity
	Category string  `json:"category"` // exchange, mixing_service, ransomware, ... or ""
	Note     string  `json:"note"`
	X        float64 `json:"x,omitempty"`
	Y        float64 `json:"y,omitempty"`
}

// Edge of a diagram: money moved From → To.
type Edge struct {
	From   string `json:"from"`
	To     string `json:"to"`
	Amount string `json:"amount"` // in whole units with the symbol, as the source gave it
	When   string `json:"when"`   // a date, if known
}

// Finding is one stored analysis result with its transactions.
type Finding struct {
	ID      int64     `json:"id"`
	Title   string    `json:"title"`
	Kind    string    `json:"kind"` // trace, path, exposure, patterns, risk, screen, deposits, other
	Params  []Param   `json:"params"`
	Created time.Time `json:"created"`
	Rows    []TxRow   `json:"rows"`
	// Notes are lines the finding's kind gives (a risk score's factors, a
	// screening's results) that are not transactions.
	Notes []string `json:"notes"`
	// Source names the index and tip the finding was computed on.
	Source string `json:"source"`
}

// Param is one parameter of a finding, in order.
type Param struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TxRow is one transaction (or move) of a finding.
type TxRow struct {
	Height int64     `json:"height"`
	Time   time.Time `json:"time"`
	Tx     string    `json:"tx"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Amount Amount    `json:"amount"`
	Hop    int       `json:"hop"`
}

// AddressTag is an address of the case with each tag on it.
type AddressTag struct {
	Address string `json:"address"`
	Chain   string `json:"chain"`
	Tags    []Tag  `json:"tags"`
}

// Tag is one attribution with where it comes from.
type Tag struct {
	Label      string `json:"label"`
	Category   string `json:"category"`
	Source     string `json:"source"`
	Confidence int    `json:"confidence"`
	Pack       string `json:"pack"`
	Sanctioned bool   `json:"sanctioned"`
}

// Method is a heuristic or model the report's findings used, with its
// parameters and measured error rates. ID keys its description and its
// limits in the renderer's catalogue: "cospend", "change", "coinjoin",
// "taint.haircut", "taint.fifo", "taint.poison", "path", "patterns",
// "deposit", "exposure", "risk", "screen", "attribution".
type Method struct {
	ID      string   `json:"id"`
	Params  []Param  `json:"params"`
	Figures []Figure `json:"figures"`
}

// Figure is one measured precision/recall, and what it was measured on.
type Figure struct {
	Name      string  `json:"name"` // the heuristic or detector
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Support   uint64  `json:"support"` // positives in the truth
	// MeasuredOn names the chain: "generated ransomware scenario, seed 7,
	// regtest, tip 312 0000…".
	MeasuredOn string `json:"measured_on"`
}

// Provenance says where the data came from and how to reproduce it.
type Provenance struct {
	Sources []DataSource `json:"sources"`
	// Commands reproduce each finding with Vestigo.
	Commands []string `json:"commands"`
}

// DataSource is one index the report's data came from.
type DataSource struct {
	Ledger      string `json:"ledger"` // btc-mainnet, evm-1, ...
	Source      string `json:"source"` // node or block files
	NodeVersion string `json:"node_version"`
	Genesis     string `json:"genesis"`
	TipHeight   int64  `json:"tip_height"`
	TipHash     string `json:"tip_hash"`
}

// PriceSeries is an imported price series a fiat value came from.
type PriceSeries struct {
	Asset    string `json:"asset"`    // BTC, ETH
	Currency string `json:"currency"` // EUR, USD
	File     string `json:"file"`
	SHA256   string `json:"sha256"`
	From     string `json:"from"` // first and last day, YYYY-MM-DD
	To       string `json:"to"`
	Days     int    `json:"days"`
}

// ManifestEntry is an exhibit or export of the case with its hash and its
// RFC 3161 time-stamp.
type ManifestEntry struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	MediaType string    `json:"media_type"`
	Size      int64     `json:"size"`
	SHA256    string    `json:"sha256"`
	Added     time.Time `json:"added"`
	// Stamped is the time the TSA's token gives; zero without a token.
	Stamped time.Time `json:"stamped"`
	TSA     string    `json:"tsa"` // the token's signer, or ""
}

// Checkpoint is the signed audit checkpoint that covers the report's case
// state.
type Checkpoint struct {
	ID        int64     `json:"id"`
	Seq       int64     `json:"seq"`
	HeadHash  string    `json:"head_hash"`
	KeyID     string    `json:"key_id"`
	Signature string    `json:"signature"` // hex
	Created   time.Time `json:"created"`
	Stamped   time.Time `json:"stamped"`
}
