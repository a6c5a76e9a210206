package tags

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Format names a kind of attribution file.
type Format string

// The formats Import reads.
const (
	FormatTagPack   Format = "tagpack"   // GraphSense TagPack YAML
	FormatActorPack Format = "actorpack" // GraphSense ActorPack YAML
	FormatOFACXML   Format = "ofac-xml"  // OFAC SDN advanced XML (sdn_advanced.xml)
	FormatOFACCSV   Format = "ofac-csv"  // OFAC legacy SDN.CSV and SDN_COMMENTS.CSV
	FormatOFACList  Format = "ofac-list" // 0xB10C sanctioned_addresses_<TICKER>.txt
	FormatCSV       Format = "csv"       // address,label,category,source[,confidence]
	// FormatEtherscanCSV is an Etherscan label CSV as brianleect/etherscan-labels
	// (",Address,Name Tag,Balance,Txn Count") or dawsbot/eth-labels
	// ("address,nameTag") publish them, one file per label set.
	FormatEtherscanCSV Format = "etherscan-csv"
	// FormatUser is the format of the "user" pack, which holds the tags an
	// analyst adds with AddUserTag; it is not a file format.
	FormatUser Format = "user"
)

// Formats lists the file formats Import reads.
func Formats() []Format {
	return []Format{FormatTagPack, FormatActorPack, FormatOFACXML, FormatOFACCSV, FormatOFACList, FormatCSV, FormatEtherscanCSV}
}

// UserPack is the name of the pack that holds user tags.
const UserPack = "user"

