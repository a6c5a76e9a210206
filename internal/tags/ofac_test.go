package tags

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var (
	xbtList  = filepath.Join("testdata", "ofac-0xB10C", "sanctioned_addresses_XBT.txt")
	sdnCSV   = filepath.Join("testdata", "ofac-sdn-csv", "sdn_csv_digital_currency_rows_2021.csv")
	sdnCom   = filepath.Join("testdata", "ofac-sdn-csv", "sdn_comments_digital_currency_rows_2025.csv")
	sdnXML   = filepath.Join("testdata", "ofac-xml", "sdn_advanced_fixture.xml")
	xbtInCSV = regexp.MustCompile(`- XBT ([0-9A-Za-z]+)`)
)

// sanctionedBTC returns the BTC addresses with a sanctioned tag of the pack.
func sanctionedBTC(t *testing.T, s *Store, pack string) map[string]Tag {
	t.Helper()
	out := map[string]Tag{}
	for _, tg := range packTags(t, s, pack) {
		if tg.Currency != "BTC" {
			continue
		}
		if !tg.Sanctioned || tg.Abuse != "sanction" || tg.Confidence != "authority_data" || tg.ConfidenceLevel != 60 {
			t.Fatalf("%s: %+v", pack, tg)
		}
		out[tg.Address] = tg
	}
	return out
}

