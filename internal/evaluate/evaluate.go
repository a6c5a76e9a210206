// Package evaluate measures the attribution heuristics against the ground
// truth of a chain made by package scenario: the figures a court report
// quotes as the methods' error rates.
//
// Concepts:
//
//   - CoinJoin detection is scored per transaction: a detection of a
//     transaction the generator built as a CoinJoin is a true positive.
//     Each detector is scored alone, and the verdict as a whole.
//   - Change heuristics are scored per output: a "change" vote on an output
//     the creating wallet made as change is a true positive, on any other
//     output a false positive; a true change output no vote found is a
//     false negative. CoinJoins and coinbases are left out. The consensus
//     is scored the same way.
//   - Clustering is scored over pairs of addresses: a pair in one cluster
//     and one wallet is a true positive (pairwise precision and recall,
//     the usual measure for entity resolution). The "external" catch-all
//     wallet of the generator (scripts nobody in the simulation spends) is
//     not an owner and is left out.
//
// Every figure comes from one deterministic pass: the same chain gives
// the same report.
//
// Errors: the ground truth must describe the indexed chain (same network
// and tip, same txids in order), else chain.ErrInvalid.
package evaluate

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"

	"github.com/vestigo-forensics/vestigo/internal/btc"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/change"
	"github.com/vestigo-forensics/vestigo/internal/cluster"
	"github.com/vestigo-forensics/vestigo/internal/coinjoin"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/scenario"
)

// Metric scores one heuristic.
type Metric struct {
	Name string `json:"name"`
	// Decisions counts the transactions (CoinJoin) or outputs (change) the
	// heuristic called positive.
	Decisions      uint64  `json:"decisions"`
	TruePositives  uint64  `json:"true_positives"`
	FalsePositives uint64  `json:"false_positives"`
	FalseNegatives uint64  `json:"false_negatives"`
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
}

func (m *Metric) finish() {
	m.Decisions = m.TruePositives + m.FalsePositives
	m.Precision = ratio(m.TruePositives, m.TruePositives+m.FalsePositives)
	m.Recall = ratio(m.TruePositives, m.TruePositives+m.FalseNegatives)
}

// ratio returns a/b rounded to 4 decimals, and 0 for 0/0.
func ratio(a, b uint64) float64 {
	if b == 0 {
		return 0
	}
	return math.Round(float64(a)/float64(b)*1e4) / 1e4
}

// Clustering scores one clustering mode.
type Clustering struct {
	Mode string `json:"mode"` // "co-spend" or "co-spend+change"
	// Addresses counts the addresses scored (owned by a wallet and on
	// chain); Wallets and Clusters count their owners and clusters.
	Addresses uint64 `json:"addresses"`
	Wallets   uint64 `json:"wallets"`
	Clusters  uint64 `json:"clusters"`
	// ImpureClusters hold addresses of more than one wallet (false
	// merges); SplitWallets are wallets spread over several clusters.
	ImpureClusters uint64  `json:"impure_clusters"`
	SplitWallets   uint64  `json:"split_wallets"`
	TruePairs      uint64  `json:"true_pairs"`
	PredictedPairs uint64  `json:"predicted_pairs"`
	CorrectPairs   uint64  `json:"correct_pairs"`
	Precision      float64 `json:"precision"`
	Recall         float64 `json:"recall"`
	ChangeMerges   uint64  `json:"change_merges,omitempty"`
	ChangeRefused  uint64  `json:"change_refused,omitempty"`
}

// Report is the whole evaluation.
type Report struct {
	Scenario  string `json:"scenario"`
	Seed      uint64 `json:"seed"`
	Network   string `json:"network"`
	TipHeight int64  `json:"tip_height"`
	TipHash   string `json:"tip_hash"`
	// Txs counts the non-coinbase transactions scored; CoinJoins and
	// ChangeOutputs are the positives of the truth.
	Txs               uint64       `json:"txs"`
	CoinJoins         uint64       `json:"coinjoins"`
	ChangeOutputs     uint64       `json:"change_outputs"`
	CoinJoin          Metric       `json:"coinjoin"`
	CoinJoinDetectors []Metric     `json:"coinjoin_detectors"`
	Change            []Metric     `json:"change"`
	Clustering        []Clustering `json:"clustering"`
}

