package ethscenario

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"

	"github.com/ethereum/go-ethereum/common"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// TruthFormat identifies the layout of a truth file.
const TruthFormat = "vestigo-ethscenario/1"

// AssetETH is the Asset of ether transfers; token transfers carry the
// token contract's address (EIP-55).
const AssetETH = "ETH"

// Truth is the exact ground truth of one case played on a chain. Amounts
// are integer base units: wei for ether, the token's smallest unit for
// tokens.
type Truth struct {
	Format  string `json:"format"`
	Seed    int64  `json:"seed"`
	Hops    int    `json:"hops"`
	ChainID uint64 `json:"chain_id"`
	// Funder paid the case's initial ether from outside; its balance is not
	// part of the truth.
	Funder common.Address `json:"funder"`
	// FirstBlock and TipBlock are the blocks of the first and the last
	// transaction of the case; the balances are those after TipBlock.
	FirstBlock uint64      `json:"first_block"`
	TipBlock   uint64      `json:"tip_block"`
	TipHash    common.Hash `json:"tip_hash"`

	Token     TokenInfo      `json:"token"`
	Forwarder common.Address `json:"forwarder"`
	HotWallet common.Address `json:"exchange_hot_wallet"`

	// Addresses lists every address of the case (the funder and the zero
	// address excepted) with its expected final balances.
	Addresses []Address `json:"addresses"`
	// Txs lists every transaction of the case in the order it was mined.
	Txs      []Tx      `json:"transactions"`
	Deposits []Deposit `json:"deposits"`
	// Path follows the stolen ether from the victim to the exchange's hot
	// wallet, TokenPath the thief's tokens from their mint to it.
	Path      []Step `json:"path"`
	TokenPath []Step `json:"token_path"`
}

// TokenInfo describes the case's ERC-20 token.
type TokenInfo struct {
	Address     common.Address `json:"address"`
	Name        string         `json:"name"`
	Symbol      string         `json:"symbol"`
	Decimals    uint8          `json:"decimals"`
	TotalSupply chain.Amount   `json:"total_supply"`
	Deployer    common.Address `json:"deployer"`
}

// Address is one address of the case.
type Address struct {
	Address common.Address `json:"address"`
	// Label is unique within the case: "victim", "thief-0", "peel-2",
	// "deposit-1", "token", ...
	Label string `json:"label"`
	Role  Role   `json:"role"`
	// Owner is who controls the address (empty for contracts).
	Owner string `json:"owner,omitempty"`
	// Customer is, for a deposit address, the customer it was given to.
	Customer string `json:"customer,omitempty"`
	Contract bool   `json:"contract,omitempty"`
	// Balance (wei) and TokenBalance are the expected balances after
	// TipBlock (zero in the result of Addresses).
	Balance      chain.Amount `json:"balance_wei"`
	TokenBalance chain.Amount `json:"token_balance"`
}

// TxKind says what a transaction of the case did.
type TxKind string

// Transaction kinds.
const (
	KindFund            TxKind = "fund"             // the funder pays an account of the case
	KindDeployToken     TxKind = "deploy_token"     // creation of the ERC-20
	KindDeployForwarder TxKind = "deploy_forwarder" // creation of the Forwarder
	KindMint            TxKind = "mint"             // tokens minted to an account
	KindTheft           TxKind = "theft"            // the victim pays thief-0
	KindPeel            TxKind = "peel"             // a hop peels ether off to its peel address
	KindHop             TxKind = "hop"              // a hop passes ether on to the next one
	KindForward         TxKind = "forward"          // a hop passes ether on and peels through Forwarder
	KindTokenPeel       TxKind = "token_peel"       // a hop peels tokens off
	KindTokenHop        TxKind = "token_hop"        // a hop passes tokens on
	KindDeposit         TxKind = "deposit"          // ether paid into a deposit address
	KindTokenDeposit    TxKind = "token_deposit"    // tokens paid into a deposit address
	KindTokenSweep      TxKind = "token_sweep"      // a deposit address forwards its tokens to the hot wallet
	KindSweep           TxKind = "sweep"            // a deposit address forwards its whole ether balance
)

