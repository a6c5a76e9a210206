package scenario

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/btcsuite/btcd/chaincfg/chainhash"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// Scenario names.
const (
	Baseline   = "baseline"
	Ransomware = "ransomware"
)

// Default and allowed numbers of background transactions.
const (
	DefaultBaselineTxs   = 10_000
	DefaultRansomwareTxs = 3_000
	MinTxs               = 100
	MinRansomwareTxs     = 500
	MaxTxs               = 100_000_000
)

// Chain timing: block 1 is mined at StartTime, then one block every
// BlockInterval seconds on average (each interval is 400–800 s).
const (
	StartTime     = "2024-01-01T00:00:00Z"
	BlockInterval = 600
	fundingBlocks = 100 // blocks that only mine coins, before the economy starts
	earlyBlocks   = 5   // blocks 1..5 pay the early miner by P2PK
	earlySpent    = 3   // of which the first three are spent later
)

// Scenarios returns the names Generate accepts, the baseline first.
func Scenarios() []string { return []string{Baseline, Ransomware} }

// Config parameterizes Generate.
type Config struct {
	// Seed determines everything: keys, wallets, amounts, timing.
	Seed uint64
	// Txs is the number of background (non-coinbase) transactions; 0 means
	// the scenario's default. Scenario transactions come on top.
	Txs int
	// Scenario is "" or "baseline" for the background economy alone, or
	// "ransomware".
	Scenario string
	// Truth writes ground-truth.json even for the baseline (a scenario
	// always writes it). It can be large: ~200 bytes per transaction.
	Truth bool
	// Logger receives progress at debug level; nil discards.
	Logger *slog.Logger
	// Progress, if set, is called after every block with the background
	// transactions made so far and the target.
	Progress func(txs, total int)

	// maxFileSize overrides the block file size limit (tests).
	maxFileSize int64
}

// Result describes a generated chain.
type Result struct {
	Blocks        int // including genesis
	Txs           int // every transaction, coinbases included
	BackgroundTxs int
	ScenarioTxs   int
	Bytes         int64 // total size of the block files
	Files         []string
	TipHash       chainhash.Hash
	TipHeight     int64
	TruthFile     string // "" if no ground truth was written
	ManifestFile  string
}

// Params records the economy's derived parameters in the ground truth and
// the manifest.
type Params struct {
	Txs           int               `json:"txs"`
	Users         int               `json:"users"`
	Merchants     int               `json:"merchants"`
	Pools         int               `json:"pools"`
	FundingBlocks int               `json:"funding_blocks"`
	PlannedBlocks int               `json:"planned_blocks"`
	PerBlock      int               `json:"per_block"`
	StartTime     string            `json:"start_time"`
	BlockInterval int               `json:"block_interval"`
	Ransomware    *RansomwareParams `json:"ransomware,omitempty"`
}

// RansomwareParams are the ransomware scenario's drawn parameters.
type RansomwareParams struct {
	Victims              int    `json:"victims"`
	PeelHops             int    `json:"peel_hops"`
	ExchangePeels        int    `json:"exchange_peels"`
	Mules                int    `json:"mules"`
	CoinJoinParticipants int    `json:"coinjoin_participants"`
	CoinJoinDenomination uint64 `json:"coinjoin_denomination"`
}

// generator holds the whole simulation.
type generator struct {
	ctx     context.Context
	cfg     Config
	name    string
	seed    uint64
	p       *btc.Params
	log     *slog.Logger
	rng     *rand.Rand
	par     Params
	truth   bool
	wantStr bool
	workers int

	wallets   []*wallet
	users     []int32
	merchants []int32
	pools     []int32
	poolShare []int
	miners    []*wallet // early miner and pools
	customers []int32
	funded    []int32
	exchange  *wallet
	external  *wallet
	early     *wallet

	forceExternal  []scriptType
	forcedOpReturn bool

	blk     *blockPlan
	market  uint32 // fee market, milli-sat per vbyte
	price   uint64 // US cents per BTC
	tip     chainhash.Hash
	time    int64
	bgDone  int
	scenTxs int
	txCount int
	scen    *ransomware
	out     *blockWriter
	tw      *truthWriter
	buf     []byte
	rec     TruthTx
}

