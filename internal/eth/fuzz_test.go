package eth

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// The fuzz targets feed arbitrary bytes to each decoder: it must return a
// value or a one-line "eth:" error wrapping chain.ErrInvalid, and never
// panic. Their seeds run with the normal tests; go test -fuzz explores.

func checkFuzzErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("error does not wrap chain.ErrInvalid: %v", err)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "eth: ") || strings.ContainsAny(msg, "\n\r") {
		t.Fatalf("error is not one eth: line: %q", msg)
	}
}

func seeds(f *testing.F, valid ...json.RawMessage) {
	for _, v := range valid {
		f.Add([]byte(v))
	}
	for _, s := range []string{``, `null`, `{}`, `[]`, `"x"`, `1e400`, `{"a":1,"a":2}`, `{"number":"0x` + strings.Repeat("f", 70) + `"}`,
		strings.Repeat("[", 3000), `{"calls":` + strings.Repeat(`[{"calls":`, 50), "\xff\xfe", `{"\ud800":1}`} {
		f.Add([]byte(s))
	}
}

func FuzzDecodeBlock(f *testing.F) {
	seeds(f, mustJSON(f, blockJSON()))
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := DecodeBlock(b)
		checkFuzzErr(t, err)
		if err == nil {
			for i := range blk.Txs {
				if blk.Txs[i].BlockHash != blk.Hash || blk.Txs[i].Index != uint64(i) {
					t.Fatalf("transaction %d does not belong to the block", i)
				}
			}
		}
	})
}

func FuzzDecodeTx(f *testing.F) {
	seeds(f, mustJSON(f, txJSON(txHash0, 0, addrB)), mustJSON(f, txJSON(txHash0, 0, nil)))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := DecodeTx(b)
		checkFuzzErr(t, err)
	})
}

func FuzzDecodeReceipt(f *testing.F) {
	seeds(f, mustJSON(f, receiptJSON()))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeReceipt(b)
		checkFuzzErr(t, err)
		if err == nil {
			if len(r.Logs) > 0 && r.Status == StatusFailed {
				t.Fatal("failed receipt with logs accepted")
			}
			if _, err := r.Fee(); err != nil && !strings.HasPrefix(err.Error(), "eth: ") {
				t.Fatal(err)
			}
		}
	})
}

func FuzzDecodeLog(f *testing.F) {
	seeds(f, mustJSON(f, logJSON(0)))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := DecodeLog(b)
		checkFuzzErr(t, err)
		if err == nil {
			tr, ok, err := DecodeTransfer(l)
			checkFuzzErr(t, err)
			if ok && tr.Token != l.Address {
				t.Fatal("transfer of another token")
			}
		}
	})
}

func FuzzDecodeCallFrame(f *testing.F) {
	seeds(f, mustJSON(f, blockTraceJSON()[1].(map[string]any)["result"]), json.RawMessage(nested(3)))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := DecodeCallFrame(b)
		checkFuzzErr(t, err)
		if err == nil {
			InternalTransfers([]CallFrame{fr})
		}
	})
}

func FuzzDecodeBlockTrace(f *testing.F) {
	seeds(f, mustJSON(f, blockTraceJSON()))
	f.Fuzz(func(t *testing.T, b []byte) {
		trs, err := DecodeBlockTrace(b, "trace of block 0x1")
		checkFuzzErr(t, err)
		frames := make([]CallFrame, len(trs))
		for i := range trs {
			frames[i] = trs[i].Root
		}
		for _, v := range InternalTransfers(frames) {
			if v.Value.IsZero() {
				t.Fatal("zero-value internal transfer listed")
			}
		}
	})
}

func FuzzParseAddress(f *testing.F) {
	for _, v := range eip55Vectors {
		f.Add(v)
	}
	f.Add("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddress(s)
		checkFuzzErr(t, err)
		if err == nil {
			if b, err := ParseAddress(a.String()); err != nil || b != a {
				t.Fatalf("%s does not parse back: %v", a, err)
			}
			if !strings.EqualFold(a.String()[2:], s[2:]) {
				t.Fatalf("%s parsed to %s", s, a)
			}
		}
	})
}

func FuzzDecodeTokenResults(f *testing.F) {
	f.Add(abiString("Tether USD"))
	f.Add(word("12"))
	f.Add([]byte("MKR\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := DecodeTokenString(b)
		checkFuzzErr(t, err)
		if err == nil && len(s) > MaxTokenString {
			t.Fatal("long text accepted")
		}
		_, err = DecodeDecimals(b)
		checkFuzzErr(t, err)
		_, err = DecodeUint256(b)
		checkFuzzErr(t, err)
	})
}
