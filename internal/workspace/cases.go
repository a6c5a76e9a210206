package workspace

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/backup"
	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/casepack"
	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/tsa"
)

// Environment variables of the case store and the installation keys.
const (
	// EnvDB names the case store: a SQLite file or postgres://… (default
	// DATA/cases.db).
	EnvDB = "VESTIGO_DB"
	// EnvPassphrase is the passphrase the installation's private keys are
	// encrypted with.
	EnvPassphrase = "VESTIGO_PASSPHRASE"
	// EnvTSAURL and EnvTSACA configure the RFC 3161 time-stamping
	// authority: its URL and the PEM file of the CA its certificate chains to.
	EnvTSAURL = "VESTIGO_TSA_URL"
	EnvTSACA  = "VESTIGO_TSA_CA"
)

// ErrNoPassphrase reports that the keys are needed but no passphrase was
// given.
var ErrNoPassphrase = errors.New("no passphrase for the installation keys")

// CaseOptions open the case store.
type CaseOptions struct {
	// DSN is the case store: "" for DATA/cases.db, a SQLite path, or a
	// postgres:// URL.
	DSN string
	// TSA, when set, time-stamps exhibits and checkpoints.
	TSA *TSAConfig
	// Argon2 overrides the password hashing parameters (tests).
	Argon2 casestore.Argon2Params
	// MaxExhibit bounds an exhibit (0: the store's default).
	MaxExhibit int64
}

// TSAConfig names a time-stamping authority.
type TSAConfig struct {
	URL    string
	CAFile string
}

// TSAFromEnv returns the TSA of the environment, or nil when none is set.
func TSAFromEnv() (*TSAConfig, error) {
	u, ca := os.Getenv(EnvTSAURL), os.Getenv(EnvTSACA)
	if u == "" && ca == "" {
		return nil, nil
	}
	if u == "" || ca == "" {
		return nil, fmt.Errorf("workspace: set both %s and %s (the TSA's URL and its CA certificate)", EnvTSAURL, EnvTSACA)
	}
	return &TSAConfig{URL: u, CAFile: ca}, nil
}

// stamper adapts the RFC 3161 client to the case store.
type stamper struct{ c *tsa.Client }

func (s stamper) Timestamp(ctx context.Context, digest []byte) ([]byte, error) {
	tok, _, err := s.c.Timestamp(ctx, digest)
	return tok, err
}

// Timestamper returns the client of the configured TSA.
func (c *TSAConfig) Timestamper() (casestore.Timestamper, error) {
	roots, err := tsa.ReadCAFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	return stamper{&tsa.Client{URL: c.URL, Roots: roots, HTTP: &http.Client{Timeout: 30 * time.Second}}}, nil
}

// VerifyToken checks a stored time-stamp token against the TSA's CA.
func (c *TSAConfig) VerifyToken(token, digest []byte) error {
	_, err := tsa.VerifyWithCAFile(token, digest, c.CAFile)
	return err
}

// CaseDSN is the case store the options name.
func (w *Workspace) CaseDSN(dsn string) string {
	if dsn == "" {
		return filepath.Join(w.dir, "cases.db")
	}
	return dsn
}

// ExhibitDir holds the exhibit files of the case store.
func (w *Workspace) ExhibitDir() string { return filepath.Join(w.dir, "exhibits") }

// Cases opens the case store (creating it on first use). The caller closes
// it.
func (w *Workspace) Cases(ctx context.Context, opt CaseOptions) (*casestore.Store, error) {
	dsn := w.CaseDSN(opt.DSN)
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		if err := os.MkdirAll(filepath.Dir(dsn), 0o700); err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
	}
	so := casestore.Options{Logger: w.opt.Logger, ExhibitDir: w.ExhibitDir(), Argon2: opt.Argon2, MaxExhibit: opt.MaxExhibit}
	if opt.TSA != nil {
		ts, err := opt.TSA.Timestamper()
		if err != nil {
			return nil, err
		}
		so.Timestamper = ts
	}
	return casestore.Open(ctx, dsn, so)
}

// KeysPath is the file of the installation's private keys (encrypted).
func (w *Workspace) KeysPath() string { return filepath.Join(w.dir, "keys", "installation.age") }

// PartnersDir holds the public identities of partner agencies.
func (w *Workspace) PartnersDir() string { return filepath.Join(w.dir, "keys", "partners") }

