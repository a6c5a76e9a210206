package tags

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Real addresses: from ransomware.yaml, samourai.yaml and tornado_cash.yaml.
const plainGood = "address,label,category,source,confidence\r\n" +
	"1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78,7ev3n,ransomware,https://zenodo.org/record/1238041,forensic\r\n" +
	"BC1QNFU52L5VGG0GF2HW98EPFVUPVEEPNQ7TG5L75H,Samourai whirlpool,coinjoin,https://example.org/case/1,80\r\n" +
	"0x8589427373D6D84E98730D7795D8f6f8731FDA16,Tornado.Cash,mixing_service,https://home.treasury.gov/news/press-releases/jy0916,\r\n"

func TestPlainCSV(t *testing.T) {
	s := openStore(t, Options{})
	dir := t.TempDir()
	p := writeFile(t, dir, "case.csv", plainGood)
	if f, err := DetectFormat(p); err != nil || f != FormatCSV {
		t.Fatalf("detect %q %v", f, err)
	}
	res := mustImport(t, s, p, "")
	if r := res[0]; r.Format != FormatCSV || r.Status != StatusImported || r.Tags != 3 {
		t.Fatalf("%+v", r)
	}
	by, err := s.ByAddress(ctx0, []string{"1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78", "bc1qnfu52l5vgg0gf2hw98epfvupveepnq7tg5l75h", "0x8589427373d6d84e98730d7795d8f6f8731fda16"})
	if err != nil {
		t.Fatal(err)
	}
	r1 := by["1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"][0]
	if r1.Abuse != "ransomware" || r1.Category != "" || r1.Confidence != "forensic" || r1.ConfidenceLevel != 50 || r1.Currency != "BTC" || r1.Line != 2 || r1.Sanctioned {
		t.Fatalf("%+v", r1)
	}
	r2 := by["bc1qnfu52l5vgg0gf2hw98epfvupveepnq7tg5l75h"][0] // stored lower case, as the index prints it
	if r2.Address != "bc1qnfu52l5vgg0gf2hw98epfvupveepnq7tg5l75h" || r2.Category != "coinjoin" || r2.Confidence != "" || r2.ConfidenceLevel != 80 {
		t.Fatalf("%+v", r2)
	}
	r3 := by["0x8589427373d6d84e98730d7795d8f6f8731fda16"][0]
	if r3.Currency != "ETH" || r3.Confidence != DefaultConfidence || r3.ConfidenceLevel != 5 || !r3.Sanctioned || r3.Line != 4 {
		t.Fatalf("%+v", r3)
	}
	before := count(t, s)

	// An invalid address at line 4: the error names file:4 and nothing of
	// the file is stored.
	bad := "address,label,category,source\n" +
		"1BoatSLRHtKNngkdXEeobR76b53LETtpyT,Slush pool,miner,https://example.org\n" +
		"3K35dyL85fR9ht7UgzPfd1gLRRXQtNTqE3,OFAC,,https://example.org\n" +
		"1BoatSLRHtKNngkdXEeobR76b53LETtpyX,typo,exchange,https://example.org\n"
	p = writeFile(t, dir, "bad.csv", bad)
	res, err = s.Import(ctx0, p, "", t0)
	if err == nil || !strings.Contains(err.Error(), `bad.csv:4: invalid BTC address "1BoatSLRHtKNngkdXEeobR76b53LETtpyX"`) || !errors.Is(err, chain.ErrInvalid) {
		t.Fatalf("%v", err)
	}
	if res[0].Status != StatusFailed || res[0].Tags != 0 {
		t.Fatalf("%+v", res[0])
	}
	if n := count(t, s); n != before {
		t.Fatalf("count %d, was %d", n, before)
	}
	if by, _ := s.ByAddress(ctx0, []string{"1BoatSLRHtKNngkdXEeobR76b53LETtpyT"}); len(by) != 0 {
		t.Fatalf("line 2 of the bad file stored: %+v", by)
	}
	for body, want := range map[string]string{
		"address,label\n":                            "x.csv:1: the first line must be the header",
		"address,label,category,source\n1,a,b\n":     "x.csv:2: expected 4 columns, found 3",
		"address,label,category,source\n0x12,a,,s\n": `x.csv:2: invalid ETH address "0x12"`,
		"address,label,category,source\n" + "1BoatSLRHtKNngkdXEeobR76b53LETtpyT,a,exchnage,s\n":        `x.csv:2: unknown category "exchnage"`,
		"address,label,category,source,confidence\n" + "1BoatSLRHtKNngkdXEeobR76b53LETtpyT,a,,s,101\n": `x.csv:2: unknown confidence "101"`,
		"address,label,category,source\n" + "1BoatSLRHtKNngkdXEeobR76b53LETtpyT,,,s\n":                 `x.csv:2: empty label`,
		"address,label,category,source\n\"unclosed,a,b,c\n":                                            `x.csv:2: malformed CSV`,
	} {
		if _, err := parseCSV("x.csv", []byte(body)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", body, err, want)
		}
	}
}

