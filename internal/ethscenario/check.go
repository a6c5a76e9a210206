package ethscenario

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/ethclient"
)

// Check compares the truth with the chain behind client at the truth's
// tip block: the block hash, every address's ether balance (eth_getBalance)
// and token balance (balanceOf), code only at the contracts, and the
// token's metadata and supply. It returns every difference found, joined.
// The node must still hold the state of that block (an archive node, or a
// tip less than 128 blocks old).
func (t *Truth) Check(ctx context.Context, client *ethclient.Client) error {
	if client == nil {
		return errors.New("ethscenario: no ethclient")
	}
	tok, err := TokenContract()
	if err != nil {
		return err
	}
	block := new(big.Int).SetUint64(t.TipBlock)
	h, err := client.HeaderByNumber(ctx, block)
	if err != nil {
		return fmt.Errorf("ethscenario: header %d: %v", t.TipBlock, err)
	}
	if h.Hash() != t.TipHash {
		return fmt.Errorf("ethscenario: block %d is %s on the node, %s in the truth", t.TipBlock, h.Hash().Hex(), t.TipHash.Hex())
	}
	var errs []error
	for _, a := range t.Addresses {
		bal, err := client.BalanceAt(ctx, a.Address, block)
		if err != nil {
			return fmt.Errorf("ethscenario: eth_getBalance %s (%s): %v", a.Address.Hex(), a.Label, err)
		}
		if bal.Cmp(a.Balance.Big()) != 0 {
			errs = append(errs, fmt.Errorf("ethscenario: %s (%s) holds %s wei, the truth says %s", a.Label, a.Address.Hex(), bal, a.Balance))
		}
		got, err := callToken(ctx, client, tok, t.Token.Address, block, "balanceOf", a.Address)
		if err != nil {
			return err
		}
		if v, ok := got.(*big.Int); !ok || v.Cmp(a.TokenBalance.Big()) != 0 {
			errs = append(errs, fmt.Errorf("ethscenario: %s (%s) holds %v tokens, the truth says %s", a.Label, a.Address.Hex(), got, a.TokenBalance))
		}
		code, err := client.CodeAt(ctx, a.Address, block)
		if err != nil {
			return fmt.Errorf("ethscenario: eth_getCode %s (%s): %v", a.Address.Hex(), a.Label, err)
		}
		if (len(code) > 0) != a.Contract {
			errs = append(errs, fmt.Errorf("ethscenario: %s (%s) has %d bytes of code, contract=%v in the truth", a.Label, a.Address.Hex(), len(code), a.Contract))
		}
	}
	for _, m := range []struct {
		method string
		want   any
	}{{"name", t.Token.Name}, {"symbol", t.Token.Symbol}, {"decimals", t.Token.Decimals}, {"totalSupply", t.Token.TotalSupply.Big()}} {
		got, err := callToken(ctx, client, tok, t.Token.Address, block, m.method)
		if err != nil {
			return err
		}
		same := got == m.want
		if w, ok := m.want.(*big.Int); ok {
			g, ok := got.(*big.Int)
			same = ok && g.Cmp(w) == 0
		}
		if !same {
			errs = append(errs, fmt.Errorf("ethscenario: token %s() is %v, the truth says %v", m.method, got, m.want))
		}
	}
	return errors.Join(errs...)
}