func TestOFACList(t *testing.T) {
	s := openStore(t, Options{})
	res := mustImport(t, s, filepath.Join("testdata", "ofac-0xB10C"), "")
	if len(res) != 17 {
		t.Fatalf("%d results", len(res))
	}
	for _, r := range res {
		if r.Format != FormatOFACList || r.Status != StatusImported {
			t.Fatalf("%+v", r)
		}
	}
	// Every line of the XBT list, counted without the parser, is a
	// sanctioned BTC tag.
	var lines []string
	for _, l := range strings.Split(string(readFile(t, xbtList)), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	got := sanctionedBTC(t, s, "sanctioned_addresses_XBT.txt")
	if len(lines) != 435 || len(got) != 435 || result(t, res, "sanctioned_addresses_XBT.txt").Tags != 435 {
		t.Fatalf("%d lines, %d tags", len(lines), len(got))
	}
	for _, l := range lines {
		tg, ok := got[NormalizeAddress(l)]
		if !ok {
			t.Fatalf("%s not tagged", l)
		}
		if (tg.AddressProblem != "") != (l == "TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq") {
			t.Fatalf("%+v", tg)
		}
	}
	// ETH addresses keep their list's ticker as currency and are lower-cased.
	by, err := s.ByAddress(ctx0, []string{"0x8589427373D6D84E98730D7795D8f6f8731FDA16"})
	if err != nil || len(by) != 1 || !by["0x8589427373D6D84E98730D7795D8f6f8731FDA16"][0].Sanctioned {
		t.Fatalf("%+v %v", by, err)
	}

	// Every BTC address of GraphSense's ofac.yaml (385, found by a regular
	// expression over the file) is in the XBT list (shared/data/SOURCES.md).
	pairs := regexp.MustCompile(`- address: (\S+)\n\s+currency: BTC`).FindAllStringSubmatch(string(readFile(t, filepath.Join(packDir, "ofac.yaml"))), -1)
	if len(pairs) != 385 {
		t.Fatalf("%d BTC addresses in ofac.yaml", len(pairs))
	}
	mustImport(t, s, filepath.Join(packDir, "ofac.yaml"), FormatTagPack)
	addrs := make([]string, len(pairs))
	for i, p := range pairs {
		addrs[i] = p[1]
	}
	by, err = s.ByAddress(ctx0, addrs)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range addrs {
		packs := map[string]bool{}
		for _, tg := range by[a] {
			packs[tg.Pack.Name] = tg.Sanctioned
		}
		if !packs["ofac.yaml"] || !packs["sanctioned_addresses_XBT.txt"] {
			t.Fatalf("%s: %v", a, packs)
		}
	}
}

// expectedXBT reads the SDN.CSV remarks with encoding/csv, appends the
// SDN_COMMENTS.CSV text of the same ent_num, and finds the XBT addresses
// with a regular expression: a method independent of the importer's.
func expectedXBT(t *testing.T, sdn, comments string) map[string]bool {
	t.Helper()
	text := map[string]string{}
	var order []string
	read := func(path string, col int) {
		if path == "" {
			return
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		recs, err := csv.NewReader(f).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if _, ok := text[r[0]]; !ok {
				order = append(order, r[0])
			}
			text[r[0]] += r[col]
		}
	}
	read(sdn, 11)
	read(comments, 1)
	out := map[string]bool{}
	for _, ent := range order {
		for _, m := range xbtInCSV.FindAllStringSubmatch(text[ent], -1) {
			if len(m[1]) >= 26 { // an address cut at the end of a lone SDN.CSV is not one
				out[m[1]] = true
			}
		}
	}
	return out
}

func TestOFACCSVTogether(t *testing.T) {
	s := openStore(t, Options{})
	res := mustImport(t, s, filepath.Join("testdata", "ofac-sdn-csv"), "")
	for _, r := range res {
		if r.Format != FormatOFACCSV || r.Status != StatusImported || r.Err != nil {
			t.Fatalf("%+v", r)
		}
	}
	want := expectedXBT(t, sdnCSV, sdnCom)
	got := sanctionedBTC(t, s, filepath.Base(sdnCSV))
	for a, tg := range sanctionedBTC(t, s, filepath.Base(sdnCom)) {
		got[a] = tg
	}
	if len(want) != 282 || !sameKeys(got, want) {
		t.Fatalf("got %d BTC addresses, want %d: %v", len(got), len(want), diff(got, want))
	}
	// Cross-source: every one of them is in 0xB10C's list from sdn_advanced.xml.
	list := map[string]bool{}
	for _, l := range strings.Fields(string(readFile(t, xbtList))) {
		list[l] = true
	}
	for a := range got {
		if !list[a] {
			t.Errorf("%s is not in the XBT list", a)
		}
	}
	// The address that SDN.CSV cut ("…XBT 1Gq") is read whole, in the SDN
	// file's pack at the SDN row's line, labelled with the SDN name.
	tg := got["1GqChmWqGtsaLrGbHfgdrV5Nkvahtjjuxr"]
	if tg.Label != "SECONDEYE SOLUTION" || tg.Pack.Name != filepath.Base(sdnCSV) || tg.Line != 12 ||
		tg.Source != "https://sanctionssearch.ofac.treas.gov/Details.aspx?id=30518" || !strings.Contains(tg.Context, `"ent_num":30518`) {
		t.Fatalf("%+v", tg)
	}
	tg = got["12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"]
	if tg.Label != "YAN, Xiaobing" || tg.Line != 1 || tg.Creator != "US Treasury OFAC" || tg.Context != `{"ent_num":25308,"sdn_type":"individual","program":"SDNTK","part":"sdn"}` {
		t.Fatalf("%+v", tg)
	}
	// "…Digital Currency Addres" + "s - ETH 0x8576…": joined too.
	by, err := s.ByAddress(ctx0, []string{"0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c"})
	if err != nil || len(by) != 1 || by["0x8576acc5c05d6ce88f4e49bf65bdf0c62f91353c"][0].Label != "ANDREYEV, Anton Nikolaeyvich" {
		t.Fatalf("%+v %v", by, err)
	}
	// An entry of the comments file whose SDN row is not in the excerpt.
	tg = got["bc1qllmlvy5u038yvwyw42ffgdnp4pvy5wwhsjvlpa"]
	if tg.Pack.Name == "" {
		for a, x := range got {
			if strings.HasPrefix(a, "bc1qllmlvy5u038yvwyw") {
				tg = x
			}
		}
	}
	if tg.Label != "OFAC SDN entry 43421" || tg.Pack.Name != filepath.Base(sdnCom) || tg.Line != 11 {
		t.Fatalf("%+v", tg)
	}
	// OFAC's ETH typo (39 hex digits) is kept and flagged.
	by, err = s.ByAddress(ctx0, []string{"0xa7e5d5a720f06526557c513402f2e6b5fa20b00"})
	if err != nil || len(by) != 1 || by["0xa7e5d5a720f06526557c513402f2e6b5fa20b00"][0].AddressProblem == "" {
		t.Fatalf("%+v %v", by, err)
	}
	// Again: both unchanged.
	res = mustImport(t, s, filepath.Join("testdata", "ofac-sdn-csv"), "")
	for _, r := range res {
		if r.Status != StatusUnchanged {
			t.Fatalf("%+v", r)
		}
	}
}

func TestOFACCSVSeparately(t *testing.T) {
	s := openStore(t, Options{})
	// SDN.CSV alone: the address cut at the 1000-character limit is not
	// imported, and the result says so.
	res := mustImport(t, s, sdnCSV, "")
	r := res[0]
	if r.Status != StatusImported || r.Format != FormatOFACCSV || len(r.Notes) != 5 {
		t.Fatalf("%+v", r)
	}
	if !strings.Contains(strings.Join(r.Notes, "\n"), "sdn_csv_digital_currency_rows_2021.csv:12: the remarks of ent_num 30518 reach SDN.CSV's 1000-character limit") ||
		!strings.Contains(r.Notes[4], `sdn_csv_digital_currency_rows_2021.csv:10: invalid ETH address "0xa7e5d5a720f06526557c513402f2e6b5fa20b00"`) {
		t.Fatalf("%q", r.Notes)
	}
	want := expectedXBT(t, sdnCSV, "")
	got := sanctionedBTC(t, s, filepath.Base(sdnCSV))
	if len(want) != 61 || !sameKeys(got, want) {
		t.Fatalf("got %d, want %d: %v", len(got), len(want), diff(got, want))
	}
	// SDN_COMMENTS.CSV alone, later: names of stored SDN rows are used;
	// entries cut at the start are noted.
	res = mustImport(t, s, sdnCom, FormatOFACCSV)
	r = res[0]
	if r.Status != StatusImported || len(r.Notes) != 7 {
		t.Fatalf("%+v", r)
	}
	by, err := s.ByAddress(ctx0, []string{"18Ke1QWE9nQfXuhJijHggZuPJ5ZYxapoBK"})
	if err != nil || len(by) != 1 || by["18Ke1QWE9nQfXuhJijHggZuPJ5ZYxapoBK"][0].Label != "SECONDEYE SOLUTION" {
		t.Fatalf("%+v %v", by, err)
	}
	// "rency Address - XBT bc1q…" at the start of a comment is recovered.
	for a, tg := range sanctionedBTC(t, s, filepath.Base(sdnCom)) {
		if strings.HasPrefix(a, "bc1qllmlvy5u038yvwyw") && tg.Line != 11 {
			t.Fatalf("%+v", tg)
		}
	}
}

func TestOFACXML(t *testing.T) {
	s := openStore(t, Options{})
	res := mustImport(t, s, sdnXML, "")
	r := res[0]
	// The addresses, found without the parser: VersionDetail texts of the
	// features whose type the fixture declares a digital currency address.
	raw := string(readFile(t, sdnXML))
	types := map[string]string{}
	for _, m := range regexp.MustCompile(`<FeatureType ID="(\d+)"[^>]*>Digital Currency Address - (\w+)<`).FindAllStringSubmatch(raw, -1) {
		types[m[1]] = m[2]
	}
	feats := regexp.MustCompile(`FeatureTypeID="(\d+)">\s*<FeatureVersion[^>]*>\s*<Comment />\s*<VersionDetail[^>]*>([^<]+)</VersionDetail>`).FindAllStringSubmatch(raw, -1)
	var want []string
	for _, m := range feats {
		if tk, ok := types[m[1]]; ok {
			want = append(want, tk+" "+m[2])
		}
	}
	if r.Format != FormatOFACXML || r.Status != StatusImported || r.Tags != len(want) || len(want) != 26 {
		t.Fatalf("%+v, want %d tags", r, len(want))
	}
	var got []string
	list := map[string]bool{}
	for _, l := range strings.Fields(string(readFile(t, xbtList))) {
		list[l] = true
	}
	for _, tg := range packTags(t, s, "sdn_advanced_fixture.xml") {
		if !tg.Sanctioned || tg.Abuse != "sanction" || tg.LastMod != "2021-07-07" || tg.Pack.Format != FormatOFACXML {
			t.Fatalf("%+v", tg)
		}
		tk := tg.Currency
		if tk == "BTC" {
			tk = "XBT"
			if !list[tg.Address] {
				t.Errorf("%s not in the XBT list", tg.Address)
			}
		}
		got = append(got, tk+" "+tg.Address)
		switch {
		case strings.HasPrefix(tg.Context, `{"fixed_ref":"25308"`):
			if tg.Label != "YAN Xiaobing" || tg.Source != "https://sanctionssearch.ofac.treas.gov/Details.aspx?id=25308" {
				t.Fatalf("%+v", tg)
			}
		case strings.HasPrefix(tg.Context, `{"fixed_ref":"30518"`):
			if tg.Label != "SECONDEYE SOLUTION" {
				t.Fatalf("%+v", tg)
			}
		}
	}
	for i := range want {
		if strings.HasPrefix(want[i], "ETH ") {
			want[i] = strings.ToLower(want[i])
			want[i] = "ETH" + want[i][3:]
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Line of a tag: the VersionDetail's line.
	by, err := s.ByAddress(ctx0, []string{"12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(raw, "\n")
	if tg := by["12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h"][0]; !strings.Contains(lines[tg.Line-1], "12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h") {
		t.Fatalf("line %d: %q", tg.Line, lines[tg.Line-1])
	}
}

func TestOFACXMLHostile(t *testing.T) {
	cases := map[string]string{
		"root":      `<foo/>`,
		"undefined": `<Sanctions><ReferenceValueSets><FeatureTypeValues><FeatureType ID="1">Digital Currency Address - XBT</FeatureType></FeatureTypeValues></ReferenceValueSets><DistinctParties><DistinctParty FixedRef="1"><Profile><Feature ID="2" FeatureTypeID="9"/></Profile></DistinctParty></DistinctParties></Sanctions>`,
		"deep":      "<Sanctions>" + strings.Repeat("<a>", 100) + strings.Repeat("</a>", 100) + "</Sanctions>",
		"entity":    `<!DOCTYPE s [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><Sanctions>&b;</Sanctions>`,
		"truncated": `<Sanctions><ReferenceValueSets>`,
		"address":   `<Sanctions><ReferenceValueSets><FeatureTypeValues><FeatureType ID="1">Digital Currency Address - XBT</FeatureType></FeatureTypeValues></ReferenceValueSets><DistinctParties><DistinctParty FixedRef="1"><Profile><Feature ID="2" FeatureTypeID="1"><FeatureVersion><VersionDetail>not an` + "\x01" + `address</VersionDetail></FeatureVersion></Feature></Profile></DistinctParty></DistinctParties></Sanctions>`,
	}
	for name, doc := range cases {
		if _, err := parseOFACXML("x.xml", strings.NewReader(doc)); err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), "x.xml") {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func sameKeys(a map[string]Tag, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			return false
		}
	}
	return true
}

func diff(a map[string]Tag, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, "+"+k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "-"+k)
		}
	}
	sort.Strings(out)
	return out
}
