package ethscenario

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// The token the case deploys.
const (
	TokenName     = "Vestigo Test Dollar"
	TokenSymbol   = "VTD"
	TokenDecimals = 6
)

// plainTransferGas is the gas a transfer of ether without data to an
// account without code uses, always (the intrinsic gas of a transaction).
const plainTransferGas = 21000

var (
	gwei  = big.NewInt(1_000_000_000)
	ether = new(big.Int).Exp(big.NewInt(10), big.NewInt(18), nil)
	unit  = big.NewInt(1_000_000) // one whole token, 10^TokenDecimals base units
)

// milliEther returns n thousandths of an ether in wei.
func milliEther(n int64) *big.Int {
	return new(big.Int).Div(new(big.Int).Mul(big.NewInt(n), ether), big.NewInt(1000))
}

func mul(a *big.Int, n int64) *big.Int { return new(big.Int).Mul(a, big.NewInt(n)) }

// Run plays the case of seed on the chain behind client, paying the
// initial ether with funder, and returns its truth. It sends one
// transaction at a time and waits for each receipt (polling
// eth_getTransactionReceipt for as long as ctx allows). The chain must
// seal pending transactions by itself (geth --dev does) and must not have
// seen the seed's accounts before.
func Run(ctx context.Context, client *ethclient.Client, funder Funder, seed int64, opts Options) (*Truth, error) {
	if client == nil {
		return nil, errors.New("ethscenario: no ethclient")
	}
	if funder == nil {
		return nil, errors.New("ethscenario: no funder")
	}
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	p, err := newPlan(seed, o.Hops)
	if err != nil {
		return nil, err
	}
	tok, err := TokenContract()
	if err != nil {
		return nil, err
	}
	fwd, err := ForwarderContract()
	if err != nil {
		return nil, err
	}
	r := &runner{ctx: ctx, c: client, log: o.Logger, p: p, funder: funder, tok: tok, fwd: fwd,
		rng: rand.New(rand.NewPCG(uint64(seed), 0x7665737469676f)), deposits: map[string]*Deposit{}}
	r.transferID = tok.ABI.Events["Transfer"].ID
	r.forwardedID = fwd.ABI.Events["Forwarded"].ID
	if err := r.prepare(); err != nil {
		return nil, err
	}
	if err := r.play(); err != nil {
		return nil, err
	}
	if err := r.finish(); err != nil {
		return nil, err
	}
	return r.t, nil
}

type runner struct {
	ctx     context.Context
	c       *ethclient.Client
	log     *slog.Logger
	p       *plan
	funder  Funder
	tok     Contract
	fwd     Contract
	rng     *rand.Rand
	chainID *big.Int
	signer  types.Signer

	transferID, forwardedID common.Hash

	t        *Truth
	deposits map[string]*Deposit // by label
}

// prepare reads the chain id and refuses a chain on which any account of
// the seed has been used.
func (r *runner) prepare() error {
	id, err := r.c.ChainID(r.ctx)
	if err != nil {
		return fmt.Errorf("ethscenario: eth_chainId: %v", err)
	}
	if id.Sign() <= 0 || !id.IsUint64() {
		return fmt.Errorf("ethscenario: chain id %s out of range", id)
	}
	r.chainID = id
	r.signer = types.LatestSignerForChainID(id)
	fa := r.funder.Address()
	for _, a := range r.p.accounts {
		if a.addr == fa {
			return fmt.Errorf("ethscenario: the funder %s is the case's %s", fa.Hex(), a.label)
		}
		code, err := r.c.CodeAt(r.ctx, a.addr, nil)
		if err != nil {
			return fmt.Errorf("ethscenario: eth_getCode %s (%s): %v", a.addr.Hex(), a.label, err)
		}
		bal, err := r.c.BalanceAt(r.ctx, a.addr, nil)
		if err != nil {
			return fmt.Errorf("ethscenario: eth_getBalance %s (%s): %v", a.addr.Hex(), a.label, err)
		}
		nonce, err := r.c.NonceAt(r.ctx, a.addr, nil)
		if err != nil {
			return fmt.Errorf("ethscenario: eth_getTransactionCount %s (%s): %v", a.addr.Hex(), a.label, err)
		}
		if len(code) != 0 || bal.Sign() != 0 || nonce != 0 {
			return fmt.Errorf("ethscenario: %s %s of seed %d is already used on this chain (balance %s wei, nonce %d, %d bytes of code): use another seed or a fresh chain",
				a.label, a.addr.Hex(), r.p.seed, bal, nonce, len(code))
		}
	}
	r.t = &Truth{Format: TruthFormat, Seed: r.p.seed, Hops: r.p.hops, ChainID: id.Uint64(), Funder: fa,
		Forwarder: r.p.get("forwarder").addr, HotWallet: r.p.get("exchange-hot").addr,
		Token: TokenInfo{Address: r.p.get("token").addr, Name: TokenName, Symbol: TokenSymbol,
			Decimals: TokenDecimals, Deployer: r.p.get("deployer").addr}}
	return nil
}

