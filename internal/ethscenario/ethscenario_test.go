package ethscenario

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func TestAddressesDeterministic(t *testing.T) {
	a, err := Addresses(1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Addresses(1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different addresses")
	}
	// The derivation is part of the truth format: pin one key.
	if got, want := a[0].Address, common.HexToAddress("0x"+pinnedDeployerSeed1); a[0].Label != "deployer" || got != want {
		t.Errorf("deployer of seed 1 is %s %s, want %s", a[0].Label, got.Hex(), want.Hex())
	}
	other, err := Addresses(2, Options{})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[common.Address]string{}
	for _, list := range [][]Address{a, other} {
		for _, x := range list {
			if prev, dup := seen[x.Address]; dup {
				t.Errorf("address %s is both %s and %s", x.Address.Hex(), prev, x.Label)
			}
			seen[x.Address] = x.Label
		}
	}
	// Contracts are the deployer's first two creations.
	if a[1].Address != crypto.CreateAddress(a[0].Address, 0) || a[2].Address != crypto.CreateAddress(a[0].Address, 1) || !a[1].Contract || !a[2].Contract {
		t.Errorf("contract addresses %s %s do not follow from the deployer", a[1].Address.Hex(), a[2].Address.Hex())
	}
	// The key of every account is the seed's: derive it again.
	k, err := deriveKey(1, "victim")
	if err != nil {
		t.Fatal(err)
	}
	if crypto.PubkeyToAddress(k.PublicKey) != a[3].Address || a[3].Role != RoleVictim {
		t.Errorf("victim %s does not match its derived key", a[3].Address.Hex())
	}
}

// pinnedDeployerSeed1 is the deployer address of seed 1.
const pinnedDeployerSeed1 = "42437098b0A3C56df179De2a851D44cc085eF803"

func TestOptions(t *testing.T) {
	for _, tc := range []struct {
		hops      int
		wantHops  int
		wantError bool
	}{
		{0, DefaultHops, false},
		{MinHops, MinHops, false},
		{MaxHops, MaxHops, false},
		{1, 0, true},
		{-1, 0, true},
		{MaxHops + 1, 0, true},
	} {
		list, err := Addresses(5, Options{Hops: tc.hops})
		if tc.wantError {
			if err == nil || !strings.HasPrefix(err.Error(), "ethscenario: hops") {
				t.Errorf("hops %d: error %v, want a hops error", tc.hops, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("hops %d: %v", tc.hops, err)
		}
		// deployer, token, forwarder, victim, thief-0…N, peel-0…N-1, 2 users, hot wallet, deposits
		if want := 4 + (tc.wantHops + 1) + tc.wantHops + 2 + 1 + Deposits; len(list) != want {
			t.Errorf("hops %d: %d addresses, want %d", tc.hops, len(list), want)
		}
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	c := ethclient.NewClient(nil)
	f := DevFunder{From: common.Address{1}}
	for _, tc := range []struct {
		name   string
		client *ethclient.Client
		funder Funder
		opts   Options
		want   string
	}{
		{"no client", nil, f, Options{}, "no ethclient"},
		{"no funder", c, nil, Options{}, "no funder"},
		{"bad hops", c, f, Options{Hops: 1}, "hops 1 out of range"},
	} {
		_, err := Run(context.Background(), tc.client, tc.funder, 1, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := (DevFunder{}).Fund(context.Background(), common.Address{2}, big.NewInt(1)); err == nil {
		t.Error("DevFunder without RPC client funded")
	}
}

func TestContracts(t *testing.T) {
	// solc's CBOR metadata at the end of the code names the compiler:
	// "solc": 0x43 0x00 0x08 0x25 is version 0.8.37 (contracts/README.md).
	solc0837 := append([]byte{0x64}, append([]byte("solc"), 0x43, 0, 8, 37)...)
	for _, tc := range []struct {
		load    func() (Contract, error)
		methods []string
		events  []string
	}{
		{TokenContract, []string{"name", "symbol", "decimals", "totalSupply", "balanceOf", "allowance", "mint", "transfer", "approve", "transferFrom", "minter"}, []string{"Transfer", "Approval"}},
		{ForwarderContract, []string{"forward"}, []string{"Forwarded"}},
	} {
		c, err := tc.load()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(c.Bytecode, solc0837) {
			t.Errorf("%s: bytecode was not compiled by solc 0.8.37", c.Name)
		}
		for _, m := range tc.methods {
			if _, ok := c.ABI.Methods[m]; !ok {
				t.Errorf("%s: no method %s", c.Name, m)
			}
		}
		for _, e := range tc.events {
			if _, ok := c.ABI.Events[e]; !ok {
				t.Errorf("%s: no event %s", c.Name, e)
			}
		}
	}
	tok, _ := TokenContract()
	if id := tok.ABI.Events["Transfer"].ID; id != crypto.Keccak256Hash([]byte("Transfer(address,address,uint256)")) {
		t.Errorf("Transfer event id %s", id.Hex())
	}
	if _, err := loadContract("Bad", "0xzz", "[]"); err == nil {
		t.Error("bad hex accepted")
	}
	if _, err := loadContract("Bad", "\n", "[]"); err == nil {
		t.Error("empty bytecode accepted")
	}
	if _, err := loadContract("Bad", "00", "{"); err == nil {
		t.Error("bad ABI accepted")
	}
}

func readSample(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(sampleTruth)
	if err != nil {
		t.Fatalf("%v (regenerate with go test -run TestRunOnGeth -update)", err)
	}
	return data
}

func TestParseTruthSample(t *testing.T) {
	data := readSample(t)
	truth, err := ParseTruth(data)
	if err != nil {
		t.Fatal(err)
	}
	again, err := json.MarshalIndent(truth, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(append(again, '\n'), data) {
		t.Error("the sample truth does not re-encode to itself")
	}
	path := filepath.Join(t.TempDir(), "t.json")
	if err := truth.Write(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTruth(path); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadTruth(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file read")
	}
	if err := truth.Write(filepath.Join(t.TempDir(), "no", "such", "dir.json")); err == nil {
		t.Error("write into a missing directory succeeded")
	}
}

// TestParseTruthRejects breaks one fact of the sample at a time.
func TestParseTruthRejects(t *testing.T) {
	data := readSample(t)
	one := chain.Sats(1)
	for _, tc := range []struct {
		name   string
		change func(*Truth)
		raw    func([]byte) []byte
		want   string
	}{
		{name: "format", change: func(t *Truth) { t.Format = "other/1" }, want: "truth format"},
		{name: "hops", change: func(t *Truth) { t.Hops = 1 }, want: "hops 1 out of range"},
		{name: "blocks", change: func(t *Truth) { t.FirstBlock = t.TipBlock + 1 }, want: "after tip block"},
		{name: "role", change: func(t *Truth) { t.Addresses[4].Role = "boss" }, want: "unknown role"},
		{name: "label", change: func(t *Truth) { t.Addresses[4].Label = t.Addresses[3].Label }, want: "repeated label"},
		{name: "address twice", change: func(t *Truth) { t.Addresses[4].Address = t.Addresses[3].Address }, want: "listed twice"},
		{name: "funder listed", change: func(t *Truth) { t.Addresses[4].Address = t.Funder }, want: "the funder"},
		{name: "hot wallet", change: func(t *Truth) { t.HotWallet = t.Addresses[3].Address }, want: "exchange_hot_wallet"},
		{name: "tx twice", change: func(t *Truth) { t.Txs[5].Hash = t.Txs[4].Hash }, want: "listed twice"},
		{name: "kind", change: func(t *Truth) { t.Txs[5].Kind = "gift" }, want: "unknown kind"},
		{name: "tx block", change: func(t *Truth) { t.Txs[5].Block = t.TipBlock + 1 }, want: "outside"},
		{name: "fee", change: func(t *Truth) { t.Txs[5].Fee, _ = t.Txs[5].Fee.Add(one) }, want: "is not gas used"},
		{name: "to and created", change: func(t *Truth) { t.Txs[5].Created = t.Txs[5].To }, want: "exactly one of"},
		{name: "sender", change: func(t *Truth) { t.Txs[5].From = common.Address{9} }, want: "sent by unknown"},
		{name: "asset", change: func(t *Truth) { t.Txs[0].Transfers[0].Asset = "BTC" }, want: "asset \"BTC\""},
		{name: "stranger", change: func(t *Truth) { t.Txs[0].Transfers[0].To = common.Address{9} }, want: "unknown address"},
		{name: "balance", change: func(t *Truth) { t.Addresses[3].Balance, _ = t.Addresses[3].Balance.Add(one) }, want: "its transactions give"},
		{name: "token balance", change: func(t *Truth) { t.Addresses[4].TokenBalance = one }, want: "token balance"},
		{name: "supply", change: func(t *Truth) { t.Token.TotalSupply = one }, want: "token supply"},
		{name: "overdraft", change: func(t *Truth) { t.Txs[0].Transfers[0].Amount = one }, want: "goes below zero"},
		{name: "path break", change: func(t *Truth) { t.Path[1].From = t.Path[0].From }, want: "breaks at step 1"},
		{name: "path start", change: func(t *Truth) { t.Path = t.Path[1:] }, want: "not at the victim"},
		{name: "path end", change: func(t *Truth) { t.Path = t.Path[:len(t.Path)-1] }, want: "not at the exchange"},
		{name: "path empty", change: func(t *Truth) { t.Path = nil }, want: "path is empty"},
		{name: "path tx", change: func(t *Truth) { t.Path[0].Tx = common.Hash{1} }, want: "unknown transaction"},
		{name: "token path start", change: func(t *Truth) { t.TokenPath = t.TokenPath[1:] }, want: "not at a mint"},
		{name: "unknown field", raw: func(b []byte) []byte { return bytes.Replace(b, []byte(`"hops"`), []byte(`"hopz"`), 1) }, want: "unknown field"},
		{name: "fractional amount", raw: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"total_supply": `), []byte(`"total_supply": 0.5e1, "x": `), 1)
		}, want: "decode truth"},
		{name: "trailing data", raw: func(b []byte) []byte { return append(b, []byte("{}")...) }, want: "data after"},
		{name: "bad address", raw: func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"funder": "0x`), []byte(`"funder": "0xzz`), 1)
		}, want: "decode truth"},
	} {
		in := data
		if tc.change != nil {
			truth, err := ParseTruth(data)
			if err != nil {
				t.Fatal(err)
			}
			tc.change(truth)
			if in, err = json.Marshal(truth); err != nil {
				t.Fatal(err)
			}
		} else {
			in = tc.raw(bytes.Clone(data))
		}
		_, err := ParseTruth(in)
		if err == nil || !strings.HasPrefix(err.Error(), "ethscenario: ") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}

// FuzzParseTruth: ParseTruth never panics, and what it accepts encodes and
// parses back to the same truth.
func FuzzParseTruth(f *testing.F) {
	data := readSample(f)
	f.Add(data)
	f.Add([]byte(`{"format":"vestigo-ethscenario/1","hops":2}`))
	f.Add([]byte(`{"token":{"total_supply":-1}}`))
	f.Add(bytes.Replace(data, []byte(`"balance_wei": 0`), []byte(`"balance_wei": 115792089237316195423570985008687907853269984665640564039457584007913129639936`), 1))
	f.Fuzz(func(t *testing.T, in []byte) {
		truth, err := ParseTruth(in)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "ethscenario: ") {
				t.Fatalf("error without prefix: %v", err)
			}
			return
		}
		out, err := json.Marshal(truth)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseTruth(out)
		if err != nil {
			t.Fatalf("re-encoded truth rejected: %v", err)
		}
		if !reflect.DeepEqual(back, truth) {
			t.Fatal("round trip changed the truth")
		}
	})
}
