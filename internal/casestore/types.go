package casestore

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"time"
)

// Options configure a Store. The zero value is usable except for exhibits,
// which need ExhibitDir.
type Options struct {
	Logger *slog.Logger     // default: discard
	Clock  func() time.Time // default: time.Now; times are kept to the microsecond, in UTC
	Rand   io.Reader        // default: crypto/rand.Reader; salts, session and token secrets
	// ExhibitDir holds exhibit files, content-addressed:
	// ExhibitDir/sha256/ab/<hex>. Required by AddExhibit and OpenExhibit.
	ExhibitDir string
	// MaxExhibit is the largest exhibit accepted, in bytes (default 256 MiB).
	MaxExhibit int64
	// Timestamper, when set, time-stamps every exhibit's SHA-256 and every
	// checkpoint's digest (RFC 3161); its tokens are stored with them.
	Timestamper Timestamper
	// Argon2 are the password hashing parameters of new hashes (default
	// DefaultArgon2). Stored hashes keep the parameters they were made with.
	Argon2 Argon2Params
}

// Timestamper obtains an RFC 3161 time-stamp token over a SHA-256 digest.
type Timestamper interface {
	Timestamp(ctx context.Context, digest []byte) ([]byte, error)
}

// Argon2Params are argon2id parameters: memory in KiB, iterations, lanes.
type Argon2Params struct {
	Memory  uint32 `json:"memory_kib"`
	Time    uint32 `json:"time"`
	Threads uint8  `json:"threads"`
}