// Tx is one transaction of the case with the facts of its receipt.
type Tx struct {
	Hash  common.Hash    `json:"hash"`
	Block uint64         `json:"block"`
	Kind  TxKind         `json:"kind"`
	From  common.Address `json:"from"`
	// To is nil for a contract creation; Created is then the new contract.
	To      *common.Address `json:"to"`
	Created *common.Address `json:"created,omitempty"`
	Nonce   uint64          `json:"nonce"`
	// Value is the ether sent with the transaction.
	Value             chain.Amount `json:"value_wei"`
	GasUsed           uint64       `json:"gas_used"`
	EffectiveGasPrice chain.Amount `json:"effective_gas_price_wei"`
	// Fee is GasUsed × EffectiveGasPrice, paid by From.
	Fee chain.Amount `json:"fee_wei"`
	// Transfers are every movement of value the transaction made.
	Transfers []Transfer `json:"transfers"`
	Note      string     `json:"note,omitempty"`
}

// TransferKind says how a transfer shows on the chain.
type TransferKind string

// Transfer kinds.
const (
	TransferCall     TransferKind = "call"     // the transaction's own value
	TransferInternal TransferKind = "internal" // ether moved by a contract during the call (call traces)
	TransferToken    TransferKind = "token"    // an ERC-20 Transfer event
)

// Transfer is one movement of value. Token mints come from the zero
// address.
type Transfer struct {
	Kind  TransferKind   `json:"kind"`
	Asset string         `json:"asset"`
	From  common.Address `json:"from"`
	To    common.Address `json:"to"`
	// Amount is in wei or token base units.
	Amount chain.Amount `json:"amount"`
	// LogIndex is the block-wide index of the log the transfer was read
	// from (Transfer or Forwarded events).
	LogIndex *uint `json:"log_index,omitempty"`
}

// Deposit is one exchange deposit address and what went through it.
type Deposit struct {
	Address  common.Address `json:"address"`
	Label    string         `json:"label"`
	Customer string         `json:"customer"`
	// Senders paid ether or tokens into the address, in order of first
	// payment; several senders of one address are one customer.
	Senders      []common.Address `json:"senders"`
	DepositTxs   []common.Hash    `json:"deposit_txs"`
	TokenSweepTx *common.Hash     `json:"token_sweep_tx,omitempty"`
	SweepTx      common.Hash      `json:"sweep_tx"`
	// Swept is the ether the sweep forwarded: the address's whole balance
	// less the sweep's fee.
	Swept chain.Amount `json:"swept_wei"`
}

// Step is one movement along a money path.
type Step struct {
	Tx        common.Hash    `json:"tx"`
	From      common.Address `json:"from"`
	To        common.Address `json:"to"`
	FromLabel string         `json:"from_label"`
	ToLabel   string         `json:"to_label"`
	Asset     string         `json:"asset"`
	Amount    chain.Amount   `json:"amount"`
	// Internal steps are internal transfers (Forwarder's payments) or token
	// events rather than a transaction's own value.
	Internal bool `json:"internal,omitempty"`
}

// Write stores the truth as indented JSON at path, through a temporary file
// in the same directory and a rename.
func (t *Truth) Write(path string) error {
	data, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("ethscenario: encode truth: %v", err)
	}
	data = append(data, '\n')
	f, err := os.CreateTemp(filepath.Dir(path), ".truth-*.json")
	if err != nil {
		return fmt.Errorf("ethscenario: write truth: %v", err)
	}
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(f.Name(), 0o644)
	}
	if werr == nil {
		werr = os.Rename(f.Name(), path)
	}
	if werr != nil {
		os.Remove(f.Name())
		return fmt.Errorf("ethscenario: write truth %s: %v", path, werr)
	}
	return nil
}