// TestReimport: the same content again is a no-op; a changed file of the
// same name replaces its pack's tags, the others stay.
func TestReimport(t *testing.T) {
	s := openStore(t, Options{})
	dir := t.TempDir()
	for _, n := range []string{"lazarus.yaml", "lazarus2.yaml", "hydra.yaml"} {
		writeFile(t, dir, n, string(readFile(t, filepath.Join(packDir, n))))
	}
	res := mustImport(t, s, dir, "")
	n := count(t, s)
	if n != 21+6+117 {
		t.Fatalf("count %d", n)
	}
	res2 := mustImport(t, s, dir, "")
	for i, r := range res2 {
		if r.Status != StatusUnchanged || r.Tags != res[i].Tags || r.SHA256 != res[i].SHA256 {
			t.Fatalf("%+v", r)
		}
	}
	if count(t, s) != n {
		t.Fatal("count changed")
	}
	packs, _ := s.Packs(ctx0)
	// Change lazarus2.yaml: drop its last tag, relabel the rest.
	body := string(readFile(t, filepath.Join(dir, "lazarus2.yaml")))
	body = strings.Replace(body, "label: Lazarus group", "label: Lazarus Group (DPRK)", 1)
	body = body[:strings.LastIndex(body, "- address:")]
	writeFile(t, dir, "lazarus2.yaml", body)
	res3, err := s.ImportFiles(ctx0, []string{filepath.Join(dir, "lazarus2.yaml")}, "", t0)
	if err != nil || res3[0].Status != StatusReplaced || res3[0].Tags != 5 {
		t.Fatalf("%+v %v", res3, err)
	}
	if count(t, s) != n-1 {
		t.Fatalf("count %d", count(t, s))
	}
	packs2, _ := s.Packs(ctx0)
	for i := range packs {
		if packs[i].Name == "lazarus2.yaml" {
			if packs2[i].ID != packs[i].ID || packs2[i].SHA256 == packs[i].SHA256 || packs2[i].Tags != 5 {
				t.Fatalf("%+v", packs2[i])
			}
		} else if !reflect.DeepEqual(packs[i], packs2[i]) {
			t.Fatalf("%+v changed to %+v", packs[i], packs2[i])
		}
	}
	for _, tg := range packTags(t, s, "lazarus2.yaml") {
		if tg.Label != "Lazarus Group (DPRK)" {
			t.Fatalf("%+v", tg)
		}
	}
	// A changed file that is now invalid fails and leaves the old pack.
	writeFile(t, dir, "lazarus2.yaml", body+"- address: 3LU8wRu4ZnXP4UM8Yo6kkTiGHM9BubgyiG\n  category: nonsense\n")
	if _, err := s.ImportFiles(ctx0, []string{filepath.Join(dir, "lazarus2.yaml")}, "", t0); err == nil || !strings.Contains(err.Error(), "lazarus2.yaml:") {
		t.Fatal(err)
	}
	if count(t, s) != n-1 || len(packTags(t, s, "lazarus2.yaml")) != 5 {
		t.Fatal("a failed re-import changed the pack")
	}
	// Two files of one import with the same name: the second fails.
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	writeFile(t, sub, "hydra.yaml", string(readFile(t, filepath.Join(packDir, "hydra.yaml"))))
	res4, err := s.Import(ctx0, dir, "", t0)
	if err == nil || result(t, res4[3:], "hydra.yaml").Status != StatusFailed {
		t.Fatalf("%+v %v", res4, err)
	}
}

func TestFileTooLarge(t *testing.T) {
	s := openStore(t, Options{MaxFileBytes: 4096})
	res, err := s.Import(ctx0, filepath.Join(packDir, "ransomware.yaml"), "", t0)
	if err == nil || !strings.Contains(err.Error(), "too large") || res[0].Status != StatusFailed {
		t.Fatalf("%+v %v", res, err)
	}
	// Small files of the same folder import.
	res, err = s.Import(ctx0, packDir, "", t0)
	if err == nil {
		t.Fatal("no error for the large files")
	}
	if r := result(t, res, "binance.yaml"); r.Status != StatusImported || r.Tags != 2 {
		t.Fatalf("%+v", r)
	}
}