// PackRef says which imported file (pack) a tag or actor comes from.
type PackRef struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`   // file base name, or "user"
	Format Format `json:"format"` // format the file was read as
	SHA256 string `json:"sha256"` // hex SHA-256 of the file bytes (empty for the user pack)
	Title  string `json:"title,omitempty"`
}

// Tag is one attribution of an address (or a transaction) by one source.
// Every tag keeps its pack and line, so that an investigator can show where
// each claim came from.
type Tag struct {
	Address          string   `json:"address,omitempty"`
	AddressProblem   string   `json:"address_problem,omitempty"` // set when the source's address does not validate
	Currency         string   `json:"currency"`
	Network          string   `json:"network,omitempty"`
	TxHash           string   `json:"tx_hash,omitempty"`
	Label            string   `json:"label"`
	Category         string   `json:"category,omitempty"`
	Abuse            string   `json:"abuse,omitempty"`
	Concepts         []string `json:"concepts,omitempty"`
	TagType          string   `json:"tag_type,omitempty"`
	Source           string   `json:"source"`
	Confidence       string   `json:"confidence,omitempty"` // a GraphSense confidence id
	ConfidenceLevel  int      `json:"confidence_level"`     // 0..100
	Creator          string   `json:"creator,omitempty"`
	LastMod          string   `json:"lastmod,omitempty"` // as given in the source, validated as a date
	Actor            string   `json:"actor,omitempty"`
	ActorLabel       string   `json:"actor_label,omitempty"`
	Context          string   `json:"context,omitempty"`
	IsPublic         bool     `json:"is_public"`
	IsClusterDefiner bool     `json:"is_cluster_definer"`
	Sanctioned       bool     `json:"sanctioned"`
	Pack             PackRef  `json:"pack"`
	Line             int      `json:"line"` // line of the tag in the pack's file (ordinal for user tags)
}

// Actor is an entry of a GraphSense ActorPack: the real-world actor that a
// tag's Actor field refers to by ID.
type Actor struct {
	ID            string   `json:"id"`
	Label         string   `json:"label"`
	URI           string   `json:"uri,omitempty"`
	Categories    []string `json:"categories,omitempty"`
	Jurisdictions []string `json:"jurisdictions,omitempty"`
	Aliases       []string `json:"aliases,omitempty"`
	Context       string   `json:"context,omitempty"` // JSON
	Pack          PackRef  `json:"pack"`
	Line          int      `json:"line"`
}

// PackInfo describes a stored pack.
type PackInfo struct {
	PackRef
	Creator    string `json:"creator,omitempty"`
	Path       string `json:"path,omitempty"` // path the file was imported from
	ImportedAt string `json:"imported_at"`    // RFC 3339, UTC
	Tags       int    `json:"tags"`
	Actors     int    `json:"actors"`
}

// Import statuses of a FileResult.
const (
	StatusImported  = "imported"  // a new pack
	StatusReplaced  = "replaced"  // a pack of the same name was replaced
	StatusUnchanged = "unchanged" // same name and same content: nothing written
	StatusFailed    = "failed"    // nothing of this file was stored
	StatusSkipped   = "skipped"   // not a recognised format (folder imports only)
)

// FileResult reports the import of one file.
type FileResult struct {
	Path   string   `json:"path"`
	Name   string   `json:"name"`
	Format Format   `json:"format,omitempty"`
	SHA256 string   `json:"sha256,omitempty"`
	Status string   `json:"status"`
	Tags   int      `json:"tags"`             // tags the pack holds after the import
	Actors int      `json:"actors,omitempty"` // actors the pack holds after the import
	Notes  []string `json:"notes,omitempty"`  // what an analyst should know (e.g. truncated remarks)
	Error  string   `json:"error,omitempty"`
	Err    error    `json:"-"`
}

// Conflict reports tags of one address (or cluster) that disagree.
type Conflict struct {
	Kind   string   `json:"kind"`   // ConflictCategory, ConflictAbuse, ConflictCategoryAbuse or ConflictActor
	Values []string `json:"values"` // the disagreeing values, sorted
	Tags   []int    `json:"tags"`   // indexes into the tags given to Conflicts
	Packs  []string `json:"packs"`  // names of the packs of those tags, sorted
}

// Conflict kinds.
const (
	ConflictCategory      = "category"       // two specific entity categories, neither a kind of the other
	ConflictAbuse         = "abuse"          // two different activities, neither a kind of the other
	ConflictCategoryAbuse = "category-abuse" // a legitimate service and a criminal activity
	ConflictActor         = "actor"          // different actors
)

// Options configure a Store.
type Options struct {
	// MaxFileBytes is the largest file Import reads; larger files are refused
	// before reading. Default 256 MiB.
	MaxFileBytes int64
	// MaxYAMLNodes caps the nodes of a YAML document. It is checked before
	// parsing against an upper bound computed from the raw bytes, and again
	// on the parsed tree. Default 1,000,000.
	MaxYAMLNodes int
	// MaxYAMLDepth caps the nesting of a YAML document. Default 20.
	MaxYAMLDepth int
	// Logger receives what the store has to say; nil discards it.
	Logger *slog.Logger
}

const (
	defaultMaxFileBytes = 256 << 20
	defaultMaxYAMLNodes = 1_000_000
	defaultMaxYAMLDepth = 20
)

func (o Options) withDefaults() Options {
	if o.MaxFileBytes <= 0 {
		o.MaxFileBytes = defaultMaxFileBytes
	}
	if o.MaxYAMLNodes <= 0 {
		o.MaxYAMLNodes = defaultMaxYAMLNodes
	}
	if o.MaxYAMLDepth <= 0 {
		o.MaxYAMLDepth = defaultMaxYAMLDepth
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}

// lineError is an error at a line of a file; it wraps chain.ErrInvalid.
type lineError struct {
	File string
	Line int
	Msg  string
}

func (e *lineError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("tags: %s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("tags: %s: %s", e.File, e.Msg)
}

func (e *lineError) Unwrap() error { return chain.ErrInvalid }

func errAt(file string, line int, format string, args ...any) error {
	return &lineError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// invalid returns an error without a place, wrapping chain.ErrInvalid.
func invalid(format string, args ...any) error {
	return fmt.Errorf("tags: %w: %s", chain.ErrInvalid, fmt.Sprintf(format, args...))
}

// IsInvalid reports whether err is a rejection of bad input.
func IsInvalid(err error) bool { return errors.Is(err, chain.ErrInvalid) }

// isSanctioned is the rule that makes a tag "sanctioned". A tag is
// sanctioned when
//
//  1. it comes from one of OFAC's own lists (formats ofac-xml, ofac-csv and
//     ofac-list), or
//  2. its source is a page of the US Treasury: a URL whose host is
//     treasury.gov or ends in .treasury.gov (home., www., ofac.treasury.gov),
//     or is ofac.treas.gov or ends in .ofac.treas.gov
//     (sanctionssearch.ofac.treas.gov, sanctionslist.ofac.treas.gov), or
//  3. its category or abuse is the taxonomy's sanction concept ("sanction",
//     "Sanction List").
//
// Nothing else is inferred: a tag whose label merely mentions a sanctioned
// party is not sanctioned by this rule.
func isSanctioned(f Format, t *Tag) bool {
	switch f {
	case FormatOFACXML, FormatOFACCSV, FormatOFACList:
		return true
	}
	if sanctionConcepts[t.Category] || sanctionConcepts[t.Abuse] {
		return true
	}
	for _, c := range t.Concepts {
		if sanctionConcepts[c] {
			return true
		}
	}
	return isTreasuryURL(t.Source)
}

func isTreasuryURL(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" {
		return false
	}
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	h := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	return h == "treasury.gov" || strings.HasSuffix(h, ".treasury.gov") ||
		h == "ofac.treas.gov" || strings.HasSuffix(h, ".ofac.treas.gov")
}
