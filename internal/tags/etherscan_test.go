package tags

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var (
	brianDir   = filepath.Join("testdata", "etherscan-labels-brianleect")
	dawsDir    = filepath.Join("testdata", "eth-labels-dawsbot")
	dawsExch   = filepath.Join(dawsDir, "mainnet_exchange_all.csv")
	dawsPhish  = filepath.Join(dawsDir, "mainnet_phish-hack_all.csv")
	brianRow   = regexp.MustCompile(`(?m)^\d+,(0x[0-9a-fA-F]{40}),`)
	dawsRow    = regexp.MustCompile(`(?m)^(0x[0-9a-fA-F]{40}),`)
	brianFiles = map[string]struct {
		rows     int
		category string
		abuse    string
	}{
		"etherscan_accounts_binance.csv":              {57, "exchange", ""},
		"etherscan_accounts_blocked.csv":              {661, "", "black_list"},
		"etherscan_accounts_bridge.csv":               {166, "defi_bridge", ""},
		"etherscan_accounts_ethereum-mixer.csv":       {1, "mixing_service", ""},
		"etherscan_accounts_mining.csv":               {127, "mining_service", ""},
		"etherscan_accounts_ofac-sanctions-lists.csv": {72, "", "sanction"},
		"etherscan_accounts_tornado-cash.csv":         {63, "mixing_service", ""},
	}
)

// addrsIn returns the addresses of a file that re matches (group 1),
// lower-cased: the expected content, found without the parser.
func addrsIn(t *testing.T, path string, re *regexp.Regexp) []string {
	t.Helper()
	var out []string
	for _, m := range re.FindAllStringSubmatch(string(readFile(t, path)), -1) {
		out = append(out, strings.ToLower(m[1]))
	}
	return out
}

func tagsAt(t *testing.T, s *Store, addr string) []Tag {
	t.Helper()
	m, err := s.ByAddress(ctx0, []string{addr})
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	return m[addr]
}

func onlyTag(t *testing.T, s *Store, addr, pack string) Tag {
	t.Helper()
	var out []Tag
	for _, tg := range tagsAt(t, s, addr) {
		if tg.Pack.Name == pack {
			out = append(out, tg)
		}
	}
	if len(out) != 1 {
		t.Fatalf("%s in %s: %d tags %+v", addr, pack, len(out), out)
	}
	return out[0]
}

func TestEtherscanDetect(t *testing.T) {
	for name := range brianFiles {
		if f, err := DetectFormat(filepath.Join(brianDir, name)); err != nil || f != FormatEtherscanCSV {
			t.Errorf("%s: %q %v", name, f, err)
		}
	}
	for _, p := range []string{dawsExch, dawsPhish} {
		if f, err := DetectFormat(p); err != nil || f != FormatEtherscanCSV {
			t.Errorf("%s: %q %v", p, f, err)
		}
	}
	for head, want := range map[string]Format{
		"address,label,category,source\n":            FormatCSV,
		"\ufeffAddress,NameTag\n":                    FormatEtherscanCSV,
		"index,Address,Name Tag,Balance,Txn Count\n": FormatEtherscanCSV,
		"address,nameTag,extra\n":                    "",
		",Address,Name Tag,Balance\n":                "",
	} {
		if got := detect("x.csv", []byte(head)); got != want {
			t.Errorf("%q: %q, want %q", head, got, want)
		}
	}
}

