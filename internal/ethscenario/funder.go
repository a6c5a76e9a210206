package ethscenario

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/rpc"
)

// Funder pays ether into the case from outside it. Fund must send exactly
// wei from Address to to in one transaction and return its hash once the
// node has accepted it; Run waits for the receipt and checks the
// transaction.
type Funder interface {
	Address() common.Address
	Fund(ctx context.Context, to common.Address, wei *big.Int) (common.Hash, error)
}

// DevFunder funds with eth_sendTransaction from an account the node holds
// unlocked (geth --dev's developer account); the node signs and picks the
// gas.
type DevFunder struct {
	RPC  *rpc.Client
	From common.Address
}

// Address returns the paying account.
func (f DevFunder) Address() common.Address { return f.From }

// Fund sends wei to to.
func (f DevFunder) Fund(ctx context.Context, to common.Address, wei *big.Int) (common.Hash, error) {
	if f.RPC == nil {
		return common.Hash{}, errors.New("ethscenario: dev funder without an RPC client")
	}
	if wei == nil || wei.Sign() <= 0 {
		return common.Hash{}, fmt.Errorf("ethscenario: fund %s: amount must be positive", to.Hex())
	}
	arg := map[string]any{"from": f.From, "to": to, "value": (*hexutil.Big)(wei)}
	var h common.Hash
	if err := f.RPC.CallContext(ctx, &h, "eth_sendTransaction", arg); err != nil {
		return common.Hash{}, fmt.Errorf("ethscenario: eth_sendTransaction from %s to %s: %v", f.From.Hex(), to.Hex(), err)
	}
	return h, nil
}
