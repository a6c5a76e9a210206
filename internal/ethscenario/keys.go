package ethscenario

import (
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"log/slog"
	"strconv"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// DefaultHops is the length of the thief's chain when Options.Hops is zero;
// MinHops and MaxHops bound it.
const (
	DefaultHops = 4
	MinHops     = 2
	MaxHops     = 16
)

// Deposits is the number of exchange deposit addresses of every case.
const Deposits = 4

// Options tune a case. The zero value is valid.
type Options struct {
	// Hops is N, the number of addresses after thief-0 on the thief's chain
	// (thief-1 … thief-N); 0 means DefaultHops.
	Hops int
	// Logger receives a debug record per transaction; nil discards them.
	Logger *slog.Logger
}

func (o Options) normalized() (Options, error) {
	if o.Hops == 0 {
		o.Hops = DefaultHops
	}
	if o.Hops < MinHops || o.Hops > MaxHops {
		return o, fmt.Errorf("ethscenario: hops %d out of range [%d, %d]", o.Hops, MinHops, MaxHops)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// forwardHop is the hop of the thief's chain that goes through Forwarder.
func forwardHop(hops int) int { return hops / 2 }

// Role is what an address does in the case.
type Role string

// Roles.
const (
	RoleDeployer  Role = "deployer"            // deploys both contracts, mints the token
	RoleToken     Role = "token"               // the ERC-20 contract
	RoleForwarder Role = "forwarder"           // the Forwarder contract
	RoleVictim    Role = "victim"              // pays the theft to thief-0
	RoleThief     Role = "thief"               // thief-0, the first receiver of the stolen ether and of the minted tokens
	RoleHop       Role = "hop"                 // thief-1 … thief-N, the thief's chain
	RolePeel      Role = "peel"                // peel-i, receives what hop i peels off (ether and tokens)
	RoleUser      Role = "user"                // an unrelated exchange customer
	RoleHotWallet Role = "exchange_hot_wallet" // collects every deposit address's balance
	RoleDeposit   Role = "deposit"             // an exchange deposit address given to one customer
)

var knownRoles = map[Role]bool{RoleDeployer: true, RoleToken: true, RoleForwarder: true, RoleVictim: true,
	RoleThief: true, RoleHop: true, RolePeel: true, RoleUser: true, RoleHotWallet: true, RoleDeposit: true}

// Owners: who controls an address. Deposit addresses belong to the exchange
// and carry the customer they were given to; contracts have no owner.
const (
	OwnerIssuer   = "issuer"
	OwnerVictim   = "victim"
	OwnerThief    = "thief"
	OwnerExchange = "exchange"
)

// account is one address of a case: an externally owned account with its
// key, or a contract (key nil).
type account struct {
	label    string
	role     Role
	owner    string
	customer string
	key      *ecdsa.PrivateKey
	addr     common.Address
	nonce    uint64 // next nonce, kept by Run
}

// plan is the set of accounts a seed gives, in a fixed order.
type plan struct {
	seed     int64
	hops     int
	accounts []*account
	byLabel  map[string]*account
}

func label(prefix string, i int) string { return prefix + "-" + strconv.Itoa(i) }

// newPlan derives every account of the case from the seed.
func newPlan(seed int64, hops int) (*plan, error) {
	p := &plan{seed: seed, hops: hops, byLabel: map[string]*account{}}
	eoa := func(l string, r Role, owner, customer string) error {
		k, err := deriveKey(seed, l)
		if err != nil {
			return err
		}
		p.add(&account{label: l, role: r, owner: owner, customer: customer, key: k, addr: crypto.PubkeyToAddress(k.PublicKey)})
		return nil
	}
	if err := eoa("deployer", RoleDeployer, OwnerIssuer, ""); err != nil {
		return nil, err
	}
	dep := p.byLabel["deployer"].addr
	p.add(&account{label: "token", role: RoleToken, addr: crypto.CreateAddress(dep, 0)})
	p.add(&account{label: "forwarder", role: RoleForwarder, addr: crypto.CreateAddress(dep, 1)})
	if err := eoa("victim", RoleVictim, OwnerVictim, ""); err != nil {
		return nil, err
	}
	for i := 0; i <= hops; i++ {
		r := RoleHop
		if i == 0 {
			r = RoleThief
		}
		if err := eoa(label("thief", i), r, OwnerThief, ""); err != nil {
			return nil, err
		}
	}
	for i := 0; i < hops; i++ {
		if err := eoa(label("peel", i), RolePeel, OwnerThief, ""); err != nil {
			return nil, err
		}
	}
	for i := 0; i < 2; i++ {
		if err := eoa(label("user", i), RoleUser, label("user", i), ""); err != nil {
			return nil, err
		}
	}
	if err := eoa("exchange-hot", RoleHotWallet, OwnerExchange, ""); err != nil {
		return nil, err
	}
	for i, customer := range depositCustomers() {
		if err := eoa(label("deposit", i), RoleDeposit, OwnerExchange, customer); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// depositCustomers names the customer of each deposit address.
func depositCustomers() [Deposits]string {
	return [Deposits]string{OwnerThief, OwnerThief, "user-0", "user-1"}
}

func (p *plan) add(a *account) {
	p.accounts = append(p.accounts, a)
	p.byLabel[a.label] = a
}

func (p *plan) get(l string) *account {
	a, ok := p.byLabel[l]
	if !ok {
		panic("ethscenario: no account " + l) // labels are the package's own constants
	}
	return a
}

// keyDomain separates the scenario's key derivation from any other use of
// Keccak-256 over a seed.
const keyDomain = "vestigo/ethscenario/key/1"

// deriveKey returns the private key of the account with the given label:
// the first valid scalar among Keccak-256(domain ‖ seed ‖ label ‖ 0 ‖ ctr).
func deriveKey(seed int64, l string) (*ecdsa.PrivateKey, error) {
	for ctr := uint32(0); ctr < 16; ctr++ {
		buf := make([]byte, 0, len(keyDomain)+8+len(l)+5)
		buf = append(buf, keyDomain...)
		buf = binary.BigEndian.AppendUint64(buf, uint64(seed))
		buf = append(buf, l...)
		buf = append(buf, 0)
		buf = binary.BigEndian.AppendUint32(buf, ctr)
		if k, err := crypto.ToECDSA(crypto.Keccak256(buf)); err == nil {
			return k, nil
		}
	}
	// 16 digests in a row outside [1, n) has probability about 2^-2048.
	return nil, fmt.Errorf("ethscenario: no valid key for %q from seed %d", l, seed)
}

// Addresses returns every address of the case a seed and options give, in
// the order of Truth.Addresses, with role, owner and customer but without
// balances. It needs no chain: the same seed always gives the same
// addresses, contracts included.
func Addresses(seed int64, opts Options) ([]Address, error) {
	o, err := opts.normalized()
	if err != nil {
		return nil, err
	}
	p, err := newPlan(seed, o.Hops)
	if err != nil {
		return nil, err
	}
	out := make([]Address, len(p.accounts))
	for i, a := range p.accounts {
		out[i] = a.describe()
	}
	return out, nil
}

func (a *account) describe() Address {
	return Address{Address: a.addr, Label: a.label, Role: a.role, Owner: a.owner, Customer: a.customer, Contract: a.key == nil}
}
