package chain

// FlowTx is the shape of a UTXO transaction as the attribution heuristics see
// it: who paid how much to whom, with script types, and the few fields of the
// transaction that wallets fingerprint themselves with. It carries no txids
// or address strings so that whole-chain passes (clustering, evaluation) can
// build one per transaction cheaply from the index; Addr values are opaque
// address identities (the index's address ids), equal exactly when the
// address is the same, 0 for an output without an address (OP_RETURN).
type FlowTx struct {
	Coinbase bool
	Version  int32
	LockTime uint32
	// VSize is the virtual size in vbytes (weight / 4, rounded up); with
	// Fee it gives the fee rate.
	VSize int
	In    []Coin
	Out   []Coin
}

// Coin is one input (the previous output it spends) or one output.
type Coin struct {
	Value uint64
	Addr  uint64
	Type  ScriptType
	// Sequence is the input's nSequence; 0 for outputs.
	Sequence uint32
}

// InputValue is the sum of the inputs' values.
func (t *FlowTx) InputValue() uint64 {
	var s uint64
	for i := range t.In {
		s += t.In[i].Value
	}
	return s
}

// OutputValue is the sum of the outputs' values.
func (t *FlowTx) OutputValue() uint64 {
	var s uint64
	for i := range t.Out {
		s += t.Out[i].Value
	}
	return s
}

// Fee is inputs minus outputs; 0 for a coinbase.
func (t *FlowTx) Fee() uint64 {
	if t.Coinbase {
		return 0
	}
	in, out := t.InputValue(), t.OutputValue()
	if in < out {
		return 0
	}
	return in - out
}
