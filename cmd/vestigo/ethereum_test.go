package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/eth"
	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
)

// ethCase is the generated Ethereum theft played on a real geth --dev
// node and imported with vestigo import eth.
type ethCase struct {
	node  *gethtest.Node
	truth *ethscenario.Truth
	data  string
}

func newETHCase(t *testing.T) *ethCase {
	t.Helper()
	node := gethtest.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 4*time.Minute)
	defer cancel()
	truth, err := ethscenario.Run(ctx, node.Client(), ethscenario.DevFunder{RPC: node.RPC(), From: node.Dev}, 11, ethscenario.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := &ethCase{node: node, truth: truth, data: t.TempDir()}
	return c
}

func (c *ethCase) run(t *testing.T, args ...string) result {
	t.Helper()
	return ok(t, append([]string{"--data", c.data}, args...)...)
}

func decode[T any](t *testing.T, r result) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	return v
}

type holdingJSON struct {
	Asset struct {
		ID       int    `json:"id"`
		Symbol   string `json:"symbol"`
		Contract string `json:"contract"`
		Decimals int    `json:"decimals"`
	} `json:"asset"`
	Balance      string `json:"balance"`
	BalanceUnits string `json:"balance_units"`
}

// TestEthereumCommandLine imports the case from the node and asks the
// command line what an investigator would: every address's holdings equal
// the truth (which the scenario checked against eth_getBalance and
// balanceOf), a transaction's moves, screening against the real OFAC ETH
// and USDT lists with EIP-55 checks, the status.
func TestEthereumCommandLine(t *testing.T) {
	t.Parallel()
	c := newETHCase(t)
	truth := c.truth
	head, err := c.node.Client().BlockNumber(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	// To the head seen: a dev node may seal an empty block meanwhile.
	imp := decode[ethImportSummary](t, c.run(t, "import", "eth", "--rpc", c.node.URL, "--to", fmt.Sprint(head), "--json"))
	if imp.ChainID != truth.ChainID || imp.Tip != head || imp.Blocks != head+1 || imp.Untraced != 0 || imp.Txs < uint64(len(truth.Txs)) ||
		imp.TokenProblems != 0 || imp.Malformed != 0 || len(imp.Problems) != 0 {
		t.Fatalf("import: %+v (head %d, %d txs in the case)", imp, head, len(truth.Txs))
	}
	// Again: nothing to do.
	if r := c.run(t, "import", "eth", "--rpc", c.node.URL, "--to", fmt.Sprint(head)); !strings.Contains(r.stdout, "up to date at block") {
		t.Fatal(r.stdout)
	}

	// Every address of the case holds what the truth says.
	for _, a := range truth.Addresses {
		r := c.run(t, "address", strings.ToLower(a.Address.Hex()), "--json")
		rep := decode[struct {
			Address  string        `json:"address"`
			Contract bool          `json:"contract"`
			Holdings []holdingJSON `json:"holdings"`
		}](t, r)
		if rep.Address != a.Address.Hex() || rep.Contract != a.Contract {
			t.Errorf("%s: %s contract=%v", a.Label, rep.Address, rep.Contract)
		}
		ethBal, tokBal := "0", "0"
		for _, h := range rep.Holdings {
			switch {
			case h.Asset.ID == 0:
				ethBal = h.Balance
			case strings.EqualFold(h.Asset.Contract, truth.Token.Address.Hex()):
				tokBal = h.Balance
				if h.Asset.Symbol != truth.Token.Symbol || h.Asset.Decimals != int(truth.Token.Decimals) {
					t.Errorf("token %+v", h.Asset)
				}
			}
		}
		if ethBal != a.Balance.String() || tokBal != a.TokenBalance.String() {
			t.Errorf("%s (%s): ETH %s, tokens %s; the truth says %s and %s", a.Label, a.Address.Hex(), ethBal, tokBal, a.Balance, a.TokenBalance)
		}
	}

	// The theft's transaction: its fee and its value, exact.
	var theft ethscenario.Tx
	for _, tx := range truth.Txs {
		if tx.Kind == ethscenario.KindTheft {
			theft = tx
		}
	}
	tx := decode[struct {
		Status string `json:"status"`
		From   string `json:"from"`
		Value  string `json:"value"`
		Moves  []struct {
			Kind   string `json:"kind"`
			Amount string `json:"amount"`
		} `json:"moves"`
	}](t, c.run(t, "tx", theft.Hash.Hex(), "--json"))
	if tx.Status != "success" || tx.From != theft.From.Hex() || tx.Value != theft.Value.String() || len(tx.Moves) != 2 ||
		tx.Moves[0].Kind != "fee" || tx.Moves[1].Kind != "value" || tx.Moves[1].Amount != theft.Value.String() {
		t.Fatalf("theft: %+v", tx)
	}
	if r := c.run(t, "tx", theft.Hash.Hex()); !strings.Contains(r.stdout, "value") || !strings.Contains(r.stdout, theft.From.Hex()) {
		t.Fatal(r.stdout)
	}

	// Screening: the real OFAC lists, and the hot wallet tagged by an analyst.
	ofac := filepath.Join("..", "..", "internal", "tags", "testdata", "ofac-0xB10C")
	c.run(t, "tags", "import", filepath.Join(ofac, "sanctioned_addresses_ETH.txt"))
	c.run(t, "tags", "import", filepath.Join(ofac, "sanctioned_addresses_USDT.txt"))
	csv := filepath.Join(t.TempDir(), "exchange.csv")
	if err := os.WriteFile(csv, []byte("address,label,category,source\n"+truth.HotWallet.Hex()+",Exchange hot wallet,exchange,https://example.org/case\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c.run(t, "tags", "import", csv)
	ethList := firstLine(t, filepath.Join(ofac, "sanctioned_addresses_ETH.txt"))
	usdtList := firstEVMLine(t, filepath.Join(ofac, "sanctioned_addresses_USDT.txt"))
	sanctioned, err := eth.ParseAddress(ethList)
	if err != nil {
		t.Fatal(err)
	}
	typo := []byte(sanctioned.String())
	for i := 2; i < len(typo); i++ {
		if typo[i] >= 'a' && typo[i] <= 'f' {
			typo[i] -= 'a' - 'A'
			break
		} else if typo[i] >= 'A' && typo[i] <= 'F' {
			typo[i] += 'a' - 'A'
			break
		}
	}
	scr := decode[struct {
		Results []struct {
			Input      string   `json:"input"`
			Valid      bool     `json:"valid"`
			Error      string   `json:"error"`
			OnChain    bool     `json:"on_chain"`
			EVMChains  []uint64 `json:"evm_chains"`
			Sanctioned bool     `json:"sanctioned"`
			Categories []string `json:"categories"`
		} `json:"results"`
	}](t, c.run(t, "screen", "--json", sanctioned.String(), strings.ToLower(usdtList), string(typo), strings.ToLower(truth.HotWallet.Hex()), truth.Addresses[0].Address.Hex()))
	res := scr.Results
	if len(res) != 5 || !res[0].Valid || !res[0].Sanctioned || res[0].OnChain || !res[1].Sanctioned ||
		res[2].Valid || !strings.Contains(res[2].Error, "checksum") ||
		!res[3].OnChain || len(res[3].EVMChains) != 1 || res[3].EVMChains[0] != truth.ChainID || res[3].Sanctioned || strings.Join(res[3].Categories, ",") != "exchange" ||
		!res[4].OnChain || res[4].Sanctioned {
		t.Fatalf("screening: %+v", res)
	}

	// The trace from the victim stops at the exchange (tagged above) with
	// the exact sweeps of the deposit addresses only the thief's chain paid.
	want, err := truth.ThiefSwept()
	if err != nil {
		t.Fatal(err)
	}
	victim := truth.Path[0].From.Hex()
	for _, model := range []string{"haircut", "fifo"} {
		tr := decode[struct {
			Source    string `json:"source"`
			StoppedAt []struct {
				Address string   `json:"address"`
				Amount  string   `json:"amount"`
				Reason  string   `json:"reason"`
				Labels  []string `json:"labels"`
			} `json:"stopped_at"`
			Edges []struct {
				Tx     string `json:"tx"`
				From   string `json:"from"`
				To     string `json:"to"`
				Amount string `json:"amount"`
			} `json:"edges"`
		}](t, c.run(t, "trace", victim, "--model", model, "--hops", "64", "--json"))
		if len(tr.StoppedAt) != 1 || tr.StoppedAt[0].Address != truth.HotWallet.Hex() || tr.StoppedAt[0].Reason != "exchange" ||
			tr.StoppedAt[0].Amount != want.String() || strings.Join(tr.StoppedAt[0].Labels, ";") != "Exchange hot wallet" {
			t.Fatalf("%s trace: stopped at %+v, want the hot wallet with %s", model, tr.StoppedAt, want)
		}
		moved := map[string]string{}
		for _, e := range tr.Edges {
			moved[e.Tx+e.From+e.To] = e.Amount
		}
		for _, step := range truth.Path {
			if got := moved[step.Tx.Hex()+step.From.Hex()+step.To.Hex()]; got != step.Amount.String() {
				t.Errorf("%s trace: step %s → %s carried %q, the case moved %s", model, step.FromLabel, step.ToLabel, got, step.Amount)
			}
		}
	}
	if r := c.run(t, "trace", victim); !strings.Contains(r.stdout, "Exchange hot wallet") || !strings.Contains(r.stdout, "exchange") {
		t.Fatal(r.stdout)
	}
	paths := decode[struct {
		Paths [][]struct {
			From string `json:"from"`
			To   string `json:"to"`
		} `json:"paths"`
	}](t, c.run(t, "path", victim, truth.HotWallet.Hex(), "--hops", "16", "--json"))
	if len(paths.Paths) == 0 || paths.Paths[0][0].From != victim || paths.Paths[0][len(paths.Paths[0])-1].To != truth.HotWallet.Hex() {
		t.Fatalf("paths: %+v", paths)
	}

	// The deposit addresses, from the exchange tag alone.
	deps := decode[struct {
		Deposits []struct {
			Address string   `json:"address"`
			Senders []string `json:"senders"`
		} `json:"deposit_addresses"`
		Links []struct {
			Deposit string   `json:"deposit_address"`
			Senders []string `json:"senders"`
		} `json:"user_links"`
	}](t, c.run(t, "deposits", "--json"))
	found := map[string]bool{}
	for _, d := range deps.Deposits {
		found[d.Address] = true
	}
	links := 0
	for _, d := range truth.Deposits {
		if !found[d.Address.Hex()] {
			t.Errorf("deposit address %s (%s) not found", d.Label, d.Address.Hex())
		}
		if len(d.Senders) > 1 {
			links++
		}
	}
	if len(deps.Deposits) != len(truth.Deposits) || len(deps.Links) != links {
		t.Fatalf("deposits: %+v", deps)
	}
	pat := decode[struct {
		Findings []struct {
			Type string `json:"type"`
		} `json:"findings"`
	}](t, c.run(t, "patterns", "--chain", "eth", "--json"))
	if pat.Findings == nil {
		t.Fatal("patterns: no findings list")
	}

	st := decode[struct {
		EVM []struct {
			ChainID   uint64  `json:"chain_id"`
			TipHeight *uint64 `json:"tip_height"`
			Txs       uint64  `json:"txs"`
		} `json:"evm_chains"`
	}](t, c.run(t, "status", "--json"))
	if len(st.EVM) != 1 || st.EVM[0].ChainID != truth.ChainID || st.EVM[0].TipHeight == nil || *st.EVM[0].TipHeight != head || st.EVM[0].Txs != imp.Txs {
		t.Fatalf("status: %+v", st)
	}

	ver := decode[[]struct {
		Ledger   string `json:"ledger"`
		Txs      uint64 `json:"txs"`
		Problems []any  `json:"problems"`
	}](t, c.run(t, "index", "verify", "--json"))
	if len(ver) != 1 || ver[0].Ledger != fmt.Sprintf("evm-%d", truth.ChainID) || ver[0].Txs != imp.Txs || len(ver[0].Problems) != 0 {
		t.Fatalf("verify: %+v", ver)
	}

	// Mistakes get one clear line and the usage or not-found code.
	fails(t, exitUsage, "checksum", "--data", c.data, "address", string(typo))
	fails(t, exitNotFound, "not in the index", "--data", c.data, "address", "0x000000000000000000000000000000000000dEaD")
	fails(t, exitNotFound, "not in the index", "--data", c.data, "tx", "0x"+strings.Repeat("ab", 32))
}

func firstLine(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0])
}

func firstEVMLine(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); strings.HasPrefix(l, "0x") && len(l) == 42 {
			return l
		}
	}
	t.Fatalf("no 0x address in %s", path)
	return ""
}
