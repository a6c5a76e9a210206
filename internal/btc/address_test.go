package btc

import (
	"bufio"
	"encoding/hex"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// vectors reads "* <tt>ADDRESS</tt>: <tt>SCRIPT</tt>" (valid) and
// "* <tt>ADDRESS</tt>: reason" (invalid) lines of a BIP's test vectors,
// from the section after the given heading.
func vectors(t *testing.T, file, heading string) (valid map[string]string, invalid []string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	validRe := regexp.MustCompile(`^\* <tt>([^<]+)</tt>: <tt>([0-9a-f]+)</tt>`)
	invalidRe := regexp.MustCompile(`^\* <tt>([^<]+)</tt>: [A-Z]`)
	valid = map[string]string{}
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "===") {
			in = strings.Contains(line, heading)
			continue
		}
		if !in {
			continue
		}
		if m := validRe.FindStringSubmatch(line); m != nil {
			valid[m[1]] = m[2]
		} else if m := invalidRe.FindStringSubmatch(line); m != nil {
			invalid = append(invalid, m[1])
		}
	}
	return valid, invalid
}

// TestSegwitAddressVectors checks decoding, classification and encoding
// against BIP350's segwit address vectors (v0–v16) and BIP173's invalid ones.
func TestSegwitAddressVectors(t *testing.T) {
	valid, invalid := vectors(t, "testdata/bip0350_test_vectors.txt", "native segregated witness")
	_, invalid173 := vectors(t, "testdata/bip0173_test_vectors.txt", "Test vectors")
	invalid = append(invalid, invalid173...)
	if len(valid) != 8 || len(invalid) < 20 {
		t.Fatalf("read %d valid and %d invalid vectors", len(valid), len(invalid))
	}
	for addr, scriptHex := range valid {
		script, _ := hex.DecodeString(scriptHex)
		p := mainnet
		if strings.HasPrefix(strings.ToLower(addr), "tb1") {
			p = testnet3
		}
		a, err := p.DecodeAddr(addr)
		if err != nil {
			t.Errorf("%s: %v", addr, err)
			continue
		}
		typ, fromScript := Classify(script)
		if fromScript != a {
			t.Errorf("%s: decoded %+v, script %x classifies as %+v", addr, a, script, fromScript)
		}
		if got := p.EncodeAddr(a); got != strings.ToLower(addr) {
			t.Errorf("%s: encodes back as %s", addr, got)
		}
		want := map[int]chain.ScriptType{22: chain.P2WPKH, 34: chain.P2WSH}[len(script)]
		if script[0] == 0x51 && len(script) == 34 {
			want = chain.P2TR
		} else if script[0] != 0 {
			want = chain.WitnessUnknown
		}
		if typ != want {
			t.Errorf("%s: script type %s, want %s", addr, typ, want)
		}
	}
	for _, addr := range invalid {
		for _, p := range Networks() {
			if _, err := p.DecodeAddr(addr); err == nil {
				t.Errorf("invalid %q accepted on %s", addr, p.Network)
			} else if !errors.Is(err, chain.ErrInvalid) {
				t.Errorf("%q: error does not wrap ErrInvalid: %v", addr, err)
			}
		}
	}
}

func TestBase58AndScriptAddresses(t *testing.T) {
	cases := []struct {
		addr string
		net  chain.Network
		kind AddrKind
	}{
		{"1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm3", chain.Mainnet, KindPubKeyHash},
		{"3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy", chain.Mainnet, KindScriptHash},
		{"mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn", chain.Testnet, KindPubKeyHash},
		{"2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc", chain.Regtest, KindScriptHash},
		{"s-" + strings.Repeat("ab", 32), chain.Mainnet, KindScript},
	}
	for _, c := range cases {
		p, _ := ParamsFor(c.net)
		a, err := p.DecodeAddr(c.addr)
		if err != nil || a.Kind != c.kind || p.EncodeAddr(a) != c.addr {
			t.Errorf("%s on %s: %+v %v", c.addr, c.net, a, err)
		}
	}
	for _, bad := range []string{"", "1Q2TWHE3GMdB6BZKafqwxXtWAWgFt5Jvm4", "s-abcd", "s-" + strings.Repeat("zz", 32),
		"bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080", strings.Repeat("1", 200)} {
		if _, err := mainnet.DecodeAddr(bad); !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%q accepted on mainnet: %v", bad, err)
		}
	}
	// Testnet3, testnet4, signet and regtest share base58 prefixes.
	if n := NetworksOf("mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"); len(n) != 4 {
		t.Errorf("a testnet P2PKH address is valid on %d networks, want 4", len(n))
	}
	if n := NetworksOf("bcrt1q6rz28mcfaxtmd6v789l9rrlrusdprr9pz3cppk"); len(n) != 1 || n[0].Network != chain.Regtest {
		t.Errorf("a bcrt1 address is valid on %v", n)
	}
}

func TestClassify(t *testing.T) {
	// Satoshi's key of block 9, uncompressed: its P2PKH form is the
	// hash of the 65 bytes, not of the compressed key.
	satoshiKey := "0411db93e1dcdb8a016b49840f8c53bc1eb68a382e97b1482ecad7b148a6909a5cb2e0eaddfb84ccf9744464f82e160bfa9b8b64f9d4c03f999b8643f656b412a3"
	h := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	cases := []struct {
		name   string
		script string
		typ    chain.ScriptType
		addr   string
	}{
		{"p2pk uncompressed", "41" + satoshiKey + "ac", chain.P2PK, "12cbQLTFMXRnSzktFkuoG3eHoMeFtpTu3S"},
		{"p2pkh", "76a914751e76e8199196d454941c45d1b3a323f1433bd688ac", chain.P2PKH, "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH"},
		{"p2sh", "a914b472a266d0bd89c13706a4132ccfb16f7c3b9fcb87", chain.P2SH, "3J98t1WpEZ73CNmQviecrnyiWrnqRhWNLy"},
		{"p2wpkh", "0014751e76e8199196d454941c45d1b3a323f1433bd6", chain.P2WPKH, "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"},
		{"p2tr", "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798", chain.P2TR, "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0"},
		{"pay-to-anchor", "51024e73", chain.WitnessUnknown, "bc1pfeessrawgf"},
		{"op_return", "6a0b68656c6c6f20776f726c64", chain.OpReturn, ""},
		{"op_return oversized", "6a4c5a" + strings.Repeat("00", 90), chain.OpReturn, ""},
		{"nonstandard", "51", chain.NonStandard, "s-4ae81572f06e1b88fd5ced7a1a000945432e83e1551e6f721ee9c00b8cc33260"},
	}
	for _, c := range cases {
		typ, a := Classify(h(c.script))
		if typ != c.typ || mainnet.EncodeAddr(a) != c.addr {
			t.Errorf("%s: %s %q, want %s %q", c.name, typ, mainnet.EncodeAddr(a), c.typ, c.addr)
		}
	}
	// Bare 1-of-2 multisig: a script address, with its keys recoverable.
	ms := h("5121" + "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
		"21" + "02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5" + "52ae")
	typ, a := Classify(ms)
	if typ != chain.BareMultisig || a.Kind != KindScript {
		t.Fatalf("multisig: %s %+v", typ, a)
	}
	m, keys, ok := MultisigKeys(ms)
	if !ok || m != 1 || len(keys) != 2 || mainnet.EncodeAddr(keys[0]) != "1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH" {
		t.Fatalf("multisig keys: %d %v %v", m, keys, ok)
	}
}