func TestEtherscanBrianleect(t *testing.T) {
	s := openStore(t, Options{})
	res := mustImport(t, s, brianDir, "")
	if len(res) != len(brianFiles) {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		want, ok := brianFiles[r.Name]
		if !ok || r.Status != StatusImported || r.Format != FormatEtherscanCSV || r.Tags != want.rows || len(r.Notes) != 0 {
			t.Fatalf("%+v", r)
		}
		addrs := addrsIn(t, filepath.Join(brianDir, r.Name), brianRow)
		if len(addrs) != want.rows {
			t.Fatalf("%s: %d rows counted", r.Name, len(addrs))
		}
		set := strings.TrimSuffix(strings.TrimPrefix(r.Name, "etherscan_accounts_"), ".csv")
		for _, a := range addrs {
			var mine []Tag // blocked lists some addresses twice, each row a tag
			for _, tg := range tagsAt(t, s, a) {
				if tg.Pack.Name == r.Name {
					mine = append(mine, tg)
				}
			}
			if len(mine) == 0 {
				t.Fatalf("%s: %s not found", r.Name, a)
			}
			tg := mine[0]
			if tg.Currency != "ETH" || tg.Category != want.category || tg.Abuse != want.abuse || tg.AddressProblem != "" ||
				tg.Confidence != "web_crawl" || tg.ConfidenceLevel != 20 || tg.Source != "https://etherscan.io/address/"+a ||
				tg.Sanctioned != (want.abuse == "sanction") || tg.Label == "" || !tg.IsPublic ||
				!strings.Contains(tg.Creator, "brianleect/etherscan-labels") {
				t.Fatalf("%s: %+v", r.Name, tg)
			}
			var c etherscanContext
			if err := json.Unmarshal([]byte(tg.Context), &c); err != nil || c.LabelSet != set ||
				c.LabelURL != "https://etherscan.io/accounts/label/"+set || c.Balance == "" || c.TxnCount == "" {
				t.Fatalf("%s: context %q %v", r.Name, tg.Context, err)
			}
		}
	}
	// Rows as the files give them.
	tg := onlyTag(t, s, "0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be", "etherscan_accounts_binance.csv")
	if tg.Label != "Binance" || tg.Line != 2 || !strings.Contains(tg.Context, `"balance":"0.08230919 ETH"`) || !strings.Contains(tg.Context, `"txn_count":"17017624"`) {
		t.Fatalf("%+v", tg)
	}
	tg = onlyTag(t, s, "0x47ce0c6ed5b0ce3d3a51fdb1c52dc66a7c3c2936", "etherscan_accounts_tornado-cash.csv")
	if tg.Label != "Tornado.Cash: 1 ETH" || !strings.Contains(tg.Context, `"balance":"2,960 ETH"`) {
		t.Fatalf("%+v", tg)
	}
	tg = onlyTag(t, s, "0xfd8610d20aa15b7b2e3be39b396a1bc3516c7144", "etherscan_accounts_tornado-cash.csv")
	if tg.Label != "Tornado.Cash: 1,000 DAI" {
		t.Fatalf("%+v", tg)
	}
	// Etherscan shows no name tag: the label set is the label.
	tg = onlyTag(t, s, "0x3ad9db589d201a710ed237c829c7860ba86510fc", "etherscan_accounts_ofac-sanctions-lists.csv")
	if tg.Label != "Etherscan label: ofac-sanctions-lists" || !tg.Sanctioned || tg.Line != 2 {
		t.Fatalf("%+v", tg)
	}
	tg = onlyTag(t, s, "0x74487eed1e67f4787e8c0570e8d5d168a05254d4", "etherscan_accounts_blocked.csv")
	if tg.Label != "bZx PrivKey Exploiter" || tg.Sanctioned || tg.Abuse != "black_list" || tg.Line != 600 {
		t.Fatalf("%+v", tg)
	}
	// Queries in EIP-55's mixed case find the lower-case rows.
	m, err := s.ByAddress(ctx0, []string{"0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE"})
	if err != nil || len(m["0x3f5CE5FBFe3E9af3971dD833D26bA9b5C936f0bE"]) != 1 {
		t.Fatalf("%v %v", m, err)
	}
	// Re-importing the same files changes nothing.
	for _, r := range mustImport(t, s, brianDir, "") {
		if r.Status != StatusUnchanged {
			t.Fatalf("%+v", r)
		}
	}
}