// Keys loads the installation keys with the passphrase; with create, keys
// are generated and saved (encrypted) when there are none yet.
func (w *Workspace) Keys(passphrase []byte, create bool) (*casepack.Keys, error) {
	if len(passphrase) == 0 {
		return nil, fmt.Errorf("workspace: %w: set %s (the installation's private keys are stored encrypted with it)", ErrNoPassphrase, EnvPassphrase)
	}
	path := w.KeysPath()
	k, err := casepack.LoadKeys(path, passphrase)
	if err == nil || !errors.Is(err, os.ErrNotExist) || !create {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("workspace: no installation keys in %s yet (vestigo keys init)", path)
		}
		return k, err
	}
	if w.opt.ReadOnly {
		return nil, fmt.Errorf("workspace: %s is opened read-only", w.dir)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	if k, err = casepack.GenerateKeys(nil); err != nil {
		return nil, err
	}
	if err := casepack.SaveKeys(path, k, passphrase); err != nil {
		return nil, err
	}
	return k, nil
}

// SigningKeys returns the public signing key of the installation without
// the passphrase, from the identity file written next to the keys.
func (w *Workspace) SigningKeys() ([]ed25519.PublicKey, error) {
	data, err := os.ReadFile(w.IdentityPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	id, err := casepack.ParseIdentity(data)
	if err != nil {
		return nil, err
	}
	return []ed25519.PublicKey{id.SigningKey}, nil
}

// IdentityPath is the installation's public identity file.
func (w *Workspace) IdentityPath() string {
	return filepath.Join(w.dir, "keys", "installation.identity")
}

// WriteIdentity writes the installation's public identity (for partners,
// and for checking checkpoints without the passphrase).
func (w *Workspace) WriteIdentity(id casepack.Identity) (string, error) {
	data, err := casepack.FormatIdentity(id)
	if err != nil {
		return "", err
	}
	path := w.IdentityPath()
	if err := writeFileAtomic(path, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}

// AddPartner records a partner agency's public identity; packages signed
// by its key are then accepted from it.
func (w *Workspace) AddPartner(id casepack.Identity) (string, error) {
	data, err := casepack.FormatIdentity(id)
	if err != nil {
		return "", err
	}
	path := filepath.Join(w.PartnersDir(), id.KeyID()+".identity")
	if err := os.MkdirAll(w.PartnersDir(), 0o700); err != nil {
		return "", fmt.Errorf("workspace: %w", err)
	}
	return path, writeFileAtomic(path, data, 0o644)
}

// Partners lists the known partner identities, by key id.
func (w *Workspace) Partners() ([]casepack.Identity, error) {
	entries, err := os.ReadDir(w.PartnersDir())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	var out []casepack.Identity
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".identity") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(w.PartnersDir(), e.Name()))
		if err != nil {
			return nil, fmt.Errorf("workspace: %w", err)
		}
		id, err := casepack.ParseIdentity(data)
		if err != nil {
			return nil, fmt.Errorf("workspace: partner file %s: %w", e.Name(), err)
		}
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].KeyID() < out[j].KeyID() })
	return out, nil
}

// Tips returns the tip of every index, for backups and provenance, and
// the ledgers whose index another process holds (vestigo serve) and whose
// tip could therefore not be read.
func (w *Workspace) Tips() (tips []backup.Tip, busy []string, err error) {
	ls, err := w.Ledgers()
	if err != nil {
		return nil, nil, err
	}
	for _, l := range ls {
		ix, err := w.Index(l, false)
		if err != nil {
			if errors.Is(err, ErrNoData) {
				continue
			}
			if errors.Is(err, ErrInUse) {
				busy = append(busy, l.String())
				continue
			}
			return nil, nil, err
		}
		tip := ix.Tip()
		tips = append(tips, backup.Tip{Ledger: l.String(), Height: tip.Height, Hash: tip.Hash.String()})
	}
	return tips, busy, nil
}