// DefaultArgon2 is OWASP's recommended argon2id setting: 19 MiB, 2
// iterations, 1 lane.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Agency is an organisation; every user and case belongs to one, and a user
// sees only their agency's data.
type Agency struct {
	ID        int64     `json:"id"`
	Code      string    `json:"code"` // short unique code, e.g. "KOS-PD"
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// User is an account. The password hash is never returned.
type User struct {
	ID        int64     `json:"id"`
	AgencyID  int64     `json:"agency_id"`
	Username  string    `json:"username"`
	Role      Role      `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

// Token is an API token's metadata. The secret is shown once, by
// CreateToken; the store keeps only its SHA-256.
type Token struct {
	ID         int64     `json:"id"`
	UserID     int64     `json:"user_id"`
	Name       string    `json:"name"`
	Prefix     string    `json:"prefix"` // the secret's first characters, to recognise it
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"` // zero: never used
	Revoked    bool      `json:"revoked"`
}

// CaseStatus is a case's state.
type CaseStatus string

// Case statuses.
const (
	StatusOpen     CaseStatus = "open"
	StatusClosed   CaseStatus = "closed"
	StatusArchived CaseStatus = "archived"
)

// Case is an investigation. Version increases with every change; UpdateCase
// must be given the version it read (optimistic concurrency).
type Case struct {
	ID         int64      `json:"id"`
	AgencyID   int64      `json:"agency_id"`
	Reference  string     `json:"reference"` // unique within the agency, e.g. "2024/0137"
	Title      string     `json:"title"`
	Status     CaseStatus `json:"status"`
	LegalBasis string     `json:"legal_basis"`
	LeadUserID int64      `json:"lead_user_id"` // 0: none
	Opened     time.Time  `json:"opened"`
	Closed     time.Time  `json:"closed"` // zero while not closed
	// Imported cases: the sending agency, the package's digest and when.
	OriginAgency        string    `json:"origin_agency,omitempty"`
	OriginPackageDigest string    `json:"origin_package_digest,omitempty"`
	OriginSenderKeyID   string    `json:"origin_sender_key_id,omitempty"`
	ImportedAt          time.Time `json:"imported_at"`
	Version             int64     `json:"version"`
	CreatedBy           int64     `json:"created_by"`
	CreatedAt           time.Time `json:"created_at"`
	UpdatedAt           time.Time `json:"updated_at"`
}

// CaseFilter narrows ListCases. Zero values match everything; Limit 0 means
// 100, at most 1000.
type CaseFilter struct {
	Status CaseStatus
	Limit  int
	Offset int
	// NewestFirst lists the most recently opened (created) cases first.
	NewestFirst bool
}

// SubjectKind is what a subject is.
type SubjectKind string

// Subject kinds.
const (
	SubjectPerson       SubjectKind = "person"
	SubjectOrganisation SubjectKind = "organisation"
	SubjectUnknown      SubjectKind = "unknown"
)

// Subject is a person or organisation of interest in a case.
type Subject struct {
	ID        int64       `json:"id"`
	CaseID    int64       `json:"case_id"`
	Name      string      `json:"name"`
	Kind      SubjectKind `json:"kind"`
	Notes     string      `json:"notes"`
	Version   int64       `json:"version"`
	CreatedBy int64       `json:"created_by"`
	CreatedAt time.Time   `json:"created_at"`
	UpdatedAt time.Time   `json:"updated_at"`
}

// ItemKind is what an item of interest is.
type ItemKind string

// Item kinds.
const (
	ItemAddress ItemKind = "address"
	ItemTx      ItemKind = "tx"
	ItemEntity  ItemKind = "entity"
)

// SourceIdentity says which data source answered: the node's version and
// the chain's genesis hash.
type SourceIdentity struct {
	NodeVersion string `json:"node_version,omitempty"`
	GenesisHash string `json:"genesis_hash,omitempty"`
}

// Provenance is where a fact came from: the source, the chain state it was
// read at, the software and parameters that computed it, who and when.
// Items and findings store it as given, except Actor and At, which the
// store sets to the principal and the time of the write (an imported case
// keeps the sender's).
type Provenance struct {
	Source         string          `json:"source,omitempty"` // e.g. "btcd rpc http://127.0.0.1:8334" or "block files /data/blocks"
	SourceIdentity SourceIdentity  `json:"source_identity"`
	Chain          string          `json:"chain,omitempty"`
	Network        string          `json:"network,omitempty"`
	BlockHash      string          `json:"block_hash,omitempty"`
	Height         int64           `json:"height,omitempty"`
	IndexTip       int64           `json:"index_tip,omitempty"` // height of the index's tip when computed
	VestigoVersion string          `json:"vestigo_version,omitempty"`
	Params         json.RawMessage `json:"params,omitempty"`
	Actor          string          `json:"actor,omitempty"`
	At             time.Time       `json:"at"`
}

// Item is an item of interest of a case: an address, a transaction or an
// entity (cluster), with the provenance of whoever added it.
type Item struct {
	ID         int64      `json:"id"`
	CaseID     int64      `json:"case_id"`
	Kind       ItemKind   `json:"kind"`
	Chain      string     `json:"chain"`   // e.g. "btc"
	Network    string     `json:"network"` // e.g. "mainnet"
	Ref        string     `json:"ref"`     // address, txid, or entity reference
	Label      string     `json:"label"`
	Provenance Provenance `json:"provenance"`
	Version    int64      `json:"version"`
	CreatedBy  int64      `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Note is free text on a case (ItemID 0) or on one of its items.
type Note struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	ItemID    int64     `json:"item_id"` // 0: on the case
	Text      string    `json:"text"`
	Version   int64     `json:"version"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ItemTag is a user's label on an item (not an attribution tag of package
// tags: it is the investigator's own mark, e.g. "suspect wallet").
type ItemTag struct {
	ID        int64     `json:"id"`
	CaseID    int64     `json:"case_id"`
	ItemID    int64     `json:"item_id"`
	Label     string    `json:"label"`
	Category  string    `json:"category"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

// FindingKind is what produced a finding.
type FindingKind string

// Finding kinds.
const (
	FindingTrace    FindingKind = "trace"
	FindingPath     FindingKind = "path"
	FindingExposure FindingKind = "exposure"
	FindingPatterns FindingKind = "patterns"
	FindingRisk     FindingKind = "risk"
	FindingScreen   FindingKind = "screen"
	FindingDeposits FindingKind = "deposits" // the deposit-address heuristic on an EVM chain
	FindingOther    FindingKind = "other"
)

// Finding is a stored analysis result: the parameters it ran with, its
// result and provenance, all JSON kept as given. Findings are not changed
// after they are stored (run the analysis again instead); they may be
// deleted.
type Finding struct {
	ID         int64           `json:"id"`
	CaseID     int64           `json:"case_id"`
	Kind       FindingKind     `json:"kind"`
	Title      string          `json:"title"`
	Params     json.RawMessage `json:"params"`
	Result     json.RawMessage `json:"result"`
	Provenance Provenance      `json:"provenance"`
	CreatedBy  int64           `json:"created_by"`
	CreatedAt  time.Time       `json:"created_at"`
}

// Exhibit is a file attached to a case (a bank letter, an exchange's
// answer, a screenshot). Its content lives once per SHA-256 under
// Options.ExhibitDir; TSAToken is the RFC 3161 token over the SHA-256 when
// a Timestamper was configured.
type Exhibit struct {
	ID         int64      `json:"id"`
	CaseID     int64      `json:"case_id"`
	Name       string     `json:"name"`
	MediaType  string     `json:"media_type"`
	Size       int64      `json:"size"`
	SHA256     string     `json:"sha256"` // lower-case hex
	Provenance Provenance `json:"provenance"`
	TSAToken   []byte     `json:"tsa_token,omitempty"`
	CreatedBy  int64      `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
}

// TaskStatus is a task's progress.
type TaskStatus string

// Task statuses.
const (
	TaskTodo  TaskStatus = "todo"
	TaskDoing TaskStatus = "doing"
	TaskDone  TaskStatus = "done"
)

// Task is a to-do of a case.
type Task struct {
	ID         int64      `json:"id"`
	CaseID     int64      `json:"case_id"`
	Title      string     `json:"title"`
	AssigneeID int64      `json:"assignee_id"` // 0: unassigned
	Status     TaskStatus `json:"status"`
	Due        time.Time  `json:"due"` // zero: no due date
	Version    int64      `json:"version"`
	CreatedBy  int64      `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Audit actions.
const (
	ActionCreate      = "create"
	ActionChange      = "change"
	ActionView        = "view"
	ActionExport      = "export"
	ActionDelete      = "delete"
	ActionLogin       = "login"
	ActionLoginFailed = "login-failed"
	ActionDenied      = "denied"
	ActionCheckpoint  = "checkpoint"
	ActionImport      = "import"
)

// Event is what a caller of Audit records: a denial the API decided itself
// (a route the role lacks), or a read worth recording. Action must be
// "denied", "view" or "export"; Detail, if given, must be a JSON object.
type Event struct {
	Action     string          `json:"action"`
	ObjectType string          `json:"object_type,omitempty"` // e.g. "case", "route"
	ObjectID   int64           `json:"object_id,omitempty"`
	CaseID     int64           `json:"case_id,omitempty"`
	Detail     json.RawMessage `json:"detail,omitempty"`
}

// AuditRecord is one record of the audit log. Hash is
// SHA-256(PrevHash ‖ canonical encoding of the record); see the package
// documentation.
type AuditRecord struct {
	Seq        int64     `json:"seq"`
	At         time.Time `json:"at"`
	ActorID    int64     `json:"actor_id"` // 0: the system or an unknown user
	Actor      string    `json:"actor"`
	AgencyID   int64     `json:"agency_id"`
	Action     string    `json:"action"`
	ObjectType string    `json:"object_type"`
	ObjectID   int64     `json:"object_id"`
	CaseID     int64     `json:"case_id"`
	Detail     string    `json:"detail"`      // canonical JSON object
	ObjectHash string    `json:"object_hash"` // hex; empty for deletes and for records of no change
	PrevHash   string    `json:"prev_hash"`   // hex
	Hash       string    `json:"hash"`        // hex
}

// AuditFilter narrows ListAudit. CaseID 0: every record of the agency.
// Limit 0 means 100, at most 1000.
type AuditFilter struct {
	CaseID   int64
	AfterSeq int64
	Limit    int
}

// Checkpoint is a signed statement of the audit log's head: the
// installation key signs (Seq, HeadHash); TSAToken time-stamps the same
// digest.
type Checkpoint struct {
	ID        int64     `json:"id"`
	Seq       int64     `json:"seq"`
	HeadHash  string    `json:"head_hash"`  // hex
	KeyID     string    `json:"key_id"`     // hex SHA-256 of the ed25519 public key
	PublicKey []byte    `json:"public_key"` // ed25519
	Signature []byte    `json:"signature"`
	TSAToken  []byte    `json:"tsa_token,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Verifier is what Verify checks signatures and time-stamps with.
// SigningKeys are the installation's trusted public keys: a checkpoint
// signed by another key is a problem. VerifyToken checks an RFC 3161 token
// over a digest; nil leaves tokens unchecked (said in the report).
//
// Anchors are checkpoints the caller kept outside the database (e.g. every
// checkpoint appended to an append-only file with AppendAnchor, read back
// with ReadAnchors). Whoever can write the database can rewrite the log
// with a recomputed chain and delete its checkpoint rows; they cannot
// change an anchor kept elsewhere, so Verify checks every anchor against
// the log: signed by one of SigningKeys, the log's record at its seq
// having the hash it signs, its checkpoint row present, its token.
type Verifier struct {
	SigningKeys []ed25519.PublicKey
	VerifyToken func(token, digest []byte) error
	Anchors     []Checkpoint
}

// VerifyReport is the outcome of Verify. Problems are in order: the log,
// the checkpoints, the anchors, the stored objects, the exhibit files. Unchecked says
// what could not be checked (no key, no token verifier); it is not a
// problem in itself.
type VerifyReport struct {
	Records     int64    `json:"records"`
	HeadSeq     int64    `json:"head_seq"`
	HeadHash    string   `json:"head_hash"`
	Checkpoints int      `json:"checkpoints"`
	Anchors     int      `json:"anchors"`  // anchors checked (Verifier.Anchors)
	Anchored    int64    `json:"anchored"` // the highest seq a valid anchor vouches for (0: none)
	Objects     int      `json:"objects"`
	Exhibits    int      `json:"exhibits"`
	Problems    []string `json:"problems"`
	Unchecked   []string `json:"unchecked,omitempty"`
}

// OK says the store verified without problems.
func (r *VerifyReport) OK() bool { return len(r.Problems) == 0 }

// First names the first problem, or "" when there is none.
func (r *VerifyReport) First() string {
	if len(r.Problems) == 0 {
		return ""
	}
	return r.Problems[0]
}

// DeconflictHit is an item of a case whose reference also appears in other
// cases the principal may see.
type DeconflictHit struct {
	ItemID  int64         `json:"item_id"`
	Kind    ItemKind      `json:"kind"`
	Chain   string        `json:"chain"`
	Network string        `json:"network"`
	Ref     string        `json:"ref"`
	Others  []CaseItemRef `json:"others"`
}

// CaseItemRef names an item in another case.
type CaseItemRef struct {
	CaseID    int64  `json:"case_id"`
	Reference string `json:"reference"`
	Title     string `json:"title"`
	ItemID    int64  `json:"item_id"`
}

// Origin says where an imported case came from.
type Origin struct {
	Agency        string `json:"agency"`         // the sending agency's code
	PackageDigest string `json:"package_digest"` // e.g. hex SHA-256 of the package
	SenderKeyID   string `json:"sender_key_id"`
}

// CaseRecords is everything of one case, as ExportCase returns it and
// ImportCase takes it. It marshals to JSON.
type CaseRecords struct {
	Case     Case          `json:"case"`
	Subjects []Subject     `json:"subjects"`
	Items    []Item        `json:"items"`
	Notes    []Note        `json:"notes"`
	Tags     []ItemTag     `json:"tags"`
	Findings []Finding     `json:"findings"`
	Exhibits []Exhibit     `json:"exhibits"`
	Tasks    []Task        `json:"tasks"`
	Audit    []AuditRecord `json:"audit"`
}

// ExhibitFile is one exhibit file of the store, for backups.
type ExhibitFile struct {
	SHA256 string `json:"sha256"`
	Path   string `json:"path"`     // absolute path under ExhibitDir
	Rel    string `json:"rel_path"` // path relative to ExhibitDir
}