func TestDetectFormat(t *testing.T) {
	cases := map[string]Format{
		filepath.Join(packDir, "ofac.yaml"):                 FormatTagPack,
		filepath.Join(packDir, "graphsense.actorpack.yaml"): FormatActorPack,
		xbtList:                                 FormatOFACList,
		sdnXML:                                  FormatOFACXML,
		sdnCSV:                                  FormatOFACCSV,
		sdnCom:                                  FormatOFACCSV,
		filepath.Join("testdata", "SOURCES.md"): "",
	}
	for p, want := range cases {
		if got, err := DetectFormat(p); err != nil || got != want {
			t.Errorf("%s: %q %v, want %q", p, got, err, want)
		}
	}
	// A folder import lists what it skipped.
	s := openStore(t, Options{})
	res := mustImport(t, s, "testdata", FormatOFACXML)
	imported := 0
	for _, r := range res {
		switch r.Status {
		case StatusImported:
			imported++
			if r.Name != "sdn_advanced_fixture.xml" {
				t.Errorf("%+v", r)
			}
		case StatusSkipped:
		default:
			t.Errorf("%+v", r)
		}
	}
	if imported != 1 {
		t.Fatalf("%d imported", imported)
	}
	if _, err := s.Import(ctx0, filepath.Join("testdata", "SOURCES.md"), "", t0); err == nil || !IsInvalid(err) {
		t.Fatal(err)
	}
	if _, err := s.Import(ctx0, sdnXML, "pdf", t0); err == nil || !IsInvalid(err) {
		t.Fatal(err)
	}
}

