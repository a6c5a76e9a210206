// Package ethcase is a test harness: it plays the generated Ethereum case
// of package ethscenario on a real geth --dev node (package gethtest) and
// imports the node's chain with package ethingest into an index, the
// set-up the tests of the Ethereum analyses share. Only tests import it.
//
// Errors: those of the scenario, the client, the index and the import,
// returned as they come (callers that build shared fixtures cannot always
// fail a test on the spot).
package ethcase

import (
	"context"

	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/ethingest"
	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
)

// Imported plays the case of seed on node (funded by the node's dev
// account) and imports the chain, with opening balances, into a new index
// in dir. The caller closes the index.
func Imported(ctx context.Context, node *gethtest.Node, seed int64, dir string) (*ethscenario.Truth, *evmindex.Index, error) {
	truth, err := ethscenario.Run(ctx, node.Client(), ethscenario.DevFunder{RPC: node.RPC(), From: node.Dev}, seed, ethscenario.Options{})
	if err != nil {
		return nil, nil, err
	}
	c, err := eth.Dial(ctx, node.URL)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	ix, err := evmindex.Open(dir, evmindex.Options{ChainID: truth.ChainID, Name: "dev", Symbol: "ETH"})
	if err != nil {
		return nil, nil, err
	}
	if _, err := ethingest.Import(ctx, c, ix, ethingest.Options{}); err != nil {
		ix.Close()
		return nil, nil, err
	}
	return truth, ix, nil
}
