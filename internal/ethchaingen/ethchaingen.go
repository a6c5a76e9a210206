package ethchaingen

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"time"

	"github.com/ethereum/go-ethereum/accounts/abi"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
)

// Defaults and bounds of Options.
const (
	DefaultAccounts       = 3000
	DefaultRound          = 1000 // geth's default limit of requests in one batch
	DefaultTokenPercent   = 20
	DefaultForwardPercent = 10
	DefaultReceiptTimeout = 60 * time.Second
	MaxAccounts           = 1_000_000
	MaxRound              = 1000
	// hubs are the first accounts, which receive a tenth of the plain
	// transfers besides their share of the rest.
	hubs = 10
	// keyDomain separates this package's keys from any other use of
	// Keccak-256 over a seed.
	keyDomain = "vestigo/ethchaingen/key/1"
	// sendAttempts bounds the sends of a transaction the pool refuses for
	// want of funds it has just received (the pool lags the chain).
	sendAttempts = 200
)

// Fixed amounts, so that the transactions depend on the seed alone.
var (
	tipCap       = big.NewInt(1_000_000_000)                            // 1 gwei
	feeCap       = big.NewInt(50_000_000_000)                           // 50 gwei
	accountEther = new(big.Int).Mul(big.NewInt(10), big.NewInt(1e18))   // each account's ether
	bankReserve  = new(big.Int).Mul(big.NewInt(1000), big.NewInt(1e18)) // the bank's own gas
	minValue     = uint64(1_000_000_000_000)                            // 1e12 wei
	valueSpan    = uint64(10_000_000_000_000_000)                       // values in [1e12, 1e12+1e16)
	tokenEach    = uint64(1_000_000_000_000)                            // base units per holder (1M tokens at 6 decimals)
	forwardProbe = big.NewInt(1_000_000_000_000_000)                    // value of the gas estimate of forward
)

// Options tune a generation. Txs is required; the rest has defaults.
type Options struct {
	// Txs is the number of transactions to make, the set-up's included
	// (see SetupTxs); it must exceed the set-up.
	Txs int
	// Accounts is the number of accounts that trade (default 3000, at
	// least 2).
	Accounts int
	// Seed draws the keys, the mix, senders, receivers and amounts.
	Seed uint64
	// Round is the number of transactions sent in one batch before their
	// receipts are awaited (default and most 1000).
	Round int
	// TokenPercent and ForwardPercent are the shares of ERC-20 transfers
	// and of Forwarder calls after the set-up (defaults 20 and 10); the
	// rest are plain ether transfers. Negative means none.
	TokenPercent, ForwardPercent int
	// ReceiptTimeout bounds the wait for a round's receipts without any
	// coming (default 60 s).
	ReceiptTimeout time.Duration
	// Progress, if set, is called after each round.
	Progress func(Stats)
	Logger   *slog.Logger
	// Clock is the time source of Stats.Elapsed (default time.Now).
	Clock func() time.Time
}

// Stats sums up a generation.
type Stats struct {
	Txs   int `json:"txs"`   // every transaction made, the set-up's included
	Setup int `json:"setup"` // the set-up's: funding the bank, deployments, mint, funding the accounts
	// The mix after the set-up.
	Transfers      int `json:"transfers"`
	TokenTransfers int `json:"token_transfers"`
	ForwardCalls   int `json:"forward_calls"`

	Accounts   int            `json:"accounts"`
	Bank       common.Address `json:"bank"`
	Token      common.Address `json:"token"`
	Forwarder  common.Address `json:"forwarder"`
	TokenGas   uint64         `json:"token_gas_limit"`
	ForwardGas uint64         `json:"forward_gas_limit"`
	// FirstBlock and LastBlock are where the transactions were mined.
	FirstBlock uint64 `json:"first_block"`
	LastBlock  uint64 `json:"last_block"`
	Rounds     int    `json:"rounds"`
	// Resent counts sends repeated while the pool lagged the chain.
	Resent  int           `json:"resent"`
	Elapsed time.Duration `json:"-"`
}

// SetupTxs returns the number of set-up transactions for a number of
// accounts: funding the bank, two deployments, the mint, ether to every
// account and tokens to every other one.
func SetupTxs(accounts int) int { return 4 + accounts + holders(accounts) }