// TestUserTags: user tags are validated like imports, stored in the pack
// "user", and export to a TagPack that imports back to the same tags.
func TestUserTags(t *testing.T) {
	s := openStore(t, Options{})
	mustImport(t, s, filepath.Join(packDir, "graphsense.actorpack.yaml"), "")
	good := []Tag{
		{Address: "BC1QNFU52L5VGG0GF2HW98EPFVUPVEEPNQ7TG5L75H", Currency: "btc", Label: "suspect's wallet", Category: "perpetrator",
			Abuse: "ransomware", Source: "case 2026/114, seized phone", Confidence: "forensic_investigation", Creator: "analyst.a",
			Context: `{"exhibit": "A-12", "note": "quoted \"text\""}`, IsClusterDefiner: true, Concepts: []string{"perpetrator", "ransomware"}},
		{Address: "0x098B716B8Aaf21512996dC57EB0615e2383E2f96", Currency: "ETH", Label: "Ronin bridge exploiter", Abuse: "service_hack",
			Source: "https://home.treasury.gov/news/press-releases/jy0731", Creator: "analyst.a", Actor: "lazarusgroup", LastMod: "2022-04-14"},
		{TxHash: "0x" + strings.Repeat("ab", 32), Currency: "ETH", Label: "ransom payment: yes", Source: "case 2026/114", Creator: "analyst.a",
			TagType: "event", Network: "ETH"},
		{Address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", Currency: "BTC", Label: "other analyst's", Source: "x", Creator: "analyst.b"},
	}
	for _, tg := range good {
		if err := s.AddUserTag(ctx0, tg, t0); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []Tag{
		{Address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", Currency: "BTC", Label: "x", Source: "y"},                                   // no creator
		{Address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyX", Currency: "BTC", Label: "x", Source: "y", Creator: "c"},                     // bad address
		{Address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", Currency: "BTC", Label: "x", Source: "y", Creator: "c", Category: "crook"},  // taxonomy
		{Address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", Currency: "BTC", Label: "x", Source: "y", Creator: "c", Confidence: "sure"}, // taxonomy
		{Address: "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", Currency: "BTC", Label: "x", Creator: "c"},                                  // no source
	} {
		if err := s.AddUserTag(ctx0, bad, t0); err == nil || !IsInvalid(err) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
	if n := count(t, s); n != 4 {
		t.Fatalf("count %d", n)
	}
	by, err := s.ByAddress(ctx0, []string{"bc1qnfu52l5vgg0gf2hw98epfvupveepnq7tg5l75h", "0x098b716b8aaf21512996dc57eb0615e2383e2f96"})
	if err != nil {
		t.Fatal(err)
	}
	u := by["bc1qnfu52l5vgg0gf2hw98epfvupveepnq7tg5l75h"][0]
	if u.Pack.Name != UserPack || u.Pack.Format != FormatUser || u.Line != 1 || u.Currency != "BTC" || u.ConfidenceLevel != 70 || u.LastMod != "2026-05-20" || u.Sanctioned {
		t.Fatalf("%+v", u)
	}
	if r := by["0x098b716b8aaf21512996dc57eb0615e2383e2f96"][0]; r.ActorLabel != "Lazarus Group" || !r.Sanctioned || r.Confidence != DefaultConfidence || r.Line != 2 {
		t.Fatalf("%+v", r)
	}

	var buf bytes.Buffer
	if err := s.ExportUserPack(ctx0, &buf, "analyst.a"); err != nil {
		t.Fatal(err)
	}
	if err := s.ExportUserPack(ctx0, &buf, "nobody"); !errors.Is(err, chain.ErrNotFound) {
		t.Fatal(err)
	}
	// Import the export into a fresh store and compare every field but the
	// pack and line.
	dir := t.TempDir()
	p := writeFile(t, dir, "analyst-a.yaml", buf.String())
	s2 := openStore(t, Options{})
	mustImport(t, s2, filepath.Join(packDir, "graphsense.actorpack.yaml"), "")
	res := mustImport(t, s2, p, "")
	if res[0].Format != FormatTagPack || res[0].Tags != 3 {
		t.Fatalf("%+v\n%s", res[0], buf.String())
	}
	orig := userTags(t, s, "analyst.a")
	back := userTags(t, s2, "analyst.a")
	if len(orig) != 3 || len(back) != 3 {
		t.Fatalf("%d %d", len(orig), len(back))
	}
	for i := range orig {
		o, b := orig[i], back[i]
		o.Pack, b.Pack, o.Line, b.Line = PackRef{}, PackRef{}, 0, 0
		if !reflect.DeepEqual(o, b) {
			ob, _ := json.Marshal(o)
			bb, _ := json.Marshal(b)
			t.Errorf("round trip:\n%s\n%s", ob, bb)
		}
	}
}

// userTags returns the tags of creator in store order (pack, line).
func userTags(t *testing.T, s *Store, creator string) []Tag {
	t.Helper()
	rows, err := s.db.Query(selectTags+` WHERE t.creator = ? ORDER BY p.name, t.line`, creator)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		tg, err := scanTag(rows)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tg)
	}
	// ActorLabel is resolved by ByAddress; resolve it the same way here.
	for i := range out {
		if out[i].Actor != "" {
			as, err := s.Actors(ctx0, []string{out[i].Actor})
			if err != nil {
				t.Fatal(err)
			}
			out[i].ActorLabel = as[out[i].Actor].Label
		}
	}
	return out
}

func TestConflicts(t *testing.T) {
	tag := func(pack, cat, abuse, actor string) Tag {
		return Tag{Category: cat, Abuse: abuse, Actor: actor, Pack: PackRef{Name: pack}}
	}
	cases := []struct {
		name string
		tags []Tag
		want []Conflict
	}{
		{"exchange vs ransomware", []Tag{tag("a", "exchange", "", ""), tag("b", "", "ransomware", "")},
			[]Conflict{{Kind: ConflictCategoryAbuse, Values: []string{"exchange", "ransomware"}, Tags: []int{0, 1}, Packs: []string{"a", "b"}}}},
		{"exchange vs mixer", []Tag{tag("a", "exchange", "", ""), tag("b", "mixing_service", "", ""), tag("c", "service", "", "")},
			[]Conflict{{Kind: ConflictCategory, Values: []string{"exchange", "mixing_service"}, Tags: []int{0, 1}, Packs: []string{"a", "b"}}}},
		{"kinds agree", []Tag{tag("a", "exchange", "", ""), tag("b", "service", "", ""), tag("c", "user", "", ""), tag("d", "defi_dex", "", ""), tag("e", "defi", "", "")},
			[]Conflict{{Kind: ConflictCategory, Values: []string{"defi", "defi_dex", "exchange"}, Tags: []int{0, 3, 4}, Packs: []string{"a", "d", "e"}}}},
		{"abuses", []Tag{tag("a", "", "ransomware", ""), tag("b", "", "extortion", ""), tag("c", "", "ponzi_scheme", "")},
			[]Conflict{{Kind: ConflictAbuse, Values: []string{"extortion", "ponzi_scheme", "ransomware"}, Tags: []int{0, 1, 2}, Packs: []string{"a", "b", "c"}}}},
		{"sanctioned exchange", []Tag{tag("a", "exchange", "", "garantex"), tag("b", "user", "sanction", "garantex"), tag("c", "", "black_list", "")}, nil},
		{"one tag", []Tag{tag("a", "exchange", "scam", "")}, nil},
		{"actors", []Tag{tag("a", "exchange", "", "binance"), tag("b", "exchange", "", "huobi"), tag("c", "exchange", "", "")},
			[]Conflict{{Kind: ConflictActor, Values: []string{"binance", "huobi"}, Tags: []int{0, 1}, Packs: []string{"a", "b"}}}},
		{"usage is not a category", []Tag{tag("a", "exchange", "", ""), tag("b", "coinjoin", "", ""), {Concepts: []string{"cold_wallet"}, Pack: PackRef{Name: "c"}}}, nil},
	}
	for _, c := range cases {
		if got := Conflicts(c.tags); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
	// Real data: two packs agree on 35hK24tcLEWcgNA4JxpvbkNkoAcDGqQPsP
	// (Huobi, exchange); the XBT list and ofac.yaml agree on a sanctioned one.
	s := openStore(t, Options{})
	mustImport(t, s, packDir, "")
	by, err := s.ByAddress(ctx0, []string{"35hK24tcLEWcgNA4JxpvbkNkoAcDGqQPsP", "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"})
	if err != nil {
		t.Fatal(err)
	}
	if ts := by["35hK24tcLEWcgNA4JxpvbkNkoAcDGqQPsP"]; len(ts) < 2 || Conflicts(ts) != nil {
		t.Fatalf("%d tags, %+v", len(ts), Conflicts(ts))
	}
	// And an analyst who calls a ransomware address an exchange is flagged.
	ts := append(by["1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"], Tag{Category: "exchange", Pack: PackRef{Name: UserPack}})
	if cs := Conflicts(ts); len(cs) != 1 || cs[0].Kind != ConflictCategoryAbuse || !reflect.DeepEqual(cs[0].Packs, []string{"ransomware.yaml", "ransomwhere.yaml", UserPack}) {
		t.Fatalf("%+v", cs)
	}
}

func TestSanctionedRule(t *testing.T) {
	for src, want := range map[string]bool{
		"https://home.treasury.gov/policy-issues/financial-sanctions/recent-actions/20220808": true,
		"https://www.treasury.gov/ofac/downloads/sdnlist.txt":                                 true,
		"https://ofac.treasury.gov/recent-actions/20231129":                                   true,
		"https://sanctionssearch.ofac.treas.gov/Details.aspx?id=306":                          true,
		"www.treasury.gov/resource-center":                                                    true,
		"https://treasury.gov.evil.example/":                                                  false,
		"https://example.org/treasury.gov":                                                    false,
		"https://www.fbi.gov/news":                                                            false,
		"":                                                                                    false,
	} {
		tg := Tag{Source: src}
		if got := isSanctioned(FormatTagPack, &tg); got != want {
			t.Errorf("%q: %v", src, got)
		}
	}
	if !isSanctioned(FormatOFACList, &Tag{}) || !isSanctioned(FormatCSV, &Tag{Abuse: "sanction"}) || isSanctioned(FormatCSV, &Tag{Abuse: "black_list"}) {
		t.Fatal("format or concept rule")
	}
}

func TestNormalizeAddress(t *testing.T) {
	for in, want := range map[string]string{
		" BC1QNFU52L5VGG0GF2HW98EPFVUPVEEPNQ7TG5L75H ": "bc1qnfu52l5vgg0gf2hw98epfvupveepnq7tg5l75h",
		"0xAbC0000000000000000000000000000000000001":   "0xabc0000000000000000000000000000000000001",
		"1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78":           "1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78",
		"tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx":   "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx",
		"TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq":           "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq",
	} {
		if got := NormalizeAddress(in); got != want {
			t.Errorf("%q: %q", in, got)
		}
	}
	if _, ok := normAddress("BTC", "tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx"); !ok {
		t.Error("testnet address rejected")
	}
	if _, ok := normAddress("XMR", "a b"); ok {
		t.Error("space accepted")
	}
}

func TestOpen(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a dir?#%20")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tags.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := s.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q %v", mode, err)
	}
	mustImport(t, s, filepath.Join(packDir, "lazarus.yaml"), "")
	s.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at the path given: %v", err)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, s); n != 21 {
		t.Fatalf("reopened with %d tags", n)
	}
	if _, err := s.db.Exec(`UPDATE meta SET value = '99' WHERE key = 'schema'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "schema version 99") {
		t.Fatal(err)
	}
	if _, err := Open("", Options{}); !IsInvalid(err) {
		t.Fatal(err)
	}
}