// maxTruthBytes bounds what ReadTruth and ParseTruth accept.
const maxTruthBytes = 64 << 20

// ReadTruth reads and validates a truth file written by Write.
func ReadTruth(path string) (*Truth, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("ethscenario: read truth: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTruthBytes+1))
	if err != nil {
		return nil, fmt.Errorf("ethscenario: read truth %s: %v", path, err)
	}
	t, err := ParseTruth(data)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return t, nil
}

// ParseTruth decodes and validates a truth: known fields only, every
// amount an integer, and the facts consistent with each other (see
// Validate).
func ParseTruth(data []byte) (*Truth, error) {
	if len(data) > maxTruthBytes {
		return nil, fmt.Errorf("ethscenario: truth larger than %d bytes", maxTruthBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var t Truth
	if err := dec.Decode(&t); err != nil {
		return nil, fmt.Errorf("ethscenario: decode truth: %v", err)
	}
	if dec.More() {
		return nil, errors.New("ethscenario: decode truth: data after the JSON object")
	}
	if err := t.Validate(); err != nil {
		return nil, err
	}
	return &t, nil
}

// Validate checks the truth's internal consistency: format and hops, unique
// labels, addresses and transaction hashes, known roles and kinds, every fee
// equal to gas used × effective gas price, every transfer between known
// addresses, the balances equal to a replay of the transfers and fees, the
// token supply equal to the mints, and both paths connected from the victim
// (the mint) to the hot wallet.
func (t *Truth) Validate() error {
	if t.Format != TruthFormat {
		return fmt.Errorf("ethscenario: truth format %q, want %q", t.Format, TruthFormat)
	}
	if t.Hops < MinHops || t.Hops > MaxHops {
		return fmt.Errorf("ethscenario: truth hops %d out of range [%d, %d]", t.Hops, MinHops, MaxHops)
	}
	if t.FirstBlock > t.TipBlock {
		return fmt.Errorf("ethscenario: truth first block %d after tip block %d", t.FirstBlock, t.TipBlock)
	}
	byAddr := map[common.Address]*Address{}
	labels := map[string]bool{}
	for i := range t.Addresses {
		a := &t.Addresses[i]
		if !knownRoles[a.Role] {
			return fmt.Errorf("ethscenario: truth address %s has unknown role %q", a.Address.Hex(), a.Role)
		}
		if a.Label == "" || labels[a.Label] {
			return fmt.Errorf("ethscenario: truth address %s has an empty or repeated label %q", a.Address.Hex(), a.Label)
		}
		if byAddr[a.Address] != nil || a.Address == (common.Address{}) || a.Address == t.Funder {
			return fmt.Errorf("ethscenario: truth address %s (%s) is listed twice, zero or the funder", a.Address.Hex(), a.Label)
		}
		labels[a.Label] = true
		byAddr[a.Address] = a
	}
	for _, need := range []struct {
		addr common.Address
		role Role
	}{{t.Token.Address, RoleToken}, {t.Forwarder, RoleForwarder}, {t.HotWallet, RoleHotWallet}} {
		if a := byAddr[need.addr]; a == nil || a.Role != need.role {
			return fmt.Errorf("ethscenario: truth %s %s is not among the addresses with that role", need.role, need.addr.Hex())
		}
	}
	tokenAsset := t.Token.Address.Hex()
	seen := map[common.Hash]bool{}
	for i := range t.Txs {
		x := &t.Txs[i]
		if seen[x.Hash] {
			return fmt.Errorf("ethscenario: truth transaction %s listed twice", x.Hash.Hex())
		}
		seen[x.Hash] = true
		if !knownKinds[x.Kind] {
			return fmt.Errorf("ethscenario: truth transaction %s has unknown kind %q", x.Hash.Hex(), x.Kind)
		}
		if x.Block < t.FirstBlock || x.Block > t.TipBlock {
			return fmt.Errorf("ethscenario: truth transaction %s in block %d outside [%d, %d]", x.Hash.Hex(), x.Block, t.FirstBlock, t.TipBlock)
		}
		fee := new(big.Int).Mul(new(big.Int).SetUint64(x.GasUsed), x.EffectiveGasPrice.Big())
		if fee.Cmp(x.Fee.Big()) != 0 {
			return fmt.Errorf("ethscenario: truth transaction %s: fee %s is not gas used %d × price %s", x.Hash.Hex(), x.Fee, x.GasUsed, x.EffectiveGasPrice)
		}
		if (x.To == nil) == (x.Created == nil) {
			return fmt.Errorf("ethscenario: truth transaction %s needs exactly one of to and created", x.Hash.Hex())
		}
		if x.From != t.Funder && byAddr[x.From] == nil {
			return fmt.Errorf("ethscenario: truth transaction %s sent by unknown %s", x.Hash.Hex(), x.From.Hex())
		}
		for _, tr := range x.Transfers {
			switch {
			case tr.Kind == TransferToken && tr.Asset == tokenAsset:
			case (tr.Kind == TransferCall || tr.Kind == TransferInternal) && tr.Asset == AssetETH:
			default:
				return fmt.Errorf("ethscenario: truth transaction %s: transfer of kind %q and asset %q", x.Hash.Hex(), tr.Kind, tr.Asset)
			}
			fromOK := byAddr[tr.From] != nil || tr.From == t.Funder || (tr.Kind == TransferToken && tr.From == (common.Address{}))
			if !fromOK || byAddr[tr.To] == nil {
				return fmt.Errorf("ethscenario: truth transaction %s: transfer %s → %s involves an unknown address", x.Hash.Hex(), tr.From.Hex(), tr.To.Hex())
			}
		}
	}
	bal, err := replay(t)
	if err != nil {
		return err
	}
	for _, a := range t.Addresses {
		if got := bal.eth[a.Address]; got.Cmp(a.Balance) != 0 {
			return fmt.Errorf("ethscenario: truth balance of %s (%s) is %s wei, its transactions give %s", a.Label, a.Address.Hex(), a.Balance, got)
		}
		if got := bal.token[a.Address]; got.Cmp(a.TokenBalance) != 0 {
			return fmt.Errorf("ethscenario: truth token balance of %s (%s) is %s, its transactions give %s", a.Label, a.Address.Hex(), a.TokenBalance, got)
		}
	}
	if bal.minted.Cmp(t.Token.TotalSupply) != 0 {
		return fmt.Errorf("ethscenario: truth token supply %s, mints give %s", t.Token.TotalSupply, bal.minted)
	}
	if err := checkPath("path", t.Path, byAddr, RoleVictim, seen); err != nil {
		return err
	}
	if err := checkPath("token path", t.TokenPath, byAddr, "", seen); err != nil {
		return err
	}
	return nil
}

var knownKinds = map[TxKind]bool{KindFund: true, KindDeployToken: true, KindDeployForwarder: true, KindMint: true,
	KindTheft: true, KindPeel: true, KindHop: true, KindForward: true, KindTokenPeel: true, KindTokenHop: true,
	KindDeposit: true, KindTokenDeposit: true, KindTokenSweep: true, KindSweep: true}

// checkPath checks that a path is connected, made of known transactions,
// starts at an address of role start (or at the zero address for a mint when
// start is empty) and ends at the hot wallet.
func checkPath(name string, path []Step, byAddr map[common.Address]*Address, start Role, txs map[common.Hash]bool) error {
	if len(path) == 0 {
		return fmt.Errorf("ethscenario: truth %s is empty", name)
	}
	for i, s := range path {
		if !txs[s.Tx] {
			return fmt.Errorf("ethscenario: truth %s step %d names unknown transaction %s", name, i, s.Tx.Hex())
		}
		if i > 0 && path[i-1].To != s.From {
			return fmt.Errorf("ethscenario: truth %s breaks at step %d: %s then %s", name, i, path[i-1].To.Hex(), s.From.Hex())
		}
	}
	first, last := path[0].From, path[len(path)-1].To
	if start == "" {
		if first != (common.Address{}) {
			return fmt.Errorf("ethscenario: truth %s starts at %s, not at a mint", name, first.Hex())
		}
	} else if a := byAddr[first]; a == nil || a.Role != start {
		return fmt.Errorf("ethscenario: truth %s starts at %s, not at the %s", name, first.Hex(), start)
	}
	if a := byAddr[last]; a == nil || a.Role != RoleHotWallet {
		return fmt.Errorf("ethscenario: truth %s ends at %s, not at the exchange's hot wallet", name, last.Hex())
	}
	return nil
}

// balances is a replay of a case's transactions.
type balances struct {
	eth, token map[common.Address]chain.Amount
	minted     chain.Amount
}

// replay computes every address's ether and token balance from the
// transfers and fees of the truth's transactions, starting from zero; the
// funder's side and the zero address's side are not kept. A balance going
// negative is an error.
func replay(t *Truth) (*balances, error) {
	b := &balances{eth: map[common.Address]chain.Amount{}, token: map[common.Address]chain.Amount{}}
	sub := func(m map[common.Address]chain.Amount, a common.Address, v chain.Amount, what string, tx common.Hash) error {
		r, err := m[a].Sub(v)
		if err != nil {
			return fmt.Errorf("ethscenario: %s of %s goes below zero in transaction %s: %v", what, a.Hex(), tx.Hex(), err)
		}
		m[a] = r
		return nil
	}
	add := func(m map[common.Address]chain.Amount, a common.Address, v chain.Amount) error {
		r, err := m[a].Add(v)
		if err != nil {
			return fmt.Errorf("ethscenario: balance of %s: %v", a.Hex(), err)
		}
		m[a] = r
		return nil
	}
	for _, x := range t.Txs {
		if x.From != t.Funder {
			if err := sub(b.eth, x.From, x.Fee, "ether balance", x.Hash); err != nil {
				return nil, err
			}
		}
		// Transfers are applied in their order, as the EVM ran them: a
		// contract passes on ether it received earlier in the same call.
		for _, tr := range x.Transfers {
			m := b.eth
			if tr.Kind == TransferToken {
				m = b.token
			}
			switch {
			case tr.Kind == TransferToken && tr.From == (common.Address{}):
				r, err := b.minted.Add(tr.Amount)
				if err != nil {
					return nil, fmt.Errorf("ethscenario: token supply: %v", err)
				}
				b.minted = r
			case tr.From == t.Funder:
			default:
				if err := sub(m, tr.From, tr.Amount, string(tr.Kind)+" balance", x.Hash); err != nil {
					return nil, err
				}
			}
			if err := add(m, tr.To, tr.Amount); err != nil {
				return nil, err
			}
		}
	}
	return b, nil
}

// ThiefSwept is the ether the hot wallet received from the deposit
// addresses that only the thief's chain paid (thief-N and peel-N
// senders): what a haircut or FIFO trace from the victim finds there,
// since the victim's ether is all the thief's chain ever held.
func (t *Truth) ThiefSwept() (chain.Amount, error) {
	label := map[common.Address]string{}
	for _, a := range t.Addresses {
		label[a.Address] = a.Label
	}
	var sum chain.Amount
	for _, d := range t.Deposits {
		tainted := len(d.Senders) > 0
		for _, s := range d.Senders {
			l := label[s]
			tainted = tainted && (strings.HasPrefix(l, "thief-") || strings.HasPrefix(l, "peel-"))
		}
		if !tainted {
			continue
		}
		var err error
		if sum, err = sum.Add(d.Swept); err != nil {
			return chain.Amount{}, fmt.Errorf("ethscenario: %w", err)
		}
	}
	return sum, nil
}