// between returns lo plus a seeded draw from [0, span); span fits 64 bits.
func (r *runner) between(lo, span *big.Int) *big.Int {
	return new(big.Int).Add(lo, new(big.Int).SetUint64(r.rng.Uint64N(span.Uint64())))
}

// play sends the case's transactions (see the package documentation).
func (r *runner) play() error {
	var (
		p        = r.p
		deployer = p.get("deployer")
		victim   = p.get("victim")
		tokAddr  = p.get("token").addr
		fwdAddr  = p.get("forwarder").addr
		hot      = p.get("exchange-hot")
	)
	// Every amount is drawn here, in a fixed order, before anything is sent.
	victimFund := r.between(mul(ether, 40), ether)
	userFund := [2]*big.Int{r.between(mul(ether, 5), ether), r.between(mul(ether, 5), ether)}
	userDeposit := [2]*big.Int{r.between(ether, mul(ether, 2)), r.between(ether, mul(ether, 2))}
	theft := r.between(mul(ether, 20), mul(ether, 10))
	mintThief := r.between(mul(unit, 1_000_000), mul(unit, 500_000))
	mintUser := r.between(mul(unit, 20_000), mul(unit, 10_000))
	peels := make([]*big.Int, p.hops)
	tokenPeels := make([]*big.Int, p.hops)
	for i := range peels {
		peels[i] = r.between(milliEther(200), milliEther(800))
		tokenPeels[i] = r.between(mul(unit, 1_000), mul(unit, 20_000))
	}
	hopReserve := milliEther(50)  // kept by each hop for its gas
	peelReserve := milliEther(10) // kept by a peel address that deposits

	for _, f := range []struct {
		a   *account
		wei *big.Int
	}{{deployer, mul(ether, 2)}, {victim, victimFund}, {p.get("user-0"), userFund[0]}, {p.get("user-1"), userFund[1]}} {
		if err := r.fund(f.a, f.wei); err != nil {
			return err
		}
	}

	ctor, err := r.tok.ABI.Pack("", TokenName, TokenSymbol, uint8(TokenDecimals))
	if err != nil {
		return fmt.Errorf("ethscenario: encode token constructor: %v", err)
	}
	if _, err := r.send(KindDeployToken, deployer, nil, nil, append(append([]byte{}, r.tok.Bytecode...), ctor...), "ERC-20 "+TokenSymbol); err != nil {
		return err
	}
	if _, err := r.send(KindDeployForwarder, deployer, nil, nil, r.fwd.Bytecode, ""); err != nil {
		return err
	}
	if err := r.checkTokenMetadata(); err != nil {
		return err
	}
	thief0 := p.get("thief-0")
	mintTx, err := r.tokenCall(KindMint, deployer, "mint", thief0.addr, mintThief)
	if err != nil {
		return err
	}
	if _, err := r.tokenCall(KindMint, deployer, "mint", p.get("user-0").addr, mintUser); err != nil {
		return err
	}

	theftTx, err := r.send(KindTheft, victim, &thief0.addr, theft, nil, "")
	if err != nil {
		return err
	}
	if err := r.step(&r.t.Path, theftTx, victim.addr, thief0.addr, AssetETH, theft, false); err != nil {
		return err
	}
	tokAsset := tokAddr.Hex()
	if err := r.step(&r.t.TokenPath, mintTx, common.Address{}, thief0.addr, tokAsset, mintThief, true); err != nil {
		return err
	}

	x, t := theft, mintThief // what the current hop holds for the thief's chain
	for i := 0; i < p.hops; i++ {
		cur, next, peel := p.get(label("thief", i)), p.get(label("thief", i+1)), p.get(label("peel", i))
		nextX := new(big.Int).Sub(x, peels[i])
		nextX.Sub(nextX, hopReserve)
		if nextX.Sign() <= 0 {
			return fmt.Errorf("ethscenario: hop %d has nothing left to pass on", i)
		}
		if i == forwardHop(p.hops) {
			data, err := r.fwd.ABI.Pack("forward", next.addr, peel.addr, nextX)
			if err != nil {
				return fmt.Errorf("ethscenario: encode forward: %v", err)
			}
			value := new(big.Int).Add(nextX, peels[i])
			tx, err := r.send(KindForward, cur, &fwdAddr, value, data, "to "+next.label+" and "+peel.label+" through the Forwarder")
			if err != nil {
				return err
			}
			if err := r.step(&r.t.Path, tx, cur.addr, fwdAddr, AssetETH, value, false); err != nil {
				return err
			}
			if err := r.step(&r.t.Path, tx, fwdAddr, next.addr, AssetETH, nextX, true); err != nil {
				return err
			}
		} else {
			if _, err := r.send(KindPeel, cur, &peel.addr, peels[i], nil, ""); err != nil {
				return err
			}
			tx, err := r.send(KindHop, cur, &next.addr, nextX, nil, "")
			if err != nil {
				return err
			}
			if err := r.step(&r.t.Path, tx, cur.addr, next.addr, AssetETH, nextX, false); err != nil {
				return err
			}
		}
		nextT := new(big.Int).Sub(t, tokenPeels[i])
		if _, err := r.tokenCall(KindTokenPeel, cur, "transfer", peel.addr, tokenPeels[i]); err != nil {
			return err
		}
		tx, err := r.tokenCall(KindTokenHop, cur, "transfer", next.addr, nextT)
		if err != nil {
			return err
		}
		if err := r.step(&r.t.TokenPath, tx, cur.addr, next.addr, tokAsset, nextT, true); err != nil {
			return err
		}
		x, t = nextX, nextT
	}

	last, dep0 := p.get(label("thief", p.hops)), p.get("deposit-0")
	lastX := new(big.Int).Sub(x, hopReserve)
	tx, err := r.deposit(KindDeposit, last, dep0, lastX)
	if err != nil {
		return err
	}
	if err := r.step(&r.t.Path, tx, last.addr, dep0.addr, AssetETH, lastX, false); err != nil {
		return err
	}
	tx, err = r.deposit(KindTokenDeposit, last, dep0, t)
	if err != nil {
		return err
	}
	if err := r.step(&r.t.TokenPath, tx, last.addr, dep0.addr, tokAsset, t, true); err != nil {
		return err
	}
	for i := 0; i < 2; i++ {
		if _, err := r.deposit(KindDeposit, p.get(label("peel", i)), p.get(label("deposit", i)), new(big.Int).Sub(peels[i], peelReserve)); err != nil {
			return err
		}
		if _, err := r.deposit(KindDeposit, p.get(label("user", i)), p.get(label("deposit", 2+i)), userDeposit[i]); err != nil {
			return err
		}
	}

	tx, err = r.tokenCall(KindTokenSweep, dep0, "transfer", hot.addr, t)
	if err != nil {
		return err
	}
	sweepHash := tx.Hash
	r.deposits[dep0.label].TokenSweepTx = &sweepHash
	if err := r.step(&r.t.TokenPath, tx, dep0.addr, hot.addr, tokAsset, t, true); err != nil {
		return err
	}
	for i := 0; i < Deposits; i++ {
		d := p.get(label("deposit", i))
		tx, swept, err := r.sweep(d, hot)
		if err != nil {
			return err
		}
		if i == 0 {
			if err := r.step(&r.t.Path, tx, d.addr, hot.addr, AssetETH, swept, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// deposit pays ether (KindDeposit) or tokens (KindTokenDeposit) from a
// customer's address into a deposit address and records it there.
func (r *runner) deposit(kind TxKind, from, dep *account, amount *big.Int) (*Tx, error) {
	var (
		tx  *Tx
		err error
	)
	if kind == KindTokenDeposit {
		tx, err = r.tokenCall(kind, from, "transfer", dep.addr, amount)
	} else {
		tx, err = r.send(kind, from, &dep.addr, amount, nil, "")
	}
	if err != nil {
		return nil, err
	}
	d := r.deposits[dep.label]
	if d == nil {
		d = &Deposit{Address: dep.addr, Label: dep.label, Customer: dep.customer}
		r.deposits[dep.label] = d
	}
	known := false
	for _, s := range d.Senders {
		known = known || s == from.addr
	}
	if !known {
		d.Senders = append(d.Senders, from.addr)
	}
	d.DepositTxs = append(d.DepositTxs, tx.Hash)
	return tx, nil
}

// tokenCall sends token.method(to, amount) from an account.
func (r *runner) tokenCall(kind TxKind, from *account, method string, to common.Address, amount *big.Int) (*Tx, error) {
	data, err := r.tok.ABI.Pack(method, to, amount)
	if err != nil {
		return nil, fmt.Errorf("ethscenario: encode %s: %v", method, err)
	}
	tokAddr := r.t.Token.Address
	return r.send(kind, from, &tokAddr, nil, data, method+" "+amount.String()+" to "+r.labelOf(to))
}

func (r *runner) labelOf(a common.Address) string {
	for _, acc := range r.p.accounts {
		if acc.addr == a {
			return acc.label
		}
	}
	return a.Hex()
}

// step appends one movement to a path.
func (r *runner) step(path *[]Step, tx *Tx, from, to common.Address, asset string, amount *big.Int, internal bool) error {
	a, err := toAmount(amount)
	if err != nil {
		return err
	}
	fl := "mint"
	if from != (common.Address{}) {
		fl = r.labelOf(from)
	}
	*path = append(*path, Step{Tx: tx.Hash, From: from, To: to, FromLabel: fl, ToLabel: r.labelOf(to), Asset: asset, Amount: a, Internal: internal})
	return nil
}

// fees returns the tip and the fee cap for the next block: tip 1 gwei, cap
// twice the latest base fee plus the tip.
func (r *runner) fees() (tip, feeCap *big.Int, err error) {
	h, err := r.c.HeaderByNumber(r.ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("ethscenario: latest header: %v", err)
	}
	if h.BaseFee == nil {
		return nil, nil, fmt.Errorf("ethscenario: block %s has no base fee (EIP-1559 required)", h.Number)
	}
	feeCap = new(big.Int).Mul(h.BaseFee, big.NewInt(2))
	return new(big.Int).Set(gwei), feeCap.Add(feeCap, gwei), nil
}

// send signs and sends a transaction of from with gas eth_estimateGas ×
// 1.2, waits for its receipt and records it.
func (r *runner) send(kind TxKind, from *account, to *common.Address, value *big.Int, data []byte, note string) (*Tx, error) {
	if value == nil {
		value = new(big.Int)
	}
	tip, feeCap, err := r.fees()
	if err != nil {
		return nil, err
	}
	est, err := r.c.EstimateGas(r.ctx, ethereum.CallMsg{From: from.addr, To: to, Value: value, Data: data})
	if err != nil {
		return nil, fmt.Errorf("ethscenario: eth_estimateGas for %s from %s: %v", kind, from.label, err)
	}
	gas := est + (est+4)/5
	return r.sendTx(kind, from, &types.DynamicFeeTx{GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: to, Value: value, Data: data}, note)
}

// sendTx signs txd with from's key and next nonce, sends it, waits for the
// receipt and records the transaction.
func (r *runner) sendTx(kind TxKind, from *account, txd *types.DynamicFeeTx, note string) (*Tx, error) {
	txd.ChainID = r.chainID
	txd.Nonce = from.nonce
	stx, err := types.SignNewTx(from.key, r.signer, txd)
	if err != nil {
		return nil, fmt.Errorf("ethscenario: sign %s from %s: %v", kind, from.label, err)
	}
	if err := r.submit(stx); err != nil {
		return nil, fmt.Errorf("ethscenario: send %s from %s (%s): %v", kind, from.label, from.addr.Hex(), err)
	}
	from.nonce++
	rc, err := r.wait(stx.Hash())
	if err != nil {
		return nil, err
	}
	return r.record(kind, from.addr, stx, rc, note)
}

// poolLagAttempts bounds how often submit retries a transaction that the
// node's pool rejects for lack of funds the sender's latest state has.
const poolLagAttempts = 200

// submit sends a signed transaction. geth publishes a block's receipts
// before its transaction pool has moved to the new state, so a sender paid
// in the block just mined can be refused for "insufficient funds" for a
// moment. submit then checks the balance at the latest block: if it covers
// value + gas × fee cap, it waits and sends again; otherwise the refusal
// stands.
func (r *runner) submit(stx *types.Transaction) error {
	delay := 2 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := r.c.SendTransaction(r.ctx, stx)
		if err == nil || !strings.Contains(err.Error(), "insufficient funds") || attempt == poolLagAttempts {
			return err
		}
		from, serr := types.Sender(r.signer, stx)
		if serr != nil {
			return err
		}
		bal, berr := r.c.BalanceAt(r.ctx, from, nil)
		if berr != nil {
			return fmt.Errorf("%v (and eth_getBalance: %v)", err, berr)
		}
		if bal.Cmp(stx.Cost()) < 0 {
			return fmt.Errorf("%v (latest balance %s wei)", err, bal)
		}
		r.log.Debug("ethscenario: the pool lags behind the chain; sending again", "hash", stx.Hash().Hex(), "attempt", attempt)
		if err := r.sleep(delay); err != nil {
			return err
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

// sleep waits for d or until ctx ends.
func (r *runner) sleep(d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-r.ctx.Done():
		return r.ctx.Err()
	case <-t.C:
		return nil
	}
}

// fund has the funder pay wei to a, checks what it sent and records it.
func (r *runner) fund(a *account, wei *big.Int) error {
	h, err := r.funder.Fund(r.ctx, a.addr, wei)
	if err != nil {
		return fmt.Errorf("ethscenario: fund %s: %w", a.label, err)
	}
	rc, err := r.wait(h)
	if err != nil {
		return err
	}
	tx, _, err := r.c.TransactionByHash(r.ctx, h)
	if err != nil {
		return fmt.Errorf("ethscenario: eth_getTransactionByHash %s: %v", h.Hex(), err)
	}
	from, err := types.Sender(r.signer, tx)
	if err != nil {
		return fmt.Errorf("ethscenario: funding transaction %s: sender: %v", h.Hex(), err)
	}
	if from != r.funder.Address() || tx.To() == nil || *tx.To() != a.addr || tx.Value().Cmp(wei) != 0 || len(tx.Data()) != 0 {
		return fmt.Errorf("ethscenario: funding transaction %s is not %s wei from %s to %s (%s)", h.Hex(), wei, r.funder.Address().Hex(), a.addr.Hex(), a.label)
	}
	_, err = r.record(KindFund, from, tx, rc, "")
	return err
}

// sweep forwards the whole ether balance of a deposit address to the hot
// wallet: gas limit exactly the estimate (which must be 21,000), fee cap
// equal to the tip, value = balance − 21,000 × price.
func (r *runner) sweep(d, hot *account) (*Tx, *big.Int, error) {
	bal, err := replay(r.t)
	if err != nil {
		return nil, nil, err
	}
	want := bal.eth[d.addr].Big()
	node, err := r.c.BalanceAt(r.ctx, d.addr, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("ethscenario: eth_getBalance %s (%s): %v", d.addr.Hex(), d.label, err)
	}
	if node.Cmp(want) != 0 {
		return nil, nil, fmt.Errorf("ethscenario: %s holds %s wei on the node, the case's ledger says %s", d.label, node, want)
	}
	est, err := r.c.EstimateGas(r.ctx, ethereum.CallMsg{From: d.addr, To: &hot.addr})
	if err != nil {
		return nil, nil, fmt.Errorf("ethscenario: eth_estimateGas for the sweep of %s: %v", d.label, err)
	}
	if est != plainTransferGas {
		return nil, nil, fmt.Errorf("ethscenario: the sweep of %s is estimated at %d gas, a plain transfer takes %d", d.label, est, plainTransferGas)
	}
	_, feeCap, err := r.fees()
	if err != nil {
		return nil, nil, err
	}
	fee := new(big.Int).Mul(feeCap, big.NewInt(plainTransferGas))
	value := new(big.Int).Sub(want, fee)
	if value.Sign() <= 0 {
		return nil, nil, fmt.Errorf("ethscenario: %s holds %s wei, not more than the sweep's fee %s", d.label, want, fee)
	}
	hotAddr := hot.addr
	tx, err := r.sendTx(KindSweep, d, &types.DynamicFeeTx{GasTipCap: feeCap, GasFeeCap: feeCap, Gas: plainTransferGas, To: &hotAddr, Value: value},
		"whole balance "+want.String()+" less fee "+fee.String())
	if err != nil {
		return nil, nil, err
	}
	if tx.Fee.Big().Cmp(fee) != 0 {
		return nil, nil, fmt.Errorf("ethscenario: the sweep of %s paid fee %s, %s expected", d.label, tx.Fee, fee)
	}
	dep := r.deposits[d.label]
	if dep == nil {
		return nil, nil, fmt.Errorf("ethscenario: sweep of %s, which received nothing", d.label)
	}
	dep.SweepTx = tx.Hash
	dep.Swept = tx.Value
	return tx, value, nil
}

// wait polls for a transaction's receipt until it exists or ctx ends.
func (r *runner) wait(h common.Hash) (*types.Receipt, error) {
	delay := 2 * time.Millisecond
	for {
		rc, err := r.c.TransactionReceipt(r.ctx, h)
		if err == nil {
			return rc, nil
		}
		// geth answers "transaction indexing is in progress" while it
		// indexes at start-up: the receipt may exist, ask again.
		if !errors.Is(err, ethereum.NotFound) && !strings.Contains(err.Error(), "indexing is in progress") {
			return nil, fmt.Errorf("ethscenario: eth_getTransactionReceipt %s: %v", h.Hex(), err)
		}
		if err := r.sleep(delay); err != nil {
			return nil, fmt.Errorf("ethscenario: waiting for the receipt of %s: %w", h.Hex(), err)
		}
		delay = min(2*delay, 100*time.Millisecond)
	}
}

func toAmount(b *big.Int) (chain.Amount, error) {
	if b == nil {
		return chain.Amount{}, errors.New("ethscenario: missing amount")
	}
	a, err := chain.ParseAmount(b.String())
	if err != nil {
		return chain.Amount{}, fmt.Errorf("ethscenario: amount %s: %v", b, err)
	}
	return a, nil
}

// record checks a mined transaction's receipt against what was sent and
// appends the transaction, with every transfer it made, to the truth.
func (r *runner) record(kind TxKind, from common.Address, tx *types.Transaction, rc *types.Receipt, note string) (*Tx, error) {
	h := tx.Hash()
	if rc.TxHash != h {
		return nil, fmt.Errorf("ethscenario: receipt of %s names transaction %s", h.Hex(), rc.TxHash.Hex())
	}
	if rc.Status != types.ReceiptStatusSuccessful {
		return nil, fmt.Errorf("ethscenario: %s transaction %s from %s failed (status %d, gas used %d of %d)", kind, h.Hex(), r.labelOf(from), rc.Status, rc.GasUsed, tx.Gas())
	}
	if rc.BlockNumber == nil || !rc.BlockNumber.IsUint64() {
		return nil, fmt.Errorf("ethscenario: receipt of %s has no valid block number", h.Hex())
	}
	if rc.EffectiveGasPrice == nil || rc.EffectiveGasPrice.Sign() <= 0 {
		return nil, fmt.Errorf("ethscenario: receipt of %s has no effective gas price", h.Hex())
	}
	if rc.EffectiveGasPrice.Cmp(tx.GasFeeCap()) > 0 || rc.GasUsed == 0 || rc.GasUsed > tx.Gas() {
		return nil, fmt.Errorf("ethscenario: receipt of %s: gas used %d (limit %d) at price %s (cap %s) is impossible", h.Hex(), rc.GasUsed, tx.Gas(), rc.EffectiveGasPrice, tx.GasFeeCap())
	}
	fee := new(big.Int).Mul(new(big.Int).SetUint64(rc.GasUsed), rc.EffectiveGasPrice)
	x := Tx{Hash: h, Block: rc.BlockNumber.Uint64(), Kind: kind, From: from, To: tx.To(), Nonce: tx.Nonce(), GasUsed: rc.GasUsed, Note: note}
	var err error
	if x.Value, err = toAmount(tx.Value()); err != nil {
		return nil, err
	}
	if x.EffectiveGasPrice, err = toAmount(rc.EffectiveGasPrice); err != nil {
		return nil, err
	}
	if x.Fee, err = toAmount(fee); err != nil {
		return nil, err
	}
	if tx.To() == nil {
		want := crypto.CreateAddress(from, tx.Nonce())
		if rc.ContractAddress != want {
			return nil, fmt.Errorf("ethscenario: creation %s made contract %s, %s expected", h.Hex(), rc.ContractAddress.Hex(), want.Hex())
		}
		x.Created = &want
		if tx.Value().Sign() != 0 {
			x.Transfers = append(x.Transfers, Transfer{Kind: TransferCall, Asset: AssetETH, From: from, To: want, Amount: x.Value})
		}
	} else if tx.Value().Sign() != 0 {
		x.Transfers = append(x.Transfers, Transfer{Kind: TransferCall, Asset: AssetETH, From: from, To: *tx.To(), Amount: x.Value})
	}
	logged, err := r.logTransfers(rc)
	if err != nil {
		return nil, err
	}
	x.Transfers = append(x.Transfers, logged...)
	if x.Transfers == nil {
		x.Transfers = []Transfer{}
	}
	if len(r.t.Txs) == 0 {
		r.t.FirstBlock = x.Block
	}
	r.t.TipBlock = x.Block
	r.t.Txs = append(r.t.Txs, x)
	r.log.Debug("ethscenario: transaction mined", "kind", kind, "hash", h.Hex(), "from", r.labelOf(from), "block", x.Block, "gas_used", rc.GasUsed)
	return &x, nil
}

// logTransfers reads the transfers a receipt's logs show: the token's
// Transfer events and the Forwarder's Forwarded events (two internal ether
// transfers each). Any other log is an error: the case emits no other.
func (r *runner) logTransfers(rc *types.Receipt) ([]Transfer, error) {
	var out []Transfer
	for _, l := range rc.Logs {
		if l.Removed {
			return nil, fmt.Errorf("ethscenario: receipt of %s holds a removed log", rc.TxHash.Hex())
		}
		li := l.Index
		switch {
		case l.Address == r.t.Token.Address && len(l.Topics) > 0 && l.Topics[0] == r.transferID:
			if len(l.Topics) != 3 || len(l.Data) != 32 {
				return nil, fmt.Errorf("ethscenario: malformed Transfer log %d in %s", li, rc.TxHash.Hex())
			}
			from, err1 := topicAddress(l.Topics[1])
			to, err2 := topicAddress(l.Topics[2])
			amt, err3 := toAmount(new(big.Int).SetBytes(l.Data))
			if err := errors.Join(err1, err2, err3); err != nil {
				return nil, fmt.Errorf("ethscenario: Transfer log %d in %s: %v", li, rc.TxHash.Hex(), err)
			}
			out = append(out, Transfer{Kind: TransferToken, Asset: r.t.Token.Address.Hex(), From: from, To: to, Amount: amt, LogIndex: &li})
		case l.Address == r.t.Forwarder && len(l.Topics) > 0 && l.Topics[0] == r.forwardedID:
			if len(l.Topics) != 4 || len(l.Data) != 64 {
				return nil, fmt.Errorf("ethscenario: malformed Forwarded log %d in %s", li, rc.TxHash.Hex())
			}
			first, err1 := topicAddress(l.Topics[2])
			second, err2 := topicAddress(l.Topics[3])
			a1, err3 := toAmount(new(big.Int).SetBytes(l.Data[:32]))
			a2, err4 := toAmount(new(big.Int).SetBytes(l.Data[32:]))
			if err := errors.Join(err1, err2, err3, err4); err != nil {
				return nil, fmt.Errorf("ethscenario: Forwarded log %d in %s: %v", li, rc.TxHash.Hex(), err)
			}
			for _, t := range []Transfer{{To: first, Amount: a1}, {To: second, Amount: a2}} {
				if t.Amount.IsZero() {
					continue // a call without value moves nothing
				}
				t.Kind, t.Asset, t.From, t.LogIndex = TransferInternal, AssetETH, r.t.Forwarder, &li
				out = append(out, t)
			}
		default:
			return nil, fmt.Errorf("ethscenario: unexpected log %d from %s in %s", li, l.Address.Hex(), rc.TxHash.Hex())
		}
	}
	return out, nil
}

// topicAddress reads an indexed address parameter: 12 zero bytes, then the
// address.
func topicAddress(h common.Hash) (common.Address, error) {
	for _, b := range h[:12] {
		if b != 0 {
			return common.Address{}, fmt.Errorf("topic %s is not an address", h.Hex())
		}
	}
	return common.BytesToAddress(h[12:]), nil
}

// finish fills in the balances, the deposits and the tip, and validates
// the truth.
func (r *runner) finish() error {
	bal, err := replay(r.t)
	if err != nil {
		return err
	}
	for _, a := range r.p.accounts {
		d := a.describe()
		d.Balance, d.TokenBalance = bal.eth[a.addr], bal.token[a.addr]
		r.t.Addresses = append(r.t.Addresses, d)
	}
	r.t.Token.TotalSupply = bal.minted
	for i := 0; i < Deposits; i++ {
		d := r.deposits[label("deposit", i)]
		if d == nil {
			return fmt.Errorf("ethscenario: deposit-%d received nothing", i)
		}
		r.t.Deposits = append(r.t.Deposits, *d)
	}
	h, err := r.c.HeaderByNumber(r.ctx, new(big.Int).SetUint64(r.t.TipBlock))
	if err != nil {
		return fmt.Errorf("ethscenario: header %d: %v", r.t.TipBlock, err)
	}
	r.t.TipHash = h.Hash()
	return r.t.Validate()
}

// checkTokenMetadata reads name, symbol and decimals back from the
// deployed token.
func (r *runner) checkTokenMetadata() error {
	for _, m := range []struct {
		method string
		want   any
	}{{"name", TokenName}, {"symbol", TokenSymbol}, {"decimals", uint8(TokenDecimals)}} {
		got, err := callToken(r.ctx, r.c, r.tok, r.t.Token.Address, nil, m.method)
		if err != nil {
			return err
		}
		if got != m.want {
			return fmt.Errorf("ethscenario: token %s() is %v, %v expected", m.method, got, m.want)
		}
	}
	return nil
}

// callToken calls a view method of the token with eth_call at block (nil:
// latest) and returns its single result.
func callToken(ctx context.Context, c *ethclient.Client, tok Contract, addr common.Address, block *big.Int, method string, args ...any) (any, error) {
	data, err := tok.ABI.Pack(method, args...)
	if err != nil {
		return nil, fmt.Errorf("ethscenario: encode %s: %v", method, err)
	}
	out, err := c.CallContract(ctx, ethereum.CallMsg{To: &addr, Data: data}, block)
	if err != nil {
		return nil, fmt.Errorf("ethscenario: eth_call %s() of token %s: %v", method, addr.Hex(), err)
	}
	vals, err := tok.ABI.Unpack(method, out)
	if err != nil || len(vals) != 1 {
		return nil, fmt.Errorf("ethscenario: %s() of token %s answered %x: %v", method, addr.Hex(), out, err)
	}
	return vals[0], nil
}