func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("workspace: %w", err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("workspace: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	return nil
}

// Provenance describes a fact computed from index ix: where its blocks
// came from (the recorded source), the chain, the index tip, the Vestigo
// version and the parameters. The case store adds who and when.
func Provenance(src Source, params json.RawMessage, version string) (casestore.Provenance, error) {
	switch ix := src.(type) {
	case *index.Index:
		return btcProvenance(ix, params, version)
	case *evmindex.Index:
		return evmProvenance(ix, params, version), nil
	case nil:
		return casestore.Provenance{Source: "vestigo tags (no index)", VestigoVersion: version, Params: params}, nil
	}
	return casestore.Provenance{}, fmt.Errorf("workspace: provenance of a %T", src)
}

// Source is the index an answer was computed from: *index.Index,
// *evmindex.Index, or nil for answers from the tags alone.
type Source interface{ Dir() string }

func evmProvenance(ix *evmindex.Index, params json.RawMessage, version string) casestore.Provenance {
	m := ix.Meta()
	pv := casestore.Provenance{Source: fmt.Sprintf("vestigo index evm-%d (%s)", m.ChainID, m.Name), Chain: string(chain.Ethereum),
		Network: strconv.FormatUint(m.ChainID, 10), VestigoVersion: version, Params: params}
	if tip, has, _ := ix.Tip(); has {
		pv.Height, pv.IndexTip, pv.BlockHash = int64(tip.Height), int64(tip.Height), tip.Hash.String()
	}
	if b, err := ix.Block(0); err == nil {
		pv.SourceIdentity.GenesisHash = b.Hash.String()
	}
	return pv
}

func btcProvenance(ix *index.Index, params json.RawMessage, version string) (casestore.Provenance, error) {
	tip := ix.Tip()
	l := ix.Ledger()
	pv := casestore.Provenance{
		Source:         "vestigo index " + l.String(),
		SourceIdentity: casestore.SourceIdentity{GenesisHash: ix.Params().GenesisHash().String()},
		Chain:          string(l.Chain), Network: string(l.Network),
		Height: tip.Height, IndexTip: tip.Height, VestigoVersion: version, Params: params,
	}
	if tip.Height >= 0 {
		pv.BlockHash = tip.Hash.String()
	}
	src, ok, err := ix.Source()
	if err != nil {
		return casestore.Provenance{}, err
	}
	if ok {
		pv.Source = fmt.Sprintf("%s %s (index %s)", src.Kind, src.Location, l)
		pv.SourceIdentity.NodeVersion = src.NodeVersion
	}
	return pv, nil
}

// ItemRequest is an item of interest as a user names it.
type ItemRequest struct {
	Kind    casestore.ItemKind
	Ref     string // an address, a txid, or an entity (entity:ADDRESS or entity:ID)
	Network string // needed when no index holds the reference
	Label   string
	// Via says how it was added ("cli", "api"), for the provenance.
	Via     string
	Version string
}

// ResolveItem checks an item against the indexes: an address or a
// transaction found in an index is recorded in its canonical form with
// the index's provenance; one on no index must be valid on the network
// given; an entity is resolved to its root address (entity:<root>) by the
// index that holds it.
func (w *Workspace) ResolveItem(r ItemRequest) (casestore.Item, error) {
	if IsEVMInput(r.Ref) && r.Kind != casestore.ItemEntity {
		return w.resolveEVMItem(r)
	}
	if r.Network != "" {
		if _, err := btc.ParamsFor(chain.Network(r.Network)); err != nil {
			return casestore.Item{}, err
		}
	}
	if strings.TrimSpace(r.Ref) == "" {
		return casestore.Item{}, fmt.Errorf("workspace: %w: the item's reference is empty", chain.ErrInvalid)
	}
	it := casestore.Item{Kind: r.Kind, Ref: strings.TrimSpace(r.Ref), Label: r.Label, Chain: string(chain.Bitcoin), Network: r.Network,
		Provenance: casestore.Provenance{Source: r.Via, VestigoVersion: r.Version}}
	sel := Selector{Network: chain.Network(r.Network)}
	var ix *index.Index
	var err error
	switch r.Kind {
	case casestore.ItemAddress:
		var a btc.Addr
		if ix, a, err = w.Address(it.Ref, sel); err == nil {
			it.Ref = ix.Params().EncodeAddr(a)
		}
	case casestore.ItemTx:
		var h chainhash.Hash
		if ix, h, err = w.Tx(it.Ref, sel); err == nil {
			it.Ref = h.String()
		}
	case casestore.ItemEntity:
		ref := it.Ref
		if !strings.HasPrefix(ref, EntityPrefix) {
			ref = EntityPrefix + ref
		}
		var svc *entity.Service
		var e *entity.Endpoint
		if svc, e, err = w.Endpoint(ref, sel); err == nil {
			ix = svc.Index
			it.Ref = e.Name
		} else if errors.Is(err, chain.ErrNotFound) || errors.Is(err, ErrNoData) || errors.Is(err, entity.ErrNoClusters) {
			return casestore.Item{}, fmt.Errorf("workspace: entity %s: %w", it.Ref, err)
		}
	default:
		return casestore.Item{}, fmt.Errorf("workspace: %w: item kind %q (address, tx or entity)", chain.ErrInvalid, r.Kind)
	}
	switch {
	case err == nil:
		it.Network = string(ix.Ledger().Network)
		pv, err := Provenance(ix, nil, r.Version)
		if err != nil {
			return casestore.Item{}, err
		}
		pv.Source = r.Via + ", resolved in " + pv.Source
		it.Provenance = pv
		return it, nil
	case !errors.Is(err, chain.ErrNotFound) && !errors.Is(err, ErrNoData):
		return casestore.Item{}, err
	case r.Network == "":
		return casestore.Item{}, fmt.Errorf("workspace: %w: %s is in none of the indexes: give its network", chain.ErrInvalid, it.Ref)
	}
	// Not on chain (yet): valid on the network given.
	if r.Kind == casestore.ItemAddress {
		p, _ := btc.ParamsFor(chain.Network(r.Network))
		if _, err := p.DecodeAddr(it.Ref); err != nil {
			return casestore.Item{}, fmt.Errorf("workspace: %w: %s is not a %s address", chain.ErrInvalid, it.Ref, r.Network)
		}
	} else if _, err := ParseHash(it.Ref); err != nil {
		return casestore.Item{}, err
	}
	return it, nil
}

// AnchorsPath is the append-only file of the checkpoints of the case store
// dsn, kept outside the database: whoever can rewrite the database cannot
// rewrite these with it. Copy it off the machine from time to time.
func (w *Workspace) AnchorsPath(dsn string) string {
	sum := sha256.Sum256([]byte(w.CaseDSN(dsn)))
	return filepath.Join(w.dir, "audit", "anchors-"+hex.EncodeToString(sum[:6])+".jsonl")
}

// AppendAnchor appends a checkpoint to the anchor file of the case store.
func (w *Workspace) AppendAnchor(dsn string, cp casestore.Checkpoint) error {
	path := w.AnchorsPath(dsn)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	if err := casestore.AppendAnchor(f, cp); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("workspace: %w", err)
	}
	return f.Close()
}

