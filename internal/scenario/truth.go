package scenario

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// TruthFile and ManifestFile are the names of the files Generate writes
// next to the block files.
const (
	TruthFile    = "ground-truth.json"
	ManifestFile = "generated.json"
)

// ManifestFormat identifies the manifest's layout.
const ManifestFormat = "vestigo-scenario/1"

// Truth is the ground truth of a generated chain, as stored in
// ground-truth.json. All amounts are integer satoshis; addresses are in
// regtest encoding.
type Truth struct {
	Scenario  string `json:"scenario"`
	Seed      uint64 `json:"seed"`
	Network   string `json:"network"`
	Params    Params `json:"params"`
	TipHeight int64  `json:"tip_height"`
	TipHash   string `json:"tip_hash"`
	// TxCount counts every transaction of the chain, coinbases and the
	// genesis coinbase included.
	TxCount int `json:"tx_count"`
	// Wallets lists every entity with every address it controls.
	Wallets []TruthWallet `json:"wallets"`
	// Transactions lists every transaction after genesis in chain order.
	Transactions []TruthTx        `json:"transactions"`
	Ransomware   *RansomwareTruth `json:"ransomware,omitempty"`
}

// TruthWallet is one entity of the economy.
type TruthWallet struct {
	ID string `json:"id"`
	// Kind is user, merchant, miner, exchange, attacker, victim, coinjoin or
	// external (the owner of the script types nobody in the simulation
	// spends: P2SH, P2WSH and bare multisig payments leaving the economy).
	Kind string `json:"kind"`
	// ScriptType is the wallet's preferred address type.
	ScriptType chain.ScriptType `json:"script_type,omitempty"`
	// MixedTypes wallets use another type for about 30% of new addresses.
	MixedTypes bool `json:"mixed_types,omitempty"`
	// ReusesAddresses wallets receive every payment on one address.
	ReusesAddresses bool `json:"reuses_addresses,omitempty"`
	// ChangeToReused wallets send their change back to that address.
	ChangeToReused bool `json:"change_to_reused,omitempty"`
	// MatchesChangeType wallets give change the payment's script type.
	MatchesChangeType bool `json:"matches_change_type,omitempty"`
	// AntiFeeSniping wallets set nLockTime to the tip height.
	AntiFeeSniping bool `json:"anti_fee_sniping,omitempty"`
	// Addresses holds every address of the entity in creation order. For
	// the exchange it includes the deposit and hot-wallet addresses.
	Addresses []string `json:"addresses"`
	// DepositAddresses (exchange only): one per customer.
	DepositAddresses []string `json:"deposit_addresses,omitempty"`
	// HotWallet (exchange only): the addresses deposits are swept into.
	HotWallet []string `json:"hot_wallet,omitempty"`
	// Customers (exchange only): which wallet each deposit address serves.
	Customers []Customer `json:"customers,omitempty"`
}

// Customer maps an exchange deposit address to the customer wallet.
type Customer struct {
	Wallet         string `json:"wallet"`
	DepositAddress string `json:"deposit_address"`
}

// TruthTx is the ground truth of one transaction.
type TruthTx struct {
	Txid   string `json:"txid"`
	Height int64  `json:"height"`
	// Wallet is the entity that created the transaction (for a CoinJoin,
	// its coordinator).
	Wallet string `json:"wallet"`
	// Kind: coinbase, payment, consolidation, batch, deposit, sweep,
	// withdrawal, ransom, peel or coinjoin.
	Kind string `json:"kind"`
	// ChangeVouts are the outputs the creating wallet's software made as
	// change: the leftover of the inputs returned to the payer. Empty when
	// there is none, and for consolidations and sweeps, whose single output
	// is a self-transfer (see Owners). For a CoinJoin: every participant's
	// change output (not the equal-value outputs).
	ChangeVouts []uint32 `json:"change_vouts"`
	// Owners gives, per output, the wallet that controls it ("" for an
	// OP_RETURN output or the witness commitment).
	Owners []string `json:"owners"`
	Fee    uint64   `json:"fee"`
}