// Run evaluates every heuristic on the index ix, which must hold the chain
// truth describes. Scratch cluster stores are built under tmp.
func Run(ctx context.Context, ix *index.Index, truth *scenario.Truth, tmp string) (*Report, error) {
	if err := checkChain(ix, truth); err != nil {
		return nil, err
	}
	rep := &Report{Scenario: truth.Scenario, Seed: truth.Seed, Network: truth.Network, TipHeight: truth.TipHeight, TipHash: truth.TipHash}

	// Clusters first: the change heuristics ask about co-spend clusters.
	spend, err := cluster.Open(filepath.Join(tmp, "co-spend"), ix.Ledger(), cluster.Options{})
	if err != nil {
		return nil, err
	}
	defer spend.Close()
	if _, err := spend.Update(ctx, ix, nil); err != nil {
		return nil, err
	}
	withChange, err := cluster.Open(filepath.Join(tmp, "co-spend+change"), ix.Ledger(), cluster.Options{UseChange: true})
	if err != nil {
		return nil, err
	}
	defer withChange.Close()
	st, err := withChange.Update(ctx, ix, nil)
	if err != nil {
		return nil, err
	}
	for _, c := range []struct {
		mode string
		s    *cluster.Store
	}{{"co-spend", spend}, {"co-spend+change", withChange}} {
		m, err := scoreClusters(ix, truth, c.s)
		if err != nil {
			return nil, err
		}
		m.Mode = c.mode
		if c.s == withChange {
			m.ChangeMerges, m.ChangeRefused = st.ChangeMerges, st.ChangeRefused
		}
		rep.Clustering = append(rep.Clustering, m)
	}

	if err := scoreTxs(ctx, ix, truth, spend, rep); err != nil {
		return nil, err
	}
	return rep, nil
}

func checkChain(ix *index.Index, truth *scenario.Truth) error {
	if string(ix.Ledger().Network) != truth.Network {
		return fmt.Errorf("evaluate: %w: the ground truth is of %s, the index of %s", chain.ErrInvalid, truth.Network, ix.Ledger().Network)
	}
	hash, err := ix.BlockHash(truth.TipHeight)
	if err != nil || hash.String() != truth.TipHash {
		return fmt.Errorf("evaluate: %w: the index does not hold the generated chain (block %d is not %s); import its blocks first", chain.ErrInvalid, truth.TipHeight, truth.TipHash)
	}
	if len(truth.Transactions) != truth.TxCount-1 {
		return fmt.Errorf("evaluate: %w: the ground truth lists %d transactions after genesis, its count says %d", chain.ErrInvalid, len(truth.Transactions), truth.TxCount-1)
	}
	return nil
}

// scoreTxs scores the CoinJoin detectors and the change heuristics in one
// pass over the chain, matching each transaction with its truth.
func scoreTxs(ctx context.Context, ix *index.Index, truth *scenario.Truth, clusters *cluster.Store, rep *Report) error {
	cjNames := coinjoin.Names()
	cjDet := make([]Metric, len(cjNames))
	for i, n := range cjNames {
		cjDet[i].Name = n
	}
	heuristics := change.All()
	ch := make([]Metric, len(heuristics)+1)
	for i, h := range heuristics {
		ch[i].Name = h.Name
	}
	ch[len(heuristics)].Name = "consensus"
	rep.CoinJoin.Name = "coinjoin"

	var flow chain.FlowTx
	next := 0
	var found []bool
	err := ix.Scan(1, truth.TipHeight, func(r *index.TxRecord) error {
		if next >= len(truth.Transactions) {
			return fmt.Errorf("evaluate: %w: the index has more transactions than the ground truth", chain.ErrInvalid)
		}
		tt := &truth.Transactions[next]
		next++
		if r.Txid.String() != tt.Txid {
			return fmt.Errorf("evaluate: %w: transaction %d:%d is %s, the ground truth says %s", chain.ErrInvalid, r.Key.Height(), r.Key.Pos(), r.Txid, tt.Txid)
		}
		if r.Coinbase {
			return nil
		}
		if next%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rep.Txs++
		r.Flow(&flow)
		isCJ := tt.Kind == "coinjoin"
		v := coinjoin.Detect(&flow)
		count(&rep.CoinJoin, v.IsCoinJoin, isCJ)
		if isCJ {
			rep.CoinJoins++
		}
		for i, n := range cjNames {
			fired := slices.ContainsFunc(v.Detectors, func(f coinjoin.Finding) bool { return f.Name == n })
			count(&cjDet[i], fired, isCJ)
		}
		if isCJ {
			return nil
		}
		truthChange := func(o int) bool { return slices.Contains(tt.ChangeVouts, uint32(o)) }
		rep.ChangeOutputs += uint64(len(tt.ChangeVouts))
		cctx := cluster.NewChangeContext(ix, clusters, r)
		height := r.Key.Height()
		// One run of every heuristic: the consensus and, from its votes,
		// each heuristic alone.
		res, err := change.Analyze(&flow, height, cctx)
		if err != nil {
			return err
		}
		for i, h := range heuristics {
			found = scoreVotes(&ch[i], h.Name, res.Votes, len(flow.Out), truthChange, found)
			ch[i].FalseNegatives += missed(tt.ChangeVouts, found)
		}
		found = append(found[:0], make([]bool, len(flow.Out))...)
		if res.Change >= 0 {
			cons := &ch[len(heuristics)]
			if truthChange(res.Change) {
				cons.TruePositives++
				found[res.Change] = true
			} else {
				cons.FalsePositives++
			}
		}
		ch[len(heuristics)].FalseNegatives += missed(tt.ChangeVouts, found)
		return nil
	})
	if err != nil {
		return err
	}
	if next != len(truth.Transactions) {
		return fmt.Errorf("evaluate: %w: the index holds %d of the ground truth's %d transactions", chain.ErrInvalid, next, len(truth.Transactions))
	}
	rep.CoinJoin.finish()
	for i := range cjDet {
		cjDet[i].finish()
	}
	for i := range ch {
		ch[i].finish()
	}
	rep.CoinJoinDetectors, rep.Change = cjDet, ch
	return nil
}