func TestEtherscanDawsbot(t *testing.T) {
	s := openStore(t, Options{})
	res := mustImport(t, s, dawsDir, "")
	ex := result(t, res, "mainnet_exchange_all.csv")
	exAddrs := addrsIn(t, dawsExch, dawsRow)
	if ex.Status != StatusImported || ex.Format != FormatEtherscanCSV || len(exAddrs) != 372 || ex.Tags != 372 || len(ex.Notes) != 0 {
		t.Fatalf("%+v (%d rows)", ex, len(exAddrs))
	}
	for _, a := range exAddrs {
		tg := onlyTag(t, s, a, ex.Name)
		if tg.Category != "exchange" || tg.Abuse != "" || tg.Sanctioned || tg.Source != "https://etherscan.io/address/"+a ||
			!strings.Contains(tg.Creator, "dawsbot/eth-labels") || tg.Confidence != "web_crawl" {
			t.Fatalf("%+v", tg)
		}
	}
	if tg := onlyTag(t, s, "0x1ccbdff6336b1027995a27a77b41fa87eb6608a3", ex.Name); tg.Label != "Etherscan label: exchange" || tg.Line != 2 {
		t.Fatalf("%+v", tg)
	}
	if tg := onlyTag(t, s, "0x05f51aab068caa6ab7eeb672f88c180f67f17ec7", ex.Name); tg.Label != "ABCC" || tg.Line != 5 {
		t.Fatalf("%+v", tg)
	}

	// phish-hack: 5594 rows, of which 4 are numbers a spreadsheet made of
	// addresses and 2 carry a wrong EIP-55 checksum: kept and flagged.
	ph := result(t, res, "mainnet_phish-hack_all.csv")
	var rows int
	for _, l := range strings.Split(string(readFile(t, dawsPhish)), "\n")[1:] {
		if strings.TrimSpace(l) != "" {
			rows++
		}
	}
	if ph.Status != StatusImported || rows != 5594 || ph.Tags != rows || len(ph.Notes) != 6 {
		t.Fatalf("%+v (%d rows)", ph, rows)
	}
	flagged := map[int]string{
		1009: "1.4390191554254E+48", 1468: "1.06323208699073E+48", 2547: "1.07711560455244E+48", 4944: "8.09198839620803E+47",
		4696: "0xA0DF9CA52e8aB5DDE22C55D9B3C2CDF814B9B773", 5134: "0xf299f6B031Cc4dd1BfcB86A5e5590f99336a29c6",
	}
	for line, addr := range flagged {
		tg := onlyTag(t, s, addr, ph.Name)
		if tg.Line != line || tg.AddressProblem == "" || tg.Address != addr || tg.Source != "https://etherscan.io/accounts/label/phish-hack" {
			t.Fatalf("%+v", tg)
		}
		if strings.HasPrefix(addr, "0x") != strings.Contains(tg.AddressProblem, "EIP-55") {
			t.Fatalf("%s: %q", addr, tg.AddressProblem)
		}
		note := false
		for _, n := range ph.Notes {
			note = note || strings.Contains(n, "mainnet_phish-hack_all.csv:"+strconv.Itoa(line)+":")
		}
		if !note {
			t.Fatalf("line %d not in the notes %q", line, ph.Notes)
		}
	}
	for addr, abuse := range map[string]string{
		"0xbceaa0040764009fdcff407e82ad1f06465fd2c4": "hacking",  // Bancor Hacker
		"0x4073aa0f9885bbe59895a27158bbe865052678b8": "phishing", // Fake: Hack 137
		"0x9f26ae5cd245bfeeb5926d61497550f79d9c6c1c": "hacking",  // Akropolis Hacker 1
		"0x26a40e8dbdb0dee17d7036fcc0a2ae3fecf4800d": "phishing", // no name tag
	} {
		if tg := onlyTag(t, s, addr, ph.Name); tg.Abuse != abuse || tg.Category != "" || !strings.Contains(tg.Context, `"etherscan_label":"phish-hack"`) {
			t.Fatalf("%s: %+v", addr, tg)
		}
	}
}

