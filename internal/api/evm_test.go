package api

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/ethcase"
	"github.com/vestigo-forensics/vestigo/internal/ethscenario"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/gethtest"
	"github.com/vestigo-forensics/vestigo/internal/tags"
)

var evmShared struct {
	once  sync.Once
	truth *ethscenario.Truth
	err   error
}

// evmData adds, once per test binary, the generated Ethereum case to the
// shared data directory: played on a real geth --dev node, imported into
// the index of its chain, its hot wallet tagged "exchange". The read-only
// workspace of the server opens the new index when first asked.
func evmData(t *testing.T) *ethscenario.Truth {
	t.Helper()
	dataDir(t)
	evmShared.once.Do(func() {
		node := gethtest.Start(t)
		defer node.Stop()
		ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
		defer cancel()
		// The dev chain's id is 1337: the index goes where the workspace
		// looks for that chain.
		truth, ix, err := ethcase.Imported(ctx, node, 5, evmindex.Dir(filepath.Join(shared.dir, "index"), 1337))
		if err != nil {
			evmShared.err = err
			return
		}
		defer ix.Close()
		evmShared.truth = truth
		if truth.ChainID != 1337 {
			evmShared.err = fmt.Errorf("the dev chain is chain %d, not 1337", truth.ChainID)
			return
		}
		st, err := tags.Open(filepath.Join(shared.dir, "tags.db"), tags.Options{})
		if err != nil {
			evmShared.err = err
			return
		}
		defer st.Close()
		csv := filepath.Join(shared.dir, "eth-tags.csv")
		if err := os.WriteFile(csv, []byte("address,label,category,source\n"+truth.HotWallet.Hex()+",ETH exchange hot wallet,exchange,court order 2\n"), 0o600); err != nil {
			evmShared.err = err
			return
		}
		_, evmShared.err = st.Import(ctx, csv, tags.FormatCSV, time.Unix(0, 0).UTC())
	})
	if evmShared.err != nil {
		t.Fatalf("the Ethereum case: %v", evmShared.err)
	}
	return evmShared.truth
}