// holders is the number of accounts the bank pays tokens (the even ones).
func holders(accounts int) int { return (accounts + 1) / 2 }

func (o *Options) defaults() error {
	if o.Accounts == 0 {
		o.Accounts = DefaultAccounts
	}
	if o.Round == 0 {
		o.Round = DefaultRound
	}
	if o.TokenPercent == 0 {
		o.TokenPercent = DefaultTokenPercent
	}
	if o.ForwardPercent == 0 {
		o.ForwardPercent = DefaultForwardPercent
	}
	o.TokenPercent, o.ForwardPercent = max(o.TokenPercent, 0), max(o.ForwardPercent, 0)
	if o.ReceiptTimeout <= 0 {
		o.ReceiptTimeout = DefaultReceiptTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	switch {
	case o.Accounts < 2 || o.Accounts > MaxAccounts:
		return fmt.Errorf("ethchaingen: %d accounts: want 2 to %d", o.Accounts, MaxAccounts)
	case o.Round < 1 || o.Round > MaxRound:
		return fmt.Errorf("ethchaingen: round of %d transactions: want 1 to %d", o.Round, MaxRound)
	case o.TokenPercent+o.ForwardPercent > 100:
		return fmt.Errorf("ethchaingen: token and forwarder shares %d%% + %d%% exceed 100%%", o.TokenPercent, o.ForwardPercent)
	case o.Txs <= SetupTxs(o.Accounts):
		return fmt.Errorf("ethchaingen: %d transactions do not exceed the set-up's %d for %d accounts", o.Txs, SetupTxs(o.Accounts), o.Accounts)
	}
	return nil
}

type kind uint8

const (
	kindTransfer kind = iota
	kindToken
	kindForward
)

// gen is the state of one generation: keys, nonces and balance bounds.
type gen struct {
	opt     Options
	rng     *rand.Rand
	chainID *big.Int
	signer  types.Signer

	bank      *ecdsa.PrivateKey
	bankAddr  common.Address
	bankNonce uint64
	keys      []*ecdsa.PrivateKey
	addrs     []common.Address
	nonces    []uint64
	// ether and tokens are lower bounds of what each account can spend;
	// etherIn and tokensIn what the round being planned pays them.
	ether, etherIn   []*big.Int
	tokens, tokensIn []uint64

	token, forwarder   common.Address
	tokenABI, fwdABI   abi.ABI
	tokenGas, fwdGas   uint64
	tokenCode, fwdCode []byte

	st Stats
}

// newGen derives the keys and prepares the state; it needs no node.
func newGen(opt Options, chainID *big.Int) (*gen, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	tok, err := ethscenario.TokenContract()
	if err != nil {
		return nil, fmt.Errorf("ethchaingen: %w", err)
	}
	fwd, err := ethscenario.ForwarderContract()
	if err != nil {
		return nil, fmt.Errorf("ethchaingen: %w", err)
	}
	g := &gen{opt: opt, rng: rand.New(rand.NewPCG(opt.Seed, 0xe7c4a19e)), chainID: new(big.Int).Set(chainID),
		signer: types.LatestSignerForChainID(chainID), tokenABI: tok.ABI, fwdABI: fwd.ABI, tokenCode: tok.Bytecode, fwdCode: fwd.Bytecode}
	if g.bank, err = deriveKey(opt.Seed, 0); err != nil {
		return nil, err
	}
	g.bankAddr = crypto.PubkeyToAddress(g.bank.PublicKey)
	n := opt.Accounts
	g.keys, g.addrs, g.nonces = make([]*ecdsa.PrivateKey, n), make([]common.Address, n), make([]uint64, n)
	g.ether, g.etherIn, g.tokens, g.tokensIn = make([]*big.Int, n), make([]*big.Int, n), make([]uint64, n), make([]uint64, n)
	for i := range n {
		if g.keys[i], err = deriveKey(opt.Seed, uint64(i)+1); err != nil {
			return nil, err
		}
		g.addrs[i] = crypto.PubkeyToAddress(g.keys[i].PublicKey)
		g.ether[i], g.etherIn[i] = new(big.Int), new(big.Int)
	}
	g.token, g.forwarder = crypto.CreateAddress(g.bankAddr, 0), crypto.CreateAddress(g.bankAddr, 1)
	g.st = Stats{Accounts: n, Bank: g.bankAddr, Token: g.token, Forwarder: g.forwarder}
	return g, nil
}

// deriveKey returns key number i of a seed (0 is the bank's): the first
// valid scalar among Keccak-256(domain ‖ seed ‖ i ‖ ctr).
func deriveKey(seed, i uint64) (*ecdsa.PrivateKey, error) {
	for ctr := uint32(0); ctr < 16; ctr++ {
		buf := make([]byte, 0, len(keyDomain)+20)
		buf = append(buf, keyDomain...)
		buf = binary.BigEndian.AppendUint64(buf, seed)
		buf = binary.BigEndian.AppendUint64(buf, i)
		buf = binary.BigEndian.AppendUint32(buf, ctr)
		if k, err := crypto.ToECDSA(crypto.Keccak256(buf)); err == nil {
			return k, nil
		}
	}
	return nil, fmt.Errorf("ethchaingen: no valid key %d from seed %d", i, seed)
}

// Generate fills the node behind c: the funder pays the bank, the bank
// sets up the contracts and the accounts, then rounds of the mix follow
// until opt.Txs transactions are made. Every account of the seed must be
// unused on the chain.
func Generate(ctx context.Context, c *rpc.Client, funder ethscenario.Funder, opt Options) (Stats, error) {
	if c == nil || funder == nil {
		return Stats{}, errors.New("ethchaingen: no RPC client or no funder")
	}
	var id hexutil.Big
	if err := c.CallContext(ctx, &id, "eth_chainId"); err != nil {
		return Stats{}, fmt.Errorf("ethchaingen: eth_chainId: %v", err)
	}
	g, err := newGen(opt, id.ToInt())
	if err != nil {
		return Stats{}, err
	}
	start := g.opt.Clock()
	err = g.run(ctx, c, funder)
	g.st.Elapsed = g.opt.Clock().Sub(start)
	return g.st, err
}

func (g *gen) run(ctx context.Context, c *rpc.Client, funder ethscenario.Funder) error {
	if err := g.checkUnused(ctx, c); err != nil {
		return err
	}
	if err := g.setup(ctx, c, funder); err != nil {
		return err
	}
	for g.st.Txs < g.opt.Txs {
		if err := g.checkBaseFee(ctx, c); err != nil {
			return err
		}
		n := min(g.opt.Round, g.opt.Txs-g.st.Txs)
		txs, kinds, err := g.planRound(n)
		if err != nil {
			return err
		}
		if err := g.play(ctx, c, txs); err != nil {
			return err
		}
		g.st.Txs += len(txs)
		for _, k := range kinds {
			switch k {
			case kindTransfer:
				g.st.Transfers++
			case kindToken:
				g.st.TokenTransfers++
			case kindForward:
				g.st.ForwardCalls++
			}
		}
		g.settle()
		g.progress()
	}
	return nil
}

func (g *gen) progress() {
	if g.opt.Progress != nil {
		g.opt.Progress(g.st)
	}
}

// checkUnused refuses accounts of the seed that the chain already knows:
// their nonces are tracked here from zero.
func (g *gen) checkUnused(ctx context.Context, c *rpc.Client) error {
	all := append([]common.Address{g.bankAddr}, g.addrs...)
	for start := 0; start < len(all); start += MaxRound {
		part := all[start:min(start+MaxRound, len(all))]
		nonces := make([]hexutil.Uint64, len(part))
		elems := make([]rpc.BatchElem, len(part))
		for i, a := range part {
			elems[i] = rpc.BatchElem{Method: "eth_getTransactionCount", Args: []any{a, "latest"}, Result: &nonces[i]}
		}
		if err := c.BatchCallContext(ctx, elems); err != nil {
			return fmt.Errorf("ethchaingen: eth_getTransactionCount batch: %v", err)
		}
		for i, e := range elems {
			if e.Error != nil {
				return fmt.Errorf("ethchaingen: eth_getTransactionCount of %s: %v", part[i], e.Error)
			}
			if nonces[i] != 0 {
				return fmt.Errorf("ethchaingen: account %s of seed %d has sent %d transactions on this chain already: use a fresh node or another seed",
					part[i], g.opt.Seed, nonces[i])
			}
		}
	}
	return nil
}

// setup funds the bank, deploys the contracts, mints and funds the
// accounts.
func (g *gen) setup(ctx context.Context, c *rpc.Client, funder ethscenario.Funder) error {
	n := len(g.addrs)
	total := new(big.Int).Mul(accountEther, big.NewInt(int64(n)))
	total.Add(total, bankReserve)
	h, err := funder.Fund(ctx, g.bankAddr, total)
	if err != nil {
		return fmt.Errorf("ethchaingen: fund the bank: %w", err)
	}
	if _, err := g.wait(ctx, c, []common.Hash{h}); err != nil {
		return err
	}
	g.count(1)

	ctor, err := g.tokenABI.Pack("", "Vestigo Bench Dollar", "VBD", uint8(6))
	if err != nil {
		return fmt.Errorf("ethchaingen: token constructor: %v", err)
	}
	tokenInit := append(append([]byte(nil), g.tokenCode...), ctor...)
	var deploys []*types.Transaction
	for _, code := range [][]byte{tokenInit, g.fwdCode} {
		gas, err := estimate(ctx, c, g.bankAddr, nil, new(big.Int), code)
		if err != nil {
			return err
		}
		tx, err := g.signBank(nil, new(big.Int), gas+gas/5, code)
		if err != nil {
			return err
		}
		deploys = append(deploys, tx)
	}
	if err := g.play(ctx, c, deploys); err != nil {
		return err
	}
	g.count(len(deploys))
	for _, a := range []common.Address{g.token, g.forwarder} {
		var code hexutil.Bytes
		if err := c.CallContext(ctx, &code, "eth_getCode", a, "latest"); err != nil {
			return fmt.Errorf("ethchaingen: eth_getCode %s: %v", a, err)
		}
		if len(code) == 0 {
			return fmt.Errorf("ethchaingen: no code at %s after its creation", a)
		}
	}

	supply := new(big.Int).Mul(new(big.Int).SetUint64(tokenEach), big.NewInt(int64(holders(n))))
	mint, err := g.tokenABI.Pack("mint", g.bankAddr, supply)
	if err != nil {
		return fmt.Errorf("ethchaingen: mint call: %v", err)
	}
	gas, err := estimate(ctx, c, g.bankAddr, &g.token, new(big.Int), mint)
	if err != nil {
		return err
	}
	tx, err := g.signBank(&g.token, new(big.Int), gas+gas/5, mint)
	if err != nil {
		return err
	}
	if err := g.play(ctx, c, []*types.Transaction{tx}); err != nil {
		return err
	}
	g.count(1)

	// The costliest cases: a recipient without balance, accounts not yet
	// funded.
	probe, err := g.tokenABI.Pack("transfer", g.addrs[0], new(big.Int).SetUint64(tokenEach))
	if err != nil {
		return fmt.Errorf("ethchaingen: transfer call: %v", err)
	}
	if gas, err = estimate(ctx, c, g.bankAddr, &g.token, new(big.Int), probe); err != nil {
		return err
	}
	g.tokenGas = gas + gas/2
	probe, err = g.fwdABI.Pack("forward", g.addrs[0], g.addrs[1], new(big.Int).Rsh(forwardProbe, 1))
	if err != nil {
		return fmt.Errorf("ethchaingen: forward call: %v", err)
	}
	if gas, err = estimate(ctx, c, g.bankAddr, &g.forwarder, forwardProbe, probe); err != nil {
		return err
	}
	g.fwdGas = gas + gas/2
	g.st.TokenGas, g.st.ForwardGas = g.tokenGas, g.fwdGas

	var batch []*types.Transaction
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if err := g.play(ctx, c, batch); err != nil {
			return err
		}
		g.count(len(batch))
		batch = batch[:0]
		g.progress()
		return nil
	}
	for i, a := range g.addrs {
		tx, err := g.signBank(&g.addrs[i], accountEther, 21_000, nil)
		if err != nil {
			return err
		}
		batch = append(batch, tx)
		g.ether[i].Set(accountEther)
		if i%2 == 0 {
			data, err := g.tokenABI.Pack("transfer", a, new(big.Int).SetUint64(tokenEach))
			if err != nil {
				return fmt.Errorf("ethchaingen: transfer call: %v", err)
			}
			if tx, err = g.signBank(&g.token, new(big.Int), g.tokenGas, data); err != nil {
				return err
			}
			batch = append(batch, tx)
			g.tokens[i] = tokenEach
		}
		if len(batch) >= g.opt.Round-1 {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// count adds set-up transactions.
func (g *gen) count(n int) {
	g.st.Txs += n
	g.st.Setup += n
}

func (g *gen) signBank(to *common.Address, value *big.Int, gas uint64, data []byte) (*types.Transaction, error) {
	tx, err := g.sign(g.bank, g.bankNonce, to, value, gas, data)
	if err == nil {
		g.bankNonce++
	}
	return tx, err
}

func (g *gen) sign(key *ecdsa.PrivateKey, nonce uint64, to *common.Address, value *big.Int, gas uint64, data []byte) (*types.Transaction, error) {
	tx, err := types.SignNewTx(key, g.signer, &types.DynamicFeeTx{
		ChainID: g.chainID, Nonce: nonce, GasTipCap: tipCap, GasFeeCap: feeCap, Gas: gas, To: to, Value: value, Data: data,
	})
	if err != nil {
		return nil, fmt.Errorf("ethchaingen: sign: %v", err)
	}
	return tx, nil
}

// estimate asks the node the gas of a call at the latest block.
func estimate(ctx context.Context, c *rpc.Client, from common.Address, to *common.Address, value *big.Int, data []byte) (uint64, error) {
	arg := map[string]any{"from": from, "value": (*hexutil.Big)(value), "data": hexutil.Bytes(data)}
	what := "a contract creation"
	if to != nil {
		arg["to"] = *to
		what = "a call of " + to.Hex()
	}
	var gas hexutil.Uint64
	if err := c.CallContext(ctx, &gas, "eth_estimateGas", arg); err != nil {
		return 0, fmt.Errorf("ethchaingen: eth_estimateGas of %s from %s: %v", what, from, err)
	}
	return uint64(gas), nil
}

// checkBaseFee stops when the latest base fee reaches half the fee cap:
// the transactions signed with that cap could soon not be mined.
func (g *gen) checkBaseFee(ctx context.Context, c *rpc.Client) error {
	var head struct {
		Number  hexutil.Uint64 `json:"number"`
		BaseFee *hexutil.Big   `json:"baseFeePerGas"`
	}
	if err := c.CallContext(ctx, &head, "eth_getBlockByNumber", "latest", false); err != nil {
		return fmt.Errorf("ethchaingen: latest block: %v", err)
	}
	if head.BaseFee != nil && new(big.Int).Lsh(head.BaseFee.ToInt(), 1).Cmp(feeCap) > 0 {
		return fmt.Errorf("ethchaingen: the base fee of block %d, %s wei, is above half the fee cap of %s wei: the node's blocks are too full (start geth with a larger --dev.gaslimit or use smaller rounds)",
			head.Number, head.BaseFee.ToInt(), feeCap)
	}
	return nil
}

// cost is the most a transaction can take from its sender.
func cost(value *big.Int, gas uint64) *big.Int {
	c := new(big.Int).Mul(new(big.Int).SetUint64(gas), feeCap)
	return c.Add(c, value)
}

// planRound signs the next n transactions of the mix and debits their
// senders; receivers are credited by settle once the round is mined.
func (g *gen) planRound(n int) ([]*types.Transaction, []kind, error) {
	txs := make([]*types.Transaction, 0, n)
	kinds := make([]kind, 0, n)
	for range n {
		tx, k, err := g.plan()
		if err != nil {
			return nil, nil, err
		}
		txs, kinds = append(txs, tx), append(kinds, k)
	}
	return txs, kinds, nil
}

func (g *gen) value() *big.Int { return new(big.Int).SetUint64(minValue + g.rng.Uint64N(valueSpan)) }

// receiver draws an account other than from: a hub a tenth of the time
// when hubs is set.
func (g *gen) receiver(from int, hub bool) int {
	n := len(g.addrs)
	for {
		var r int
		if hub && g.rng.IntN(10) == 0 {
			r = g.rng.IntN(min(hubs, n))
		} else {
			r = g.rng.IntN(n)
		}
		if r != from {
			return r
		}
	}
}

// sender draws an account that can pay value and gas (and, for token
// transfers, holds tokens): a few random draws, then a scan from a random
// start.
func (g *gen) sender(value *big.Int, gas uint64, needTokens bool) (int, error) {
	need := cost(value, gas)
	ok := func(i int) bool {
		return g.ether[i].Cmp(need) >= 0 && (!needTokens || g.tokens[i] > 0)
	}
	n := len(g.addrs)
	for range 32 {
		if i := g.rng.IntN(n); ok(i) {
			return i, nil
		}
	}
	start := g.rng.IntN(n)
	for j := range n {
		if i := (start + j) % n; ok(i) {
			return i, nil
		}
	}
	what := "ether"
	if needTokens {
		what = "ether and tokens"
	}
	return 0, fmt.Errorf("ethchaingen: no account has the %s for another transaction after %d: use more accounts", what, g.st.Txs)
}

func (g *gen) plan() (*types.Transaction, kind, error) {
	r := g.rng.IntN(100)
	var (
		k     kind
		from  int
		to    common.Address
		value *big.Int
		gas   uint64
		data  []byte
		err   error
	)
	switch {
	case r < g.opt.TokenPercent:
		k, value, gas = kindToken, new(big.Int), g.tokenGas
		if from, err = g.sender(value, gas, true); err != nil {
			return nil, 0, err
		}
		rcv := g.receiver(from, true)
		amount := 1 + g.rng.Uint64N(max(g.tokens[from]/4, 1))
		if data, err = g.tokenABI.Pack("transfer", g.addrs[rcv], new(big.Int).SetUint64(amount)); err != nil {
			return nil, 0, fmt.Errorf("ethchaingen: transfer call: %v", err)
		}
		g.tokens[from] -= amount
		g.tokensIn[rcv] += amount
		to = g.token
	case r < g.opt.TokenPercent+g.opt.ForwardPercent:
		k, value, gas = kindForward, g.value(), g.fwdGas
		if from, err = g.sender(value, gas, false); err != nil {
			return nil, 0, err
		}
		first, second := g.receiver(from, false), g.receiver(from, false)
		toFirst := value.Uint64() * g.rng.Uint64N(101) / 100
		if data, err = g.fwdABI.Pack("forward", g.addrs[first], g.addrs[second], new(big.Int).SetUint64(toFirst)); err != nil {
			return nil, 0, fmt.Errorf("ethchaingen: forward call: %v", err)
		}
		g.etherIn[first].Add(g.etherIn[first], new(big.Int).SetUint64(toFirst))
		g.etherIn[second].Add(g.etherIn[second], new(big.Int).SetUint64(value.Uint64()-toFirst))
		to = g.forwarder
	default:
		k, value, gas = kindTransfer, g.value(), 21_000
		if from, err = g.sender(value, gas, false); err != nil {
			return nil, 0, err
		}
		rcv := g.receiver(from, true)
		g.etherIn[rcv].Add(g.etherIn[rcv], value)
		to = g.addrs[rcv]
	}
	tx, err := g.sign(g.keys[from], g.nonces[from], &to, value, gas, data)
	if err != nil {
		return nil, 0, err
	}
	g.nonces[from]++
	g.ether[from].Sub(g.ether[from], cost(value, gas))
	return tx, k, nil
}

// settle credits what the round just mined paid the accounts.
func (g *gen) settle() {
	for i := range g.addrs {
		if g.etherIn[i].Sign() != 0 {
			g.ether[i].Add(g.ether[i], g.etherIn[i])
			g.etherIn[i].SetUint64(0)
		}
		g.tokens[i] += g.tokensIn[i]
		g.tokensIn[i] = 0
	}
}