// RansomwareTruth describes the laundering of the ransomware scenario.
type RansomwareTruth struct {
	Attacker             string            `json:"attacker"`
	Victims              []string          `json:"victims"`
	RansomAddresses      []string          `json:"ransom_addresses"`
	RansomPayments       []RansomPayment   `json:"ransom_payments"`
	ConsolidationTxid    string            `json:"consolidation_txid"`
	ConsolidationAddress string            `json:"consolidation_address"`
	ConsolidationValue   uint64            `json:"consolidation_value"`
	PeelChain            []PeelHop         `json:"peel_chain"`
	ExchangeDeposits     []ExchangeDeposit `json:"exchange_deposits"`
	ExchangeSweepTxids   []string          `json:"exchange_sweep_txids"`
	CoinJoin             CoinJoinTruth     `json:"coinjoin"`
}

// RansomPayment is one victim's payment to its ransom address.
type RansomPayment struct {
	Txid    string `json:"txid"`
	Height  int64  `json:"height"`
	Victim  string `json:"victim"`
	Address string `json:"address"`
	Vout    uint32 `json:"vout"`
	Value   uint64 `json:"value"`
}

// PeelHop is one hop of the peel chain: it spends the previous hop's
// remainder (hop 1: the consolidation output).
type PeelHop struct {
	Hop         int    `json:"hop"`
	Txid        string `json:"txid"`
	Height      int64  `json:"height"`
	PeelVout    uint32 `json:"peel_vout"`
	PeelAddress string `json:"peel_address"`
	PeelValue   uint64 `json:"peel_value"`
	// PeelOwner is the wallet that controls the peel output (the exchange
	// for a deposit).
	PeelOwner        string `json:"peel_owner"`
	ToExchange       bool   `json:"to_exchange"`
	RemainderVout    uint32 `json:"remainder_vout"`
	RemainderAddress string `json:"remainder_address"`
	RemainderValue   uint64 `json:"remainder_value"`
}

// ExchangeDeposit is a peel paid to an exchange deposit address.
type ExchangeDeposit struct {
	Address string `json:"address"`
	// Customer is the exchange account the deposit address belongs to.
	Customer  string `json:"customer"`
	Txid      string `json:"txid"`
	Vout      uint32 `json:"vout"`
	Value     uint64 `json:"value"`
	SweepTxid string `json:"sweep_txid"`
}

// Outpoint names a transaction output.
type Outpoint struct {
	Txid string `json:"txid"`
	Vout uint32 `json:"vout"`
}

// CoinJoinTruth describes the CoinJoin the peel chain's remainder enters.
type CoinJoinTruth struct {
	Txid         string   `json:"txid"`
	Height       int64    `json:"height"`
	Denomination uint64   `json:"denomination"`
	Participants int      `json:"participants"`
	Coordinator  string   `json:"coordinator"`
	Wallets      []string `json:"wallets"`
	// AttackerInput is the peel chain's last remainder.
	AttackerInput   Outpoint         `json:"attacker_input"`
	AttackerOutputs []CoinJoinOutput `json:"attacker_outputs"`
}

// CoinJoinOutput is one output of the CoinJoin.
type CoinJoinOutput struct {
	Vout    uint32 `json:"vout"`
	Address string `json:"address"`
	Value   uint64 `json:"value"`
	// Kind is "denomination" or "change".
	Kind string `json:"kind"`
}

// Manifest is generated.json, written last: its presence marks a complete
// output directory.
type Manifest struct {
	Format        string   `json:"format"`
	Network       string   `json:"network"`
	Scenario      string   `json:"scenario"`
	Seed          uint64   `json:"seed"`
	Params        Params   `json:"params"`
	Blocks        int      `json:"blocks"`
	TipHeight     int64    `json:"tip_height"`
	TipHash       string   `json:"tip_hash"`
	TxCount       int      `json:"tx_count"`
	BackgroundTxs int      `json:"background_txs"`
	ScenarioTxs   int      `json:"scenario_txs"`
	Bytes         int64    `json:"bytes"`
	Files         []string `json:"files"`
	TruthFile     string   `json:"truth_file,omitempty"`
}

// LoadTruth reads a ground-truth.json written by Generate.
func LoadTruth(path string) (*Truth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("scenario: load truth: %w", err)
	}
	defer f.Close()
	var t Truth
	d := json.NewDecoder(bufio.NewReaderSize(f, 1<<20))
	if err := d.Decode(&t); err != nil {
		return nil, fmt.Errorf("scenario: load truth %s: %w: %v", path, chain.ErrInvalid, err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("scenario: load truth %s: %w: data after the JSON object", path, chain.ErrInvalid)
	}
	if t.Scenario == "" || t.TipHash == "" {
		return nil, fmt.Errorf("scenario: load truth %s: %w: not a ground-truth file (no scenario or tip)", path, chain.ErrInvalid)
	}
	return &t, nil
}

