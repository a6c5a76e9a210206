package api

import (
	"strconv"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/entity"
	"github.com/vestigo-forensics/vestigo/internal/evmindex"
	"github.com/vestigo-forensics/vestigo/internal/index"
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// The chain questions of the command line, answered with the JSON it
// prints with --json.

var networkParam = queryStr("network", "the network, when the input is valid on several indexed ones", "",
	"mainnet", "testnet", "testnet4", "signet", "regtest")

func (s *Server) health(c *call) error {
	return c.ok(map[string]string{"status": "ok"})
}

func (s *Server) openAPIDoc(c *call) error {
	c.w.Header().Set("Content-Type", jsonType)
	_, err := c.w.Write(s.openapi)
	return err
}

// ledgerStatus is what vestigo status --json says of one index, without
// the server's paths.
type ledgerStatus struct {
	Chain     chain.Chain   `json:"chain"`
	Network   chain.Network `json:"network"`
	TipHeight int64         `json:"tip_height"`
	TipHash   string        `json:"tip_hash"`
	Txs       uint64        `json:"txs"`
	Inputs    uint64        `json:"inputs"`
	Outputs   uint64        `json:"outputs"`
	Addresses uint64        `json:"addresses"`
	Clustered bool          `json:"clustered"`
}

func (s *Server) status(c *call) error {
	ls, err := s.ws.Ledgers()
	if err != nil {
		return err
	}
	out := struct {
		Version   string                `json:"vestigo_version"`
		Networks  []ledgerStatus        `json:"networks"`
		EVMChains []workspace.EVMStatus `json:"evm_chains"`
	}{s.version, []ledgerStatus{}, nil}
	if out.EVMChains, err = s.ws.EVMStatuses(workspace.Selector{}); err != nil {
		return err
	}
	for _, l := range ls {
		ix, err := s.ws.Index(l, false)
		if err != nil {
			return err
		}
		t := ix.Tip()
		st := ledgerStatus{Chain: l.Chain, Network: l.Network, TipHeight: t.Height, Txs: t.Txs, Inputs: t.Inputs,
			Outputs: t.Outputs, Addresses: uint64(t.NextAddr - 1), Clustered: s.ws.HasClusters(l)}
		if t.Height >= 0 {
			st.TipHash = t.Hash.String()
		}
		out.Networks = append(out.Networks, st)
	}
	return c.ok(out)
}

// chainIDParam chooses among indexed EVM chains.
var chainIDParam = queryInt("chain_id", "the EVM chain of a 0x input, when several are indexed", 0, 1<<62, "0")

func evmSelector(c *call) workspace.Selector {
	return workspace.Selector{ChainID: uint64(c.v.int("chain_id", 0))}
}

func (s *Server) tx(c *call) error {
	if id := strings.TrimSpace(c.v.str("txid", "")); workspace.IsEVMInput(id) && len(id) == 66 {
		ix, tx, err := s.ws.EVMTx(id, evmSelector(c))
		if err != nil {
			return err
		}
		svc, err := s.ws.EVMAttribution(ix)
		if err != nil {
			return err
		}
		r, err := svc.Tx(c.ctx, tx)
		if err != nil {
			return err
		}
		return c.ok(r)
	}
	ix, h, err := s.ws.Tx(c.v.str("txid", ""), selector(c.v.str("network", "")))
	if err != nil {
		return err
	}
	tx, err := ix.Tx(h)
	if err != nil {
		return err
	}
	svc, err := s.ws.Attribution(ix)
	if err != nil {
		return err
	}
	attr, err := svc.AnalyzeTx(c.ctx, h)
	if err != nil {
		return err
	}
	return c.ok(entity.ViewTx(tx, attr))
}

func (s *Server) address(c *call) error {
	if in := c.v.str("address", ""); workspace.IsEVMInput(in) {
		return s.evmAddress(c, in)
	}
	if c.v.str("asset", "") != "" {
		return badRequest("asset is for EVM (0x) addresses")
	}
	ix, addr, err := s.ws.Address(c.v.str("address", ""), selector(c.v.str("network", "")))
	if err != nil {
		return err
	}
	order := index.Oldest
	if c.v.bool("newest_first") {
		order = index.Newest
	}
	sum, err := ix.AddressSummary(addr, int(c.v.int("offset", 0)), int(c.v.int("limit", 50)), order)
	if err != nil {
		return err
	}
	if !c.v.bool("unspent") {
		return c.ok(sum)
	}
	if sum.UnspentCount > maxUnspentListed {
		return badRequest("the address has %d unspent outputs; at most %d are listed in one response", sum.UnspentCount, maxUnspentListed)
	}
	utxos, err := ix.Unspent(addr)
	if err != nil {
		return err
	}
	return c.ok(struct {
		*chain.AddressSummary
		Unspent []chain.Unspent `json:"unspent"`
	}{sum, utxos})
}

func (s *Server) block(c *call) error {
	ix, height, err := s.ws.Block(c.v.str("block", ""), selector(c.v.str("network", "")))
	if err != nil {
		return err
	}
	b, err := ix.Block(height, c.v.bool("txids"))
	if err != nil {
		return err
	}
	return c.ok(b)
}

func (s *Server) cluster(c *call) error {
	svc, addr, err := s.attributionOf(c.v.str("address", ""), c.v.str("network", ""), false)
	if err != nil {
		return err
	}
	e, err := svc.Entity(c.ctx, addr, uint64(c.v.int("offset", 0)), uint64(c.v.int("limit", 100)))
	if err != nil {
		return err
	}
	return c.ok(e)
}

func (s *Server) explain(c *call) error {
	sel := selector(c.v.str("network", ""))
	a1, a2 := c.v.str("address1", ""), c.v.str("address2", "")
	ix, x, err := s.ws.Address(a1, sel)
	if err != nil {
		return err
	}
	iy, y, err := s.ws.Address(a2, sel)
	if err != nil {
		return err
	}
	if ix != iy {
		return badRequest("%s and %s are on different networks", clip(a1), clip(a2))
	}
	svc, err := s.ws.Attribution(ix)
	if err != nil {
		return err
	}
	ex, err := svc.Explain(x, y)
	if err != nil {
		return err
	}
	return c.ok(ex)
}

func (s *Server) tags(c *call) error {
	svc, addr, err := s.attributionOf(c.v.str("address", ""), c.v.str("network", ""), true)
	if err != nil {
		return err
	}
	ts, err := svc.TagsOf(c.ctx, addr)
	if err != nil {
		return err
	}
	return c.ok(ts)
}

func (s *Server) screen(c *call) error {
	var q screenReq
	if err := c.decode(&q); err != nil {
		return err
	}
	return s.runQuery(c, &q)
}

// runQuery normalises and runs an analysis and answers its result.
func (s *Server) runQuery(c *call, a analysis) error {
	if err := a.normalise(); err != nil {
		return err
	}
	res, _, err := a.run(c.ctx, s)
	if err != nil {
		return err
	}
	return c.ok(res)
}

func (s *Server) traceGet(c *call) error {
	q, err := traceQuery(c)
	if err != nil {
		return err
	}
	return s.runQuery(c, q)
}

func (s *Server) tracePost(c *call) error {
	var q traceReq
	if err := c.decode(&q); err != nil {
		return err
	}
	return s.runQuery(c, &q)
}

func (s *Server) deposits(c *call) error {
	q := &depositsReq{ChainID: uint64(c.v.int("chain_id", 0)), FromBlock: uint64(c.v.int("from_block", 0)), ToBlock: uint64(c.v.int("to_block", 0)),
		MaxSweepBlocks: uint64(c.v.int("max_sweep_blocks", 0)), MaxResidualPct: uint64(c.v.int("max_residual_pct", 0)), MinSweeps: int(c.v.int("min_sweeps", 0))}
	for _, h := range strings.Split(c.v.str("hot", ""), ",") {
		if h = strings.TrimSpace(h); h != "" {
			q.HotWallets = append(q.HotWallets, h)
		}
	}
	return s.runQuery(c, q)
}

func (s *Server) path(c *call) error {
	return s.runQuery(c, &pathReq{From: c.v.str("from", ""), To: c.v.str("to", ""), Network: c.v.str("network", ""), ChainID: uint64(c.v.int("chain_id", 0)),
		Hops: int(c.v.int("hops", 0)), K: int(c.v.int("k", 0)), MaxFanout: int(c.v.int("max_fanout", 0))})
}

func (s *Server) exposure(c *call) error {
	return s.runQuery(c, &exposureReq{Address: c.v.str("address", ""), Network: c.v.str("network", ""),
		ChainID: uint64(c.v.int("chain_id", 0)), Hops: int(c.v.int("hops", 0))})
}

func (s *Server) patternsQuery(c *call) error {
	q := &patternsReq{Address: c.v.str("address", ""), Network: c.v.str("network", ""),
		MinPeelHops: int(c.v.int("min_peel_hops", 0)), MinConsolidate: int(c.v.int("min_consolidation_inputs", 0)),
		MinFanOut: int(c.v.int("min_fan_out", 0)), MinFanIn: int(c.v.int("min_fan_in", 0)),
		FanInBlocks: int(c.v.int("fan_in_blocks", 0)), StructuringValue: int(c.v.int("structuring_value", 0)),
		StructuringBandPct: int(c.v.int("structuring_band", 0)), MinStructured: int(c.v.int("min_structured", 0)),
		PassBlocks: int(c.v.int("pass_blocks", 0)), MinPassTransfers: int(c.v.int("min_pass_transfers", 0)),
		MaxResidualPct: int(c.v.int("max_residual", 0)), ChainID: uint64(c.v.int("chain_id", 0))}
	if c.v.has("from_height") {
		from := c.v.int("from_height", 0)
		q.FromHeight = &from
	}
	if c.v.has("to_height") {
		to := c.v.int("to_height", 0)
		q.ToHeight = &to
	}
	return s.runQuery(c, q)
}

func (s *Server) riskGet(c *call) error {
	return s.runQuery(c, &riskReq{Address: c.v.str("address", ""), Network: c.v.str("network", ""), ChainID: uint64(c.v.int("chain_id", 0))})
}

func (s *Server) riskPost(c *call) error {
	var q riskReq
	if err := c.decode(&q); err != nil {
		return err
	}
	return s.runQuery(c, &q)
}

func (s *Server) evmAddress(c *call, in string) error {
	if c.v.bool("unspent") {
		return badRequest("unspent is for Bitcoin addresses")
	}
	ix, id, _, err := s.ws.EVMAddress(in, evmSelector(c))
	if err != nil {
		return err
	}
	q := entity.EVMAddressQuery{Offset: int(c.v.int("offset", 0)), Limit: int(c.v.int("limit", 50)), NewestFirst: c.v.bool("newest_first")}
	if a := c.v.str("asset", ""); a != "" {
		n, err := strconv.ParseUint(a, 10, 32)
		if err != nil {
			return badRequest("asset: %q is not an asset id (the ids are in the address's holdings)", a)
		}
		as := evmindex.AssetID(n)
		q.Asset = &as
	}
	svc, err := s.ws.EVMAttribution(ix)
	if err != nil {
		return err
	}
	r, err := svc.Address(c.ctx, id, q)
	if err != nil {
		return err
	}
	return c.ok(r)
}