func count(m *Metric, said, truth bool) {
	switch {
	case said && truth:
		m.TruePositives++
	case said:
		m.FalsePositives++
	case truth:
		m.FalseNegatives++
	}
}

// scoreVotes counts heuristic name's "change" votes (one per output at
// most) and returns which outputs it called change.
func scoreVotes(m *Metric, name string, votes []change.Vote, outs int, truthChange func(int) bool, found []bool) []bool {
	found = append(found[:0], make([]bool, outs)...)
	for _, v := range votes {
		if v.Heuristic != name || v.Says != change.SaysChange || v.Output < 0 || v.Output >= outs || found[v.Output] {
			continue
		}
		found[v.Output] = true
		if truthChange(v.Output) {
			m.TruePositives++
		} else {
			m.FalsePositives++
		}
	}
	return found
}

func missed(changeVouts []uint32, found []bool) uint64 {
	var n uint64
	for _, o := range changeVouts {
		if int(o) >= len(found) || !found[o] {
			n++
		}
	}
	return n
}

// scoreClusters computes pairwise precision and recall of the clusters of
// s against the wallets of the truth.
func scoreClusters(ix *index.Index, truth *scenario.Truth, s *cluster.Store) (Clustering, error) {
	var c Clustering
	p, err := btc.ParamsFor(ix.Ledger().Network)
	if err != nil {
		return c, err
	}
	type cell struct {
		root   index.AddrID
		wallet int
	}
	cells := map[cell]uint64{}
	clusterSize := map[index.AddrID]uint64{}
	walletSize := map[int]uint64{}
	seen := map[index.AddrID]bool{}
	for wi, w := range truth.Wallets {
		if w.Kind == "external" {
			continue
		}
		for _, a := range w.Addresses {
			addr, err := p.DecodeAddr(a)
			if err != nil {
				return c, fmt.Errorf("evaluate: %w: wallet %s address %q: %v", chain.ErrInvalid, w.ID, a, err)
			}
			id, err := ix.AddrIDOf(addr)
			if err != nil {
				continue // made but never paid: not on chain
			}
			if seen[id] {
				continue
			}
			seen[id] = true
			root, err := s.Root(id)
			if err != nil {
				return c, err
			}
			cells[cell{root, wi}]++
			clusterSize[root]++
			walletSize[wi]++
			c.Addresses++
		}
	}
	pairs := func(n uint64) uint64 { return n * (n - 1) / 2 }
	walletsOf := map[index.AddrID]int{}
	clustersOf := map[int]int{}
	for k, n := range cells {
		c.CorrectPairs += pairs(n)
		walletsOf[k.root]++
		clustersOf[k.wallet]++
	}
	for _, n := range clusterSize {
		c.PredictedPairs += pairs(n)
	}
	for _, n := range walletSize {
		c.TruePairs += pairs(n)
	}
	for _, n := range walletsOf {
		if n > 1 {
			c.ImpureClusters++
		}
	}
	for _, n := range clustersOf {
		if n > 1 {
			c.SplitWallets++
		}
	}
	c.Wallets, c.Clusters = uint64(len(walletSize)), uint64(len(clusterSize))
	c.Precision = ratio(c.CorrectPairs, c.PredictedPairs)
	c.Recall = ratio(c.CorrectPairs, c.TruePairs)
	return c, nil
}