// LoadManifest reads the generated.json of an output directory. It fails
// for a directory whose generation did not complete.
func LoadManifest(dir string) (*Manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, fmt.Errorf("scenario: load manifest (incomplete generation?): %w", err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("scenario: load manifest: %w: %v", chain.ErrInvalid, err)
	}
	if m.Format != ManifestFormat {
		return nil, fmt.Errorf("scenario: load manifest: %w: format %q, want %q", chain.ErrInvalid, m.Format, ManifestFormat)
	}
	return &m, nil
}

// truthWriter streams transaction records to a temporary file while the
// chain is generated, then assembles ground-truth.json.
type truthWriter struct {
	dir  string
	tmp  *os.File
	bw   *bufio.Writer
	n    int
	line []byte
}

func newTruthWriter(dir string) (*truthWriter, error) {
	f, err := os.CreateTemp(dir, ".ground-truth-txs-*.tmp")
	if err != nil {
		return nil, fmt.Errorf("scenario: %w", err)
	}
	return &truthWriter{dir: dir, tmp: f, bw: bufio.NewWriterSize(f, 1<<20)}, nil
}

func (w *truthWriter) tx(r *TruthTx) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("scenario: truth: %w", err)
	}
	if w.n > 0 {
		w.bw.WriteString(",\n")
	}
	w.n++
	_, err = w.bw.Write(b)
	if err != nil {
		return fmt.Errorf("scenario: truth: %w", err)
	}
	return nil
}

// finish writes ground-truth.json from head, wallets, the streamed
// transactions and rw, through a temporary file renamed at the end.
func (w *truthWriter) finish(head *Truth, wallets []TruthWallet, rw *RansomwareTruth) (string, error) {
	if err := w.bw.Flush(); err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	final := filepath.Join(w.dir, TruthFile)
	out, err := os.CreateTemp(w.dir, ".ground-truth-*.tmp")
	if err != nil {
		return "", fmt.Errorf("scenario: %w", err)
	}
	defer os.Remove(out.Name())
	if err := out.Chmod(0o644); err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	bw := bufio.NewWriterSize(out, 1<<20)
	h := *head
	h.Wallets, h.Transactions, h.Ransomware = nil, nil, nil
	hb, err := json.Marshal(&h)
	if err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	// hb ends with `,"wallets":null,"transactions":null}`: cut there.
	cut := len(hb) - len(`,"wallets":null,"transactions":null}`)
	if cut < 0 || string(hb[cut:]) != `,"wallets":null,"transactions":null}` {
		return "", fmt.Errorf("scenario: truth: unexpected header encoding")
	}
	bw.Write(hb[:cut])
	bw.WriteString(",\n\"wallets\":[\n")
	for i := range wallets {
		if i > 0 {
			bw.WriteString(",\n")
		}
		b, err := json.Marshal(&wallets[i])
		if err != nil {
			return "", fmt.Errorf("scenario: truth: %w", err)
		}
		bw.Write(b)
	}
	bw.WriteString("\n],\n\"transactions\":[\n")
	if _, err := w.tmp.Seek(0, io.SeekStart); err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	if _, err := io.Copy(bw, w.tmp); err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	bw.WriteString("\n]")
	if rw != nil {
		b, err := json.Marshal(rw)
		if err != nil {
			return "", fmt.Errorf("scenario: truth: %w", err)
		}
		bw.WriteString(",\n\"ransomware\":")
		bw.Write(b)
	}
	bw.WriteString("}\n")
	if err := bw.Flush(); err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	if err := out.Sync(); err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	if err := out.Close(); err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	if err := os.Rename(out.Name(), final); err != nil {
		return "", fmt.Errorf("scenario: truth: %w", err)
	}
	w.close()
	return final, nil
}

// close removes the temporary transaction stream.
func (w *truthWriter) close() {
	if w.tmp != nil {
		w.tmp.Close()
		os.Remove(w.tmp.Name())
		w.tmp = nil
	}
}
