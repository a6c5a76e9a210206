package index

import (
	"testing"

	"github.com/btcsuite/btcd/chaincfg/chainhash"
)

// TestUtxoCacheKeepsLongHeldOutputs rotates the cache many times: outputs
// never spent stay findable, spent ones are found exactly once, and
// generations of spent transactions are dropped.
func TestUtxoCacheKeepsLongHeldOutputs(t *testing.T) {
	c := newUtxoCache(1024)
	txid := func(i int) chainhash.Hash { return chainhash.DoubleHashH([]byte{byte(i), byte(i >> 8), byte(i >> 16)}) }
	const n = 10000
	for i := 0; i < n; i++ {
		c.add(txid(i), MakeTxKey(int64(i), 0), []OutRecord{{Value: uint64(i), Addr: 1, Type: 2}, {Value: 7, Addr: 2, Type: 2}})
		// Output 1 of every transaction is spent at once; output 0 of
		// every tenth is held.
		if _, _, found, double := c.spend(&[]chainhash.Hash{txid(i)}[0], 1); !found || double {
			t.Fatalf("tx %d output 1: found %v double %v", i, found, double)
		}
		if i%10 != 0 {
			h := txid(i)
			c.spend(&h, 0)
		}
		c.rotate()
	}
	for i := 0; i < n; i += 10 {
		h := txid(i)
		key, out, found, double := c.spend(&h, 0)
		if !found || double || key != MakeTxKey(int64(i), 0) || out.value != uint64(i) {
			t.Fatalf("held output of tx %d: found %v double %v key %d value %d", i, found, double, key, out.value)
		}
		if _, _, _, double := c.spend(&h, 0); !double && c.has(&h) {
			t.Fatalf("tx %d spent twice", i)
		}
	}
	if live := len(c.young.m) + len(c.old.m); live != 0 {
		t.Fatalf("%d transactions left with nothing unspent", live)
	}
}

func (c *utxoCache) has(h *chainhash.Hash) bool {
	_, a := c.young.m[*h]
	_, b := c.old.m[*h]
	return a || b
}
