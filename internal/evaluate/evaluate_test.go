package evaluate_test

import (
	"context"
	"errors"
	"os"
	"reflect"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/evaluate"
	"github.com/vestigo-forensics/vestigo/internal/fixture"
	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

func TestMain(m *testing.M) {
	code := m.Run()
	fixture.Cleanup()
	os.Exit(code)
}

// TestEvaluateRansomwareScenario scores the heuristics on the generated
// ransomware case: the figures must be consistent with the truth's counts,
// co-spend clustering must be exact (the generator's inputs always belong
// to one wallet, CoinJoins aside), the scenario's CoinJoin must be found,
// and a second run must give the same report.
func TestEvaluateRansomwareScenario(t *testing.T) {
	c := fixture.Ransomware(t, 11)
	rep, err := evaluate.Run(context.Background(), c.Index, c.Truth, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if rep.Txs == 0 || rep.CoinJoins != 1 || rep.ChangeOutputs == 0 {
		t.Fatalf("report counts: %+v", rep)
	}
	if rep.CoinJoin.TruePositives != 1 || rep.CoinJoin.FalseNegatives != 0 {
		t.Errorf("the scenario's CoinJoin was not detected: %+v", rep.CoinJoin)
	}
	for _, m := range rep.Change {
		if m.TruePositives+m.FalseNegatives != rep.ChangeOutputs {
			t.Errorf("%s: TP %d + FN %d != %d change outputs", m.Name, m.TruePositives, m.FalseNegatives, rep.ChangeOutputs)
		}
		if m.Precision < 0 || m.Precision > 1 || m.Recall < 0 || m.Recall > 1 {
			t.Errorf("%s: precision %v recall %v", m.Name, m.Precision, m.Recall)
		}
	}
	if len(rep.Clustering) != 2 {
		t.Fatalf("clustering modes: %+v", rep.Clustering)
	}
	spend := rep.Clustering[0]
	if spend.Mode != "co-spend" || spend.Precision != 1 || spend.ImpureClusters != 0 || spend.Recall <= 0 || spend.Recall >= 1 {
		t.Errorf("co-spend clustering: %+v", spend)
	}
	again, err := evaluate.Run(context.Background(), c.Index, c.Truth, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(rep, again) {
		t.Errorf("two runs differ:\n%+v\n%+v", rep, again)
	}
	t.Logf("coinjoin %+v", rep.CoinJoin)
	for _, m := range rep.Change {
		t.Logf("change %-22s precision %.4f recall %.4f (TP %d FP %d FN %d)", m.Name, m.Precision, m.Recall, m.TruePositives, m.FalsePositives, m.FalseNegatives)
	}
	for _, m := range rep.Clustering {
		t.Logf("clustering %+v", m)
	}
}

// TestEvaluateRejectsOtherChain: a ground truth of another chain is
// refused before anything is scored.
func TestEvaluateRejectsOtherChain(t *testing.T) {
	c := fixture.Ransomware(t, 11)
	other := *c.Truth
	other.TipHash = "00" + other.TipHash[2:]
	if _, err := evaluate.Run(context.Background(), c.Index, &other, t.TempDir()); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("other tip: %v", err)
	}
	other = *c.Truth
	other.Network = "mainnet"
	if _, err := evaluate.Run(context.Background(), c.Index, &other, t.TempDir()); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("other network: %v", err)
	}
	other = *c.Truth
	other.Transactions = append([]scenario.TruthTx(nil), c.Truth.Transactions...)
	other.Transactions[5].Txid = other.Transactions[6].Txid
	if _, err := evaluate.Run(context.Background(), c.Index, &other, t.TempDir()); !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("wrong txid: %v", err)
	}
}