// Anchors reads the anchor file of the case store (none yet: nil).
func (w *Workspace) Anchors(dsn string) ([]casestore.Checkpoint, error) {
	f, err := os.Open(w.AnchorsPath(dsn))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	defer f.Close()
	return casestore.ReadAnchors(f)
}

// Verifier is what checks the case store dsn: the installation's public
// signing key, the anchors and, with a TSA, its CA.
func (w *Workspace) Verifier(dsn string, ts *TSAConfig) (casestore.Verifier, error) {
	var v casestore.Verifier
	var err error
	if v.SigningKeys, err = w.SigningKeys(); err != nil {
		return v, err
	}
	if v.Anchors, err = w.Anchors(dsn); err != nil {
		return v, err
	}
	if ts != nil {
		v.VerifyToken = ts.VerifyToken
	}
	return v, nil
}

// resolveEVMItem resolves a 0x address or transaction hash: found in an EVM
// index, it is recorded in canonical form (EIP-55, lower-case hash) with
// chain "eth", the chain id as network, and the index's provenance; one in
// no index needs the chain id (Network).
func (w *Workspace) resolveEVMItem(r ItemRequest) (casestore.Item, error) {
	it := casestore.Item{Kind: r.Kind, Ref: strings.TrimSpace(r.Ref), Label: r.Label, Chain: string(chain.Ethereum), Network: r.Network,
		Provenance: casestore.Provenance{Source: r.Via, VestigoVersion: r.Version}}
	var sel Selector
	if r.Network != "" {
		id, err := strconv.ParseUint(r.Network, 10, 64)
		if err != nil || id == 0 {
			return casestore.Item{}, fmt.Errorf("workspace: %w: %q is not an EVM chain id", chain.ErrInvalid, r.Network)
		}
		sel.ChainID = id
	}
	var ix *evmindex.Index
	var err error
	switch r.Kind {
	case casestore.ItemAddress:
		var a eth.Address
		if a, err = eth.ParseAddress(it.Ref); err != nil {
			return casestore.Item{}, err
		}
		it.Ref = a.String()
		ix, _, _, err = w.EVMAddress(it.Ref, sel)
	case casestore.ItemTx:
		var h eth.Hash
		if h, err = eth.ParseHash(it.Ref); err != nil {
			return casestore.Item{}, err
		}
		it.Ref = h.String()
		ix, _, err = w.EVMTx(it.Ref, sel)
	default:
		return casestore.Item{}, fmt.Errorf("workspace: %w: item kind %q (address or tx for EVM chains)", chain.ErrInvalid, r.Kind)
	}
	switch {
	case err == nil:
		it.Network = strconv.FormatUint(ix.Meta().ChainID, 10)
		pv := evmProvenance(ix, nil, r.Version)
		pv.Source = r.Via + ", resolved in " + pv.Source
		it.Provenance = pv
		return it, nil
	case !errors.Is(err, chain.ErrNotFound) && !errors.Is(err, ErrNoData):
		return casestore.Item{}, err
	case r.Network == "":
		return casestore.Item{}, fmt.Errorf("workspace: %w: %s is in none of the EVM indexes: give its chain id as the network", chain.ErrInvalid, it.Ref)
	}
	return it, nil
}
