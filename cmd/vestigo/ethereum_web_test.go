package main

import (
	"context"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
)

// TestEthereumWorkspaceInBrowser is the end-to-end test of the web
// workspace on an EVM chain: the generated Ethereum theft played on a real
// geth --dev node, imported with vestigo import eth --rpc, the exchange's
// hot wallet tagged, behind a real vestigo serve, driven in headless
// Chromium by web/e2e/ethereum.mjs: the search of the victim's 0x address,
// its holdings and ledger against the truth (exact strings), a transaction,
// the graph with an expansion and a forward trace to the exchange, and
// Albanian amounts. Screenshots go to .artifacts/e2e/eth-* (or
// $VESTIGO_E2E_ARTIFACTS). It runs in parallel: after the sequential tests,
// so that TestWorkspaceInBrowser's clean-up of the directory keeps them.
func TestEthereumWorkspaceInBrowser(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	node, chromium := browserTools(t, root)
	artifacts := os.Getenv("VESTIGO_E2E_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(root, ".artifacts", "e2e")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}
	old, _ := filepath.Glob(filepath.Join(artifacts, "eth-*"))
	for _, f := range old {
		os.Remove(f)
	}

	c := newETHCase(t)
	truth := c.truth
	c.run(t, "import", "eth", "--rpc", c.node.URL)
	tagsCSV := filepath.Join(t.TempDir(), "exchange.csv")
	if err := os.WriteFile(tagsCSV, []byte("address,label,category,source\n"+truth.HotWallet.Hex()+",Exchange hot wallet,exchange,https://example.org/case\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.run(t, "tags", "import", tagsCSV)

	// The victim (the first step of the stolen ether's path) and an
	// address holding a fraction of a token, with what the truth says
	// they hold.
	victim := truth.Path[0].From
	var victimAddr, tokenHolder *ethscenario.Address
	whole := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(truth.Token.Decimals)), nil)
	for i := range truth.Addresses {
		a := &truth.Addresses[i]
		if a.Address == victim {
			victimAddr = a
		}
		if tokenHolder == nil && !a.TokenBalance.IsZero() && new(big.Int).Mod(a.TokenBalance.Big(), whole).Sign() != 0 {
			tokenHolder = a
		}
	}
	if victimAddr == nil || tokenHolder == nil {
		t.Fatalf("the case has no victim (%v) or no holder of a token fraction (%v)", victimAddr, tokenHolder)
	}
	var theft ethscenario.Tx
	for _, tx := range truth.Txs {
		if tx.Kind == ethscenario.KindTheft {
			theft = tx
		}
	}
	if theft.Hash == ([32]byte{}) {
		t.Fatal("the case has no theft transaction")
	}

	in := install{data: c.data}
	const user, password = "investigator", "investigator's e2e password"
	admin := []string{"VESTIGO_USER=admin", "VESTIGO_PASSWORD=admin's e2e password"}
	in.ok(t, []string{"VESTIGO_NEW_PASSWORD=admin's e2e password"}, "agency", "add", "ETH", "Ethereum e2e agency", "--admin", "admin")
	in.ok(t, append(admin, "VESTIGO_NEW_PASSWORD="+password), "user", "add", user, "--role", "investigator")

	base, stop := startServe(t, in)
	defer stop()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("web", "e2e", "ethereum.mjs"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"VESTIGO_URL="+base, "VESTIGO_USER="+user, "VESTIGO_PASSWORD="+password,
		"CHROMIUM="+chromium, "ARTIFACTS="+artifacts,
		"E2E_CHAIN_ID="+strconv.FormatUint(truth.ChainID, 10),
		"E2E_VICTIM="+strings.ToLower(victim.Hex()), "E2E_VICTIM_CHECKSUM="+victim.Hex(),
		"E2E_VICTIM_WEI="+victimAddr.Balance.String(), "E2E_VICTIM_ETH="+chain.FormatUnits(victimAddr.Balance, 18),
		"E2E_THEFT_TX="+theft.Hash.Hex(), "E2E_THEFT_WEI="+theft.Value.String(),
		"E2E_TOKEN_SYMBOL="+truth.Token.Symbol, "E2E_TOKEN_CONTRACT="+truth.Token.Address.Hex(),
		"E2E_TOKEN_HOLDER="+tokenHolder.Address.Hex(), "E2E_TOKEN_BALANCE="+tokenHolder.TokenBalance.String(),
		"E2E_TOKEN_UNITS="+chain.FormatUnits(tokenHolder.TokenBalance, truth.Token.Decimals),
		"E2E_EXCHANGE_LABEL=Exchange hot wallet")
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("web/e2e/ethereum.mjs in %v (screenshots in %s):\n%s", time.Since(t0).Round(time.Millisecond), artifacts, out)
	if err != nil {
		t.Fatalf("the end-to-end run failed: %v", err)
	}
}