// TestEVMAnswers: 0x addresses and hashes get the EVM answers on every
// route that takes them, with exact amounts as strings; findings and case
// items about them carry the EVM index's provenance.
func TestEVMAnswers(t *testing.T) {
	e := newEnv(t)
	truth := evmData(t)
	a := e.token("inv-a")
	victim := truth.Path[0].From.Hex()
	hot := truth.HotWallet.Hex()

	var addr entity.EVMAddressReport
	e.do("GET", "/api/v1/address/"+strings.ToLower(victim)+"?newest_first=true&limit=5", a, nil).want(200).decode(&addr)
	if addr.Address != victim || addr.ChainID != truth.ChainID || len(addr.Holdings) == 0 || addr.Holdings[0].Asset.Symbol != "ETH" || len(addr.Ledger) == 0 || len(addr.Ledger) > 5 {
		t.Fatalf("address: %+v", addr)
	}
	for _, ta := range truth.Addresses {
		if ta.Address.Hex() == victim && addr.Holdings[0].Balance != ta.Balance.String() {
			t.Fatalf("victim holds %s, the truth says %s", addr.Holdings[0].Balance, ta.Balance)
		}
	}
	var theft ethscenario.Tx
	for _, tx := range truth.Txs {
		if tx.Kind == ethscenario.KindTheft {
			theft = tx
		}
	}
	var tx entity.EVMTxReport
	e.do("GET", "/api/v1/tx/"+theft.Hash.Hex(), a, nil).want(200).decode(&tx)
	if tx.Value != theft.Value.String() || tx.Status != "success" || len(tx.Moves) != 2 {
		t.Fatalf("tx: %+v", tx)
	}

	// The trace stops at the tagged hot wallet; the stream gives the same.
	q := "?model=fifo&hops=64"
	var tr entity.EVMTraceReport
	plain := e.do("GET", "/api/v1/trace/"+victim+q, a, nil).want(200)
	plain.decode(&tr)
	if len(tr.StoppedAt) != 1 || tr.StoppedAt[0].Address != hot || tr.StoppedAt[0].Reason != "exchange" || tr.StoppedAt[0].Labels[0] != "ETH exchange hot wallet" {
		t.Fatalf("trace: %+v", tr.StoppedAt)
	}
	req, _ := http.NewRequest("GET", e.url+"/api/v1/trace/"+victim+"/events"+q, nil)
	req.Header.Set("Authorization", "Bearer "+a.bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var event, result string
	for sc.Scan() {
		line := sc.Text()
		if v, ok := strings.CutPrefix(line, "event: "); ok {
			event = v
		}
		if v, ok := strings.CutPrefix(line, "data: "); ok && event == "result" {
			result = v
		}
	}
	if result != compactBody(t, plain.body) {
		t.Fatalf("the stream's result differs:\n%s\n%s", result, plain.body)
	}

	var deps entity.EVMDepositReport
	e.do("GET", "/api/v1/deposits", a, nil).want(200).decode(&deps)
	if len(deps.Deposits) != len(truth.Deposits) || len(deps.HotWallets) != 1 || deps.HotWallets[0] != hot {
		t.Fatalf("deposits: %+v", deps)
	}
	var paths entity.EVMPathReport
	e.do("GET", "/api/v1/path/"+victim+"/"+hot+"?hops=16", a, nil).want(200).decode(&paths)
	if len(paths.Paths) == 0 {
		t.Fatalf("paths: %+v", paths)
	}
	var pat entity.EVMPatternReport
	e.do("GET", fmt.Sprintf("/api/v1/patterns?chain_id=%d&from_height=0&to_height=%d", truth.ChainID, truth.TipBlock), a, nil).want(200).decode(&pat)
	if pat.ChainID != truth.ChainID || pat.ToBlock != truth.TipBlock {
		t.Fatalf("patterns: %+v", pat)
	}

	// Exposure and risk of a deposit address: all it received went to the
	// exchange, directly.
	dep := truth.Deposits[len(truth.Deposits)-1].Address.Hex()
	var ex entity.EVMExposure
	e.do("GET", "/api/v1/exposure/"+dep, a, nil).want(200).decode(&ex)
	if len(ex.Assets) == 0 || ex.Assets[0].Outgoing["exchange"].Share < 0.99 || ex.Assets[0].Outgoing["exchange"].Direct == "0" {
		t.Fatalf("exposure: %+v", ex)
	}
	var risk entity.Risk
	e.do("GET", "/api/v1/risk/"+victim, a, nil).want(200).decode(&risk)
	if risk.Address != victim || risk.Factors == nil {
		t.Fatalf("risk: %+v", risk)
	}

	// Screening and search.
	typo := []byte(hot)
	for i := 2; i < len(typo); i++ {
		if c := typo[i]; c >= 'a' && c <= 'f' {
			typo[i] = c - 'a' + 'A'
			break
		} else if c >= 'A' && c <= 'F' {
			typo[i] = c - 'A' + 'a'
			break
		}
	}
	var scr screenAnswer
	e.do("POST", "/api/v1/screen", a, map[string]any{"addresses": []string{strings.ToLower(hot), string(typo)}}).want(200).decode(&scr)
	if len(scr.Results) != 2 || !scr.Results[0].OnChain || scr.Results[0].Categories[0] != "exchange" || scr.Results[1].Valid {
		t.Fatalf("screen: %+v", scr)
	}
	var found searchAnswer
	e.do("GET", "/api/v1/search?q="+victim, a, nil).want(200).decode(&found)
	if len(found.Results) != 1 || found.Results[0].Kind != "address" || found.Results[0].Network != fmt.Sprintf("evm-%d", truth.ChainID) {
		t.Fatalf("search: %+v", found)
	}

	// A finding and an item about the case's addresses.
	cs := e.createCase(a, "ETH/2026/1", "Ethereum theft")
	var item struct {
		Chain, Network, Ref string
		Provenance          struct {
			Chain, Network string
			BlockHash      string `json:"block_hash"`
		} `json:"provenance"`
	}
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/items", cs.ID), a, map[string]any{"kind": "address", "ref": strings.ToLower(hot)}).want(201).decode(&item)
	if item.Chain != "eth" || item.Network != fmt.Sprint(truth.ChainID) || item.Ref != hot || item.Provenance.Chain != "eth" || item.Provenance.BlockHash == "" {
		t.Fatalf("item: %+v", item)
	}
	var f struct {
		Provenance struct{ Chain, Network, Source string } `json:"provenance"`
	}
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/findings", cs.ID), a, map[string]any{"analysis": "trace", "title": "Theft to the exchange",
		"params": map[string]any{"from": victim, "model": "fifo", "hops": 64}}).want(201).decode(&f)
	if f.Provenance.Chain != "eth" || f.Provenance.Network != fmt.Sprint(truth.ChainID) || !strings.Contains(f.Provenance.Source, "evm-") {
		t.Fatalf("finding: %+v", f)
	}
	e.do("POST", fmt.Sprintf("/api/v1/cases/%d/findings", cs.ID), a, map[string]any{"analysis": "deposits", "title": "Deposit addresses",
		"params": map[string]any{"hot_wallets": []string{hot}}}).want(201)

	// Mistakes are 400s with the reason; unknown ones 404.
	if r := e.do("GET", "/api/v1/address/"+string(typo), a, nil).want(400); !strings.Contains(r.errorText(), "checksum") {
		t.Fatal(r.errorText())
	}
	e.do("GET", "/api/v1/trace/"+victim+"?level=entity", a, nil).want(400)
	e.do("GET", "/api/v1/trace/"+victim+"?amount=1.5", a, nil).want(400)
	e.do("GET", "/api/v1/address/0x000000000000000000000000000000000000dEaD", a, nil).want(404)
	e.do("GET", "/api/v1/deposits", anonymous, nil).want(401)
}