// Generate writes a deterministic regtest chain for cfg into outDir,
// which must be empty or not exist. See the package documentation.
func Generate(ctx context.Context, cfg Config, outDir string) (*Result, error) {
	g, err := newGenerator(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := prepareDir(outDir); err != nil {
		return nil, err
	}
	maxSize := int64(maxBlockFileSize)
	if cfg.maxFileSize > 0 {
		maxSize = cfg.maxFileSize
	}
	g.out = &blockWriter{dir: outDir, magic: g.p.Magic, maxSize: maxSize}
	if g.truth {
		if g.tw, err = newTruthWriter(outDir); err != nil {
			return nil, err
		}
		defer g.tw.close()
	}
	res, err := g.run(outDir)
	if cerr := g.out.closeFile(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return res, nil
}

// prepareDir creates dir or checks that it is empty.
func prepareDir(dir string) error {
	if dir == "" {
		return fmt.Errorf("scenario: %w: no output directory", chain.ErrInvalid)
	}
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("scenario: %w", err)
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.IsDir() {
		return fmt.Errorf("scenario: %w: output %s is not a directory", chain.ErrInvalid, dir)
	}
	if names, err := f.Readdirnames(1); len(names) > 0 {
		return fmt.Errorf("scenario: %w: output directory %s is not empty", chain.ErrInvalid, dir)
	} else if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("scenario: %w", err)
	}
	return nil
}

func newGenerator(ctx context.Context, cfg Config) (*generator, error) {
	name := cfg.Scenario
	if name == "" {
		name = Baseline
	}
	if !slices.Contains(Scenarios(), name) {
		return nil, fmt.Errorf("scenario: %w: unknown scenario %q (want one of %v)", chain.ErrInvalid, cfg.Scenario, Scenarios())
	}
	txs := cfg.Txs
	minTxs := MinTxs
	if name == Ransomware {
		minTxs = MinRansomwareTxs
	}
	switch {
	case txs < 0:
		return nil, fmt.Errorf("scenario: %w: negative transaction count %d", chain.ErrInvalid, txs)
	case txs == 0 && name == Ransomware:
		txs = DefaultRansomwareTxs
	case txs == 0:
		txs = DefaultBaselineTxs
	case txs < minTxs:
		return nil, fmt.Errorf("scenario: %w: %d background transactions is too few for %s (minimum %d)", chain.ErrInvalid, txs, name, minTxs)
	case txs > MaxTxs:
		return nil, fmt.Errorf("scenario: %w: %d transactions is more than the maximum %d", chain.ErrInvalid, txs, MaxTxs)
	}
	p, err := btc.ParamsFor(chain.Regtest)
	if err != nil {
		return nil, err
	}
	start, err := time.Parse(time.RFC3339, StartTime)
	if err != nil {
		return nil, fmt.Errorf("scenario: start time: %w", err)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	// The random stream: ChaCha8 keyed by SHA-256 of the seed.
	var sb [8]byte
	binary.LittleEndian.PutUint64(sb[:], cfg.Seed)
	key := sha256.Sum256(append([]byte("vestigo/scenario/rng/"), sb[:]...))
	g := &generator{
		ctx:     ctx,
		cfg:     cfg,
		name:    name,
		seed:    cfg.Seed,
		p:       p,
		log:     log,
		rng:     rand.New(rand.NewChaCha8(key)),
		truth:   cfg.Truth || name != Baseline,
		workers: runtime.GOMAXPROCS(0),
		market:  8_000,
		price:   4_250_000,
		tip:     *p.Net.GenesisHash,
		time:    start.Unix(),
	}
	g.wantStr = g.truth
	perBlock := min(max(txs/60, 8), 2300)
	g.par = Params{
		Txs:           txs,
		Users:         min(max(txs/15, 60), 100_000),
		Merchants:     min(max(txs/600, 4), 2_000),
		Pools:         5,
		FundingBlocks: fundingBlocks,
		PlannedBlocks: (txs + perBlock - 1) / perBlock,
		PerBlock:      perBlock,
		StartTime:     StartTime,
		BlockInterval: BlockInterval,
	}
	return g, nil
}

// setup creates the economy's entities. It runs while block 1 is planned,
// so that their fixed addresses are derived with it.
func (g *generator) setup() {
	g.early = g.newWallet("early-miner", kindMiner)
	g.early.typ, g.early.mixed, g.early.reuse, g.early.changeLast = stP2PKH, false, false, true
	g.early.matchChange, g.early.antiSnipe, g.early.rbf, g.early.version = false, false, false, 1
	g.miners = append(g.miners, g.early)
	shares := []int{30, 25, 20, 15, 10}
	poolTypes := []scriptType{stP2PKH, stP2WPKH, stP2WPKH, stP2TR, stP2PKH}
	for i := range g.par.Pools {
		w := g.newWallet("pool-"+strconv.Itoa(i+1), kindMiner)
		w.typ, w.mixed, w.reuse, w.changeToRecv, w.changeLast = poolTypes[i], false, true, true, true
		w.matchChange, w.antiSnipe, w.rbf, w.sel = false, false, false, selOldest
		w.recv = g.newAddr(w, w.typ)
		g.pools = append(g.pools, w.idx)
		g.poolShare = append(g.poolShare, shares[i])
		g.miners = append(g.miners, w)
	}
	ex := g.newWallet("exchange", kindExchange)
	ex.typ, ex.mixed, ex.reuse, ex.changeToRecv, ex.changeLast = stP2WPKH, false, true, true, true
	ex.matchChange, ex.antiSnipe, ex.rbf, ex.sel, ex.customer = false, false, false, selLargest, false
	ex.feeStyle = feeMarket
	for range 2 {
		ex.hot = append(ex.hot, g.newAddr(ex, stP2WPKH))
	}
	ex.recv = ex.hot[0]
	g.exchange = ex
	g.external = g.newWallet("external", kindExternal)
	g.external.passive()
	for i := range g.par.Users {
		w := g.newWallet("user-"+strconv.Itoa(i+1), kindUser)
		g.users = append(g.users, w.idx)
		if w.customer {
			g.customers = append(g.customers, w.idx)
		}
	}
	for i := range g.par.Merchants {
		w := g.newWallet("merchant-"+strconv.Itoa(i+1), kindMerchant)
		w.reuse, w.changeToRecv = false, false
		if g.rng.IntN(100) < 70 {
			w.typ = stP2WPKH
		}
		w.customer = g.rng.IntN(100) < 60
		g.merchants = append(g.merchants, w.idx)
	}
	// Make sure every script class appears early: the first payments go
	// to P2SH, P2WSH and bare multisig, one carries an OP_RETURN.
	g.forceExternal = []scriptType{stP2SH, stP2WSH, stBareMS}
	g.forcedOpReturn = true
	if g.name == Ransomware {
		g.scen = newRansomware(g)
	}
}

// run generates the chain.
func (g *generator) run(outDir string) (*Result, error) {
	var gb []byte
	{
		var b bytesBuffer
		if err := g.p.Net.GenesisBlock.Serialize(&b); err != nil {
			return nil, fmt.Errorf("scenario: genesis: %w", err)
		}
		gb = b
	}
	if err := g.out.write(gb); err != nil {
		return nil, err
	}
	g.txCount = 1
	g.log.Debug("scenario: generating", "scenario", g.name, "seed", g.seed, "txs", g.par.Txs,
		"users", g.par.Users, "planned_blocks", g.par.PlannedBlocks)
	econStart := int32(fundingBlocks + 1)
	idle := 0
	var height int32
	for height = 1; ; height++ {
		if err := g.ctx.Err(); err != nil {
			return nil, fmt.Errorf("scenario: %w", err)
		}
		g.beginBlock(height)
		if height == 1 {
			g.setup()
			g.pickMiner(1)
		}
		made := 0
		if height >= econStart {
			econ := int(height - econStart)
			if g.scen != nil {
				n, err := g.scen.step(g, econ)
				if err != nil {
					return nil, err
				}
				made += n
			}
			remaining := g.par.Txs - g.bgDone
			if remaining > 0 || (g.scen != nil && g.scen.waitsForSweep()) {
				n := g.background(g.quota(econ, remaining))
				g.bgDone += n
				made += n
			}
		}
		txs, err := g.finishBlock()
		if err != nil {
			return nil, err
		}
		if err := g.record(txs); err != nil {
			return nil, err
		}
		if g.cfg.Progress != nil {
			g.cfg.Progress(g.bgDone, g.par.Txs)
		}
		if height%50 == 0 {
			g.log.Debug("scenario: block", "height", height, "txs", len(txs), "background", g.bgDone, "of", g.par.Txs)
		}
		if height >= econStart {
			if g.bgDone >= g.par.Txs && (g.scen == nil || g.scen.done()) {
				break
			}
			if made == 0 {
				idle++
				if idle > 300 {
					return nil, fmt.Errorf("scenario: the economy stalled at height %d with %d of %d transactions (generator bug)", height, g.bgDone, g.par.Txs)
				}
			} else {
				idle = 0
			}
		}
	}
	return g.finish(outDir, height)
}

// bytesBuffer is a minimal io.Writer into a byte slice.
type bytesBuffer []byte

func (b *bytesBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}

// econ returns the economy block index of the block being planned.
func (g *generator) econ() int { return int(g.blk.height) - (fundingBlocks + 1) }

// quota returns how many background transactions economy block econ
// should hold: the remainder spread over the planned blocks left, ±25%.
func (g *generator) quota(econ, remaining int) int {
	left := max(g.par.PlannedBlocks-econ, 1)
	q := (remaining + left - 1) / left
	q = q * (75 + g.rng.IntN(51)) / 100
	return min(max(q, 1), remaining, maxTxsPerBlock)
}

// beginBlock starts planning the block at height.
func (g *generator) beginBlock(height int32) {
	g.time += int64(400 + g.rng.IntN(401))
	if height == 1 {
		g.time -= BlockInterval // block 1 lands near StartTime
	}
	g.blk = &blockPlan{height: height, time: g.time}
	// The fee market drifts ±15% per block within 1–150 sat/vB; the price
	// ±0.5%.
	g.market = uint32(uint64(g.market) * uint64(850+g.rng.IntN(301)) / 1000)
	g.market = min(max(g.market, 1000), 150_000)
	g.price = g.price * uint64(995+g.rng.IntN(11)) / 1000
	g.price = min(max(g.price, 1_000_000), 20_000_000)
	g.mature(height)
	g.pickMiner(height)
}

// pickMiner decides who mines the block: the early miner at first, then a
// pool chosen by its hash-rate share.
func (g *generator) pickMiner(height int32) {
	b := g.blk
	if height <= earlyBlocks {
		if g.early == nil {
			return // block 1: set up after beginBlock
		}
		b.miner = g.early
		b.payout = g.newAddr(g.early, stP2PK)
		return
	}
	r := g.rng.IntN(100)
	for i, s := range g.poolShare {
		if r < s || i == len(g.poolShare)-1 {
			b.miner = g.wallets[g.pools[i]]
			break
		}
		r -= s
	}
	b.payout = b.miner.recv
}

// record credits the outputs of a finished block and writes its ground
// truth.
func (g *generator) record(txs []*txb) error {
	h := g.blk.height
	if g.wantStr {
		for _, a := range g.blk.newAddrs {
			w := g.wallets[a.wallet]
			w.addrs = append(w.addrs, a.str)
			if a.role == roleDeposit {
				w.deps = append(w.deps, a.str)
			}
		}
	}
	for _, t := range txs {
		g.applyOutputs(t, h)
		if t.kind != txCoinbase && (t.scen || t.forced) {
			g.scenTxs++
		}
	}
	g.txCount += len(txs)
	if g.scen != nil {
		g.scen.afterBlock(g, txs)
	}
	if g.tw == nil {
		return nil
	}
	r := &g.rec
	if r.ChangeVouts == nil {
		r.ChangeVouts, r.Owners = make([]uint32, 0, 8), make([]string, 0, 8) // [] rather than null
	}
	for _, t := range txs {
		r.Txid = t.txid.String()
		r.Height = int64(h)
		r.Wallet = g.wallets[t.wallet].id
		r.Kind = t.kind.String()
		r.ChangeVouts = append(r.ChangeVouts[:0], t.change...)
		r.Owners = r.Owners[:0]
		for _, a := range t.outAddr {
			if a == nil {
				r.Owners = append(r.Owners, "")
			} else {
				r.Owners = append(r.Owners, g.wallets[a.wallet].id)
			}
		}
		r.Fee = t.fee
		if err := g.tw.tx(r); err != nil {
			return err
		}
	}
	return nil
}

// finish writes the ground truth and the manifest.
func (g *generator) finish(outDir string, height int32) (*Result, error) {
	if err := g.out.closeFile(); err != nil {
		return nil, err
	}
	res := &Result{
		Blocks:        int(height) + 1,
		Txs:           g.txCount,
		BackgroundTxs: g.bgDone,
		ScenarioTxs:   g.scenTxs,
		Bytes:         g.out.total,
		Files:         g.out.files,
		TipHash:       g.tip,
		TipHeight:     int64(height),
	}
	if g.tw != nil {
		head := &Truth{
			Scenario:  g.name,
			Seed:      g.seed,
			Network:   string(g.p.Network),
			Params:    g.par,
			TipHeight: int64(height),
			TipHash:   g.tip.String(),
			TxCount:   g.txCount,
		}
		var rw *RansomwareTruth
		if g.scen != nil {
			rw = &g.scen.truth
		}
		wallets := g.truthWallets()
		path, err := g.tw.finish(head, wallets, rw)
		if err != nil {
			return nil, err
		}
		res.TruthFile = path
		if rw != nil {
			if err := writeKnownTags(filepath.Join(outDir, KnownTagsFile), rw, wallets); err != nil {
				return nil, err
			}
		}
	}
	m := Manifest{
		Format:        ManifestFormat,
		Network:       string(g.p.Network),
		Scenario:      g.name,
		Seed:          g.seed,
		Params:        g.par,
		Blocks:        res.Blocks,
		TipHeight:     res.TipHeight,
		TipHash:       g.tip.String(),
		TxCount:       res.Txs,
		BackgroundTxs: res.BackgroundTxs,
		ScenarioTxs:   res.ScenarioTxs,
		Bytes:         res.Bytes,
	}
	for _, f := range res.Files {
		m.Files = append(m.Files, filepath.Base(f))
	}
	if res.TruthFile != "" {
		m.TruthFile = TruthFile
	}
	b, err := json.MarshalIndent(&m, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("scenario: manifest: %w", err)
	}
	res.ManifestFile = filepath.Join(outDir, ManifestFile)
	if err := writeFileAtomic(res.ManifestFile, append(b, '\n')); err != nil {
		return nil, err
	}
	g.log.Info("scenario: generated", "scenario", g.name, "seed", g.seed, "blocks", res.Blocks,
		"txs", res.Txs, "bytes", res.Bytes, "tip", res.TipHash)
	return res, nil
}

// truthWallets returns the ground truth of every wallet.
func (g *generator) truthWallets() []TruthWallet {
	out := make([]TruthWallet, 0, len(g.wallets))
	for _, w := range g.wallets {
		tw := TruthWallet{
			ID:                w.id,
			Kind:              w.kind.String(),
			MixedTypes:        w.mixed,
			ReusesAddresses:   w.reuse,
			ChangeToReused:    w.changeToRecv,
			MatchesChangeType: w.matchChange,
			AntiFeeSniping:    w.antiSnipe,
			Addresses:         w.addrs,
		}
		if w.kind != kindExternal {
			tw.ScriptType = w.typ.chainType()
		}
		if tw.Addresses == nil {
			tw.Addresses = []string{}
		}
		if w == g.exchange {
			tw.DepositAddresses = w.deps
			for _, a := range w.hot {
				tw.HotWallet = append(tw.HotWallet, a.str)
			}
			tw.Customers = g.exchangeCustomers()
		}
		out = append(out, tw)
	}
	return out
}

// exchangeCustomers lists the customers that got a deposit address, in
// wallet order.
func (g *generator) exchangeCustomers() []Customer {
	var cs []Customer
	for _, w := range g.wallets {
		if w.deposit != nil {
			cs = append(cs, Customer{Wallet: w.id, DepositAddress: w.deposit.str})
		}
	}
	return cs
}

// writeFileAtomic writes data to path through a temporary file.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*.tmp")
	if err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("scenario: write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("scenario: write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("scenario: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("scenario: write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("scenario: %w", err)
	}
	return nil
}

// KnownTagsFile is what an investigator knows at the start of a generated
// ransomware case, as a tag CSV (address,label,category,source,confidence):
// the ransom address of the victim's report and the exchange's hot wallet
// from its answer to a production order. The rest is to be found.
const KnownTagsFile = "known-tags.csv"

func writeKnownTags(path string, rw *RansomwareTruth, wallets []TruthWallet) error {
	var b strings.Builder
	b.WriteString("address,label,category,source,confidence\n")
	if len(rw.RansomAddresses) > 0 {
		fmt.Fprintf(&b, "%s,Ransom address in the victim's report,ransomware,victim report (generated case),forensic\n", rw.RansomAddresses[0])
	}
	for _, w := range wallets {
		if w.Kind == "exchange" && len(w.HotWallet) > 0 {
			fmt.Fprintf(&b, "%s,Exchange hot wallet,exchange,exchange's reply to a production order (generated case),authority_data\n", w.HotWallet[0])
		}
	}
	return writeFileAtomic(path, []byte(b.String()))
}