func TestEtherscanBadInput(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s := openStore(t, Options{})
	for name, c := range map[string]struct{ body, want string }{
		"all.csv":                        {"address,nameTag\n0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be,x\n", "label set from the file name"},
		"etherscan_accounts_binance.csv": {",Address,Name Tag,Balance,Txn Count\n0,0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be,Binance,1 ETH\n", "etherscan_accounts_binance.csv:2: expected 5 columns, found 4"},
		"mainnet_exchange_all.csv":       {"address,nameTag\n", "no addresses"},
		"mainnet_scam_all.csv":           {"address,nameTag\n,empty\n", "mainnet_scam_all.csv:2: empty address"},
		"mainnet_phishing_all.csv":       {"address,label\n0x3f5ce5fbfe3e9af3971dd833d26ba9b5c936f0be,x\n", "mainnet_phishing_all.csv:1: the first line must be"},
	} {
		_, err := s.ImportFiles(ctx0, []string{write(name, c.body)}, FormatEtherscanCSV, t0)
		if err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := count(t, s); n != 0 {
		t.Fatalf("%d tags stored", n)
	}
	// A label set without a mapping imports, without category, and says so.
	p := write("etherscan_accounts_sushiswap.csv", ",Address,Name Tag,Balance,Txn Count\n0,0x795065dcc9f64b5614c407a6efdc400da6221fb0,SushiSwap: SUSHI-WETH,0 ETH,9\n")
	res, err := s.ImportFiles(ctx0, []string{p}, "", t0)
	if err != nil || res[0].Format != FormatEtherscanCSV || res[0].Tags != 1 || len(res[0].Notes) != 1 || !strings.Contains(res[0].Notes[0], `"sushiswap" has no mapping`) {
		t.Fatalf("%+v %v", res, err)
	}
	tg := onlyTag(t, s, "0x795065dcc9f64b5614c407a6efdc400da6221fb0", "etherscan_accounts_sushiswap.csv")
	if tg.Category != "" || tg.Abuse != "" || tg.Label != "SushiSwap: SUSHI-WETH" {
		t.Fatalf("%+v", tg)
	}
}

// TestOFACEthereumScreening imports OFAC's ETH, USDT and USDC lists and
// finds every 0x address of them, given in EIP-55 form, lower case and
// upper case, as sanctioned with the list's currency; a query with a
// wrong checksum is refused, not screened clean.
func TestOFACEthereumScreening(t *testing.T) {
	s := openStore(t, Options{})
	var files []string
	for _, tk := range []string{"ETH", "USDT", "USDC"} {
		files = append(files, filepath.Join("testdata", "ofac-0xB10C", "sanctioned_addresses_"+tk+".txt"))
	}
	res, err := s.ImportFiles(ctx0, files, "", t0)
	if err != nil {
		t.Fatal(err)
	}
	perList := map[string]int{"ETH": 152, "USDT": 26, "USDC": 2}
	hex0x := regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	checked := 0
	for i, tk := range []string{"ETH", "USDT", "USDC"} {
		r := res[i]
		if r.Status != StatusImported || r.Format != FormatOFACList || r.Tags != perList[tk] || len(r.Notes) != 0 {
			t.Fatalf("%+v", r)
		}
		for _, l := range strings.Split(string(readFile(t, files[i])), "\n") {
			l = strings.TrimSpace(l)
			if l == "" {
				continue
			}
			if !hex0x.MatchString(l) {
				if tk != "USDT" { // USDT is also listed on TRON and Omni (Bitcoin addresses)
					t.Fatalf("%s: %q", tk, l)
				}
				if tg := onlyTag(t, s, l, r.Name); !tg.Sanctioned || tg.Currency != "USDT" || tg.Address != l {
					t.Fatalf("%+v", tg)
				}
				continue
			}
			low := strings.ToLower(l)
			forms := []string{l, low, "0x" + strings.ToUpper(l[2:]), "0X" + strings.ToUpper(l[2:]), " " + l + "\n"}
			m, err := s.ByAddress(ctx0, forms)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range forms {
				var hit *Tag
				for _, tg := range m[f] {
					if tg.Pack.Name == r.Name {
						hit = &tg
					}
				}
				if hit == nil || !hit.Sanctioned || hit.Currency != tk || hit.Address != low || hit.Abuse != "sanction" || hit.Confidence != "authority_data" {
					t.Fatalf("%s %q: %+v", tk, f, m[f])
				}
			}
			checked++
		}
	}
	if checked != 152+8+2 { // USDT: 8 0x, 11 TRON and 7 Omni (Bitcoin) addresses
		t.Fatalf("%d 0x addresses checked", checked)
	}
	// An address on the three lists has the three tags, in pack order.
	if ts := tagsAt(t, s, "0x983a81ca6FB1e441266D2FbcB7D8E530AC2E05A2"); len(ts) != 3 || ts[0].Currency != "ETH" || ts[1].Currency != "USDC" || ts[2].Currency != "USDT" {
		t.Fatalf("%+v", ts)
	}
	// A typing error in the case of one letter: the digits are on the
	// list, so a lower-casing lookup would find it, but the query is
	// refused, naming the address.
	const good = "0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1"
	typo := good[:len(good)-2] + "b1" // "...BB1" with one letter in the wrong case
	if len(tagsAt(t, s, strings.ToLower(typo))) == 0 {
		t.Fatal("the digits should be listed")
	}
	_, err = s.ByAddress(ctx0, []string{good, typo})
	if err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), "EIP-55") || !strings.Contains(err.Error(), typo) {
		t.Fatalf("typo query: %v", err)
	}
	if _, err := CheckQueryAddress(typo); err == nil || !IsInvalid(err) {
		t.Fatalf("CheckQueryAddress: %v", err)
	}
	if a, err := CheckQueryAddress(" " + good); err != nil || a != strings.ToLower(good) {
		t.Fatalf("CheckQueryAddress: %q %v", a, err)
	}
	// A USDT list entry with a wrong checksum is kept and flagged, as for ETH.
	bad := filepath.Join(t.TempDir(), "sanctioned_addresses_USDT.txt")
	if err := os.WriteFile(bad, []byte("0x175d44451403Edf28469dF03A9280c1197ADb92C\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, Options{})
	res, err = s2.ImportFiles(ctx0, []string{bad}, "", t0)
	if err != nil || len(res[0].Notes) != 1 || !strings.Contains(res[0].Notes[0], "EIP-55") {
		t.Fatalf("%+v %v", res, err)
	}
	if tg := onlyTag(t, s2, "0x175d44451403Edf28469dF03A9280c1197ADb92C", res[0].Name); !tg.Sanctioned || !strings.Contains(tg.AddressProblem, "EIP-55") {
		t.Fatalf("%+v", tg)
	}
}

func TestAddressesWith(t *testing.T) {
	s := openStore(t, Options{})
	mustImport(t, s, brianDir, "")
	mustImport(t, s, dawsDir, "")
	for _, tk := range []string{"ETH", "USDT", "XBT"} {
		mustImport(t, s, filepath.Join("testdata", "ofac-0xB10C", "sanctioned_addresses_"+tk+".txt"), "")
	}
	brian := func(set string) []string {
		return addrsIn(t, filepath.Join(brianDir, "etherscan_accounts_"+set+".csv"), brianRow)
	}
	lines := func(tk string, keep func(string) bool) []string {
		var out []string
		for _, l := range strings.Split(string(readFile(t, filepath.Join("testdata", "ofac-0xB10C", "sanctioned_addresses_"+tk+".txt"))), "\n") {
			if l = strings.TrimSpace(l); l != "" && keep(l) {
				out = append(out, l)
			}
		}
		return out
	}
	is0x := func(l string) bool { return strings.HasPrefix(l, "0x") }
	lower := func(l []string) []string {
		out := make([]string, len(l))
		for i, a := range l {
			out[i] = strings.ToLower(a)
		}
		return out
	}
	set := func(parts ...[]string) []string {
		m := map[string]bool{}
		for _, p := range parts {
			for _, a := range p {
				m[a] = true
			}
		}
		out := make([]string, 0, len(m))
		for a := range m {
			out = append(out, a)
		}
		sort.Strings(out)
		return out
	}
	// phish-hack's valid addresses: the rows without the 4 spreadsheet
	// numbers and the 2 with a wrong checksum.
	var phish []string
	for _, a := range dawsRow.FindAllStringSubmatch(string(readFile(t, dawsPhish)), -1) {
		if a[1] != "0xA0DF9CA52e8aB5DDE22C55D9B3C2CDF814B9B773" && a[1] != "0xf299f6B031Cc4dd1BfcB86A5e5590f99336a29c6" {
			phish = append(phish, strings.ToLower(a[1]))
		}
	}
	for _, c := range []struct {
		cur      string
		concepts []string
		want     []string
	}{
		{"ETH", []string{"exchange"}, set(brian("binance"), addrsIn(t, dawsExch, dawsRow))},
		{"ETH", []string{"mixing_service"}, set(brian("tornado-cash"), brian("ethereum-mixer"))},
		{"ETH", []string{"defi_bridge"}, set(brian("bridge"))},
		{"ETH", []string{"defi"}, set(brian("bridge"))}, // below defi
		{"ETH", []string{"mining_service", "black_list"}, set(brian("mining"), brian("blocked"))},
		// The EVM group: OFAC's USDT 0x addresses count, its TRON and Omni ones do not.
		{"ETH", []string{"sanction"}, set(brian("ofac-sanctions-lists"), lower(lines("ETH", is0x)), lower(lines("USDT", is0x)))},
		{"eth", []string{"phishing", "hacking"}, set(phish)},
		{"USDT", []string{"sanction"}, set(lower(lines("USDT", is0x)), lines("USDT", func(l string) bool { return !is0x(l) }))},
		// The TRON address OFAC lists as XBT is flagged, so left out.
		{"XBT", []string{"sanction"}, set(lines("XBT", func(l string) bool { return !strings.HasPrefix(l, "T") }))},
		{"ETH", []string{"ransomware"}, nil},
	} {
		got, err := s.AddressesWith(ctx0, c.cur, c.concepts)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != strings.Join(c.want, ",") {
			t.Errorf("%s %v: %d addresses, want %d", c.cur, c.concepts, len(got), len(c.want))
		}
	}
	// hacking alone: Bancor Hacker in, a Fake_Phishing row out.
	hack, err := s.AddressesWith(ctx0, "ETH", []string{"hacking"})
	if err != nil {
		t.Fatal(err)
	}
	if i := sort.SearchStrings(hack, "0xbceaa0040764009fdcff407e82ad1f06465fd2c4"); i == len(hack) || hack[i] != "0xbceaa0040764009fdcff407e82ad1f06465fd2c4" {
		t.Fatal("Bancor Hacker missing")
	}
	if i := sort.SearchStrings(hack, "0x26a40e8dbdb0dee17d7036fcc0a2ae3fecf4800d"); i < len(hack) && hack[i] == "0x26a40e8dbdb0dee17d7036fcc0a2ae3fecf4800d" {
		t.Fatal("a phishing row counted as hacking")
	}
	for _, bad := range [][]string{nil, {"exchanges"}, {""}} {
		if _, err := s.AddressesWith(ctx0, "ETH", bad); err == nil || !IsInvalid(err) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, err := s.AddressesWith(ctx0, " ", []string{"exchange"}); err == nil || !IsInvalid(err) {
		t.Errorf("empty currency: %v", err)
	}
}
