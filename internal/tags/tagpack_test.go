package tags

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// TestRealPacks imports real GraphSense packs one by one and checks counts
// (counted from the files independently), inherited header fields, tag
// overrides, actor labels and the sanctioned rule.
func TestRealPacks(t *testing.T) {
	s := openStore(t, Options{})
	// The ActorPack first, so that actor labels resolve; the order does
	// not matter for the store (labels are joined at query time).
	res := mustImport(t, s, filepath.Join(packDir, "graphsense.actorpack.yaml"), "")
	if r := res[0]; r.Format != FormatActorPack || r.Status != StatusImported || r.Actors != 3813 {
		t.Fatalf("actorpack: %+v", r)
	}
	if n := len(regexp.MustCompile(`(?m)^- id:`).FindAll(readFile(t, filepath.Join(packDir, "graphsense.actorpack.yaml")), -1)); n != 3813 {
		t.Fatalf("independent actor count %d", n)
	}
	for _, name := range []string{"ofac.yaml", "ransomware.yaml", "ransomwhere.yaml", "exchange-wallets-binance.yaml", "exchange-wallets-bybit.yaml", "lazarus.yaml"} {
		path := filepath.Join(packDir, name)
		res := mustImport(t, s, path, "")
		want := addressLines(t, path)
		if r := res[0]; r.Status != StatusImported || r.Format != FormatTagPack || r.Tags != want || r.Err != nil {
			t.Fatalf("%s: %+v, want %d tags", name, r, want)
		}
		if got := len(packTags(t, s, name)); got != want {
			t.Fatalf("%s: %d tags by address, want %d", name, got, want)
		}
	}
	// Hard numbers checked by hand against the files (and SOURCES.md).
	for name, n := range map[string]int{"ofac.yaml": 572, "ransomware.yaml": 7178, "ransomwhere.yaml": 7457, "exchange-wallets-binance.yaml": 86, "lazarus.yaml": 21} {
		if got := addressLines(t, filepath.Join(packDir, name)); got != n {
			t.Errorf("%s: %d address lines, want %d", name, got, n)
		}
	}
	if got := count(t, s); got != 572+7178+7457+86+8+21 {
		t.Fatalf("count %d", got)
	}

	// ransomware.yaml: every tag inherits the header.
	for _, tg := range packTags(t, s, "ransomware.yaml") {
		if tg.Abuse != "ransomware" || tg.Currency != "BTC" || tg.Confidence != "forensic" || tg.ConfidenceLevel != 50 ||
			tg.Source != "https://zenodo.org/record/1238041#.XLQwopMzZR4" || tg.Creator != "Paquet-Clouston et al." ||
			tg.LastMod != "2021-11-14" || tg.Sanctioned || tg.Pack.Title != "Ransomware Tagpack" ||
			tg.Pack.Format != FormatTagPack || len(tg.Pack.SHA256) != 64 || tg.Label == "" || tg.Line < 10 {
			t.Fatalf("ransomware tag %+v", tg)
		}
	}
	by, err := s.ByAddress(ctx0, []string{"1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"})
	if err != nil {
		t.Fatal(err)
	}
	// Both ransomware packs tag it: every tag comes back, by pack name.
	if ts := by["1Lud76Q98VRHCUiyK7XUs7AgFofrqXeP78"]; len(ts) != 2 || ts[0].Label != "7ev3n" || ts[0].Line != 10 ||
		ts[0].Pack.Name != "ransomware.yaml" || ts[1].Pack.Name != "ransomwhere.yaml" || ts[1].Source != "https://ransomwhe.re/" || ts[1].Line != 21492 {
		t.Fatalf("first ransomware tag %+v", ts)
	}

	// exchange-wallets-bybit.yaml: one tag overrides the header's source.
	for _, tg := range packTags(t, s, "exchange-wallets-bybit.yaml") {
		wantSource := "https://blog.bybit.com/en-US/post/statement-from-ben-on-bybit-s-wallets-bltfb7a70c50462875b/"
		if tg.Address == "1GrwDkr33gT6LuumniYjKEGjTLhsL5kmqC" {
			wantSource = "https://www.bybithelp.com/bybitHC_Article?id=000001880"
			if tg.Line != 17 {
				t.Errorf("bybit line %d", tg.Line)
			}
		}
		if tg.Source != wantSource || tg.Label != "Bybit reserve wallets" || tg.Category != "exchange" || tg.Actor != "bybit" ||
			tg.ActorLabel == "" || tg.ConfidenceLevel != 50 || tg.LastMod != "2022-11-17" {
			t.Fatalf("bybit tag %+v", tg)
		}
	}

	// Actor labels come from the ActorPack; EVM addresses are stored lower
	// case and found whatever the case of the query.
	by, err = s.ByAddress(ctx0, []string{"0xBE0EB53F46CD790CD13851D5EFF43D12404D33E8", "134r8iHv69xdT6p5qVKTsHrcUEuBVZAYak"})
	if err != nil {
		t.Fatal(err)
	}
	bin := by["0xBE0EB53F46CD790CD13851D5EFF43D12404D33E8"]
	// The pack tags that address four times (ETH, BUSD, BNB on BEP20, BNB),
	// in file order; the BEP20 one is lower-cased as well.
	if len(bin) != 4 || bin[0].Address != "0xbe0eb53f46cd790cd13851d5eff43d12404d33e8" || bin[0].Actor != "binance" ||
		bin[0].ActorLabel != "Binance" || bin[0].Currency != "ETH" || bin[0].Label != "binance reserve wallets ETH" ||
		bin[1].Line != 121 || bin[2].Currency != "BEP20" || bin[2].Address != bin[0].Address || bin[3].Line != 262 {
		t.Fatalf("binance %+v", bin)
	}
	laz := by["134r8iHv69xdT6p5qVKTsHrcUEuBVZAYak"]
	// lazarus.yaml (sanctioned by its abuse, "sanction") and ofac.yaml
	// (sanctioned by its treasury.gov source) both tag it.
	if len(laz) != 2 || laz[1].Pack.Name != "ofac.yaml" || !laz[1].Sanctioned || laz[1].Abuse != "" || laz[0].ActorLabel != "Lazarus Group" || laz[0].Category != "user" || laz[0].Abuse != "sanction" || !laz[0].Sanctioned ||
		laz[0].Confidence != "authority_data" || laz[0].ConfidenceLevel != 60 {
		t.Fatalf("lazarus %+v", laz)
	}
	as, err := s.Actors(ctx0, []string{"lazarusgroup"})
	if err != nil {
		t.Fatal(err)
	}
	if a := as["lazarusgroup"]; a.Label != "Lazarus Group" || a.URI != "https://home.treasury.gov/news/press-releases/sm774" || a.Pack.Name != "graphsense.actorpack.yaml" || a.Line != 28782 {
		t.Fatalf("actor %+v", a)
	}

	// ofac.yaml has no confidence: the tool's default, "unknown" (5). Its
	// source is treasury.gov, so every tag is sanctioned.
	for _, tg := range packTags(t, s, "ofac.yaml") {
		if tg.Confidence != DefaultConfidence || tg.ConfidenceLevel != 5 || !tg.Sanctioned || tg.Creator != "INTERPOL CNTL" ||
			tg.Label != "Asset listed under US Treasury OFAC Sanctions List" {
			t.Fatalf("ofac.yaml tag %+v", tg)
		}
	}
	for _, tg := range packTags(t, s, "ransomwhere.yaml") {
		if tg.Currency != "BTC" || tg.Abuse != "ransomware" || tg.Sanctioned {
			t.Fatalf("ransomwhere tag %+v", tg)
		}
	}
}

// TestAllRealPacks imports the whole folder of real packs: every one
// imports without error, with as many tags as the file has address lines,
// and the only addresses flagged are the known defects of the data.
func TestAllRealPacks(t *testing.T) {
	s := openStore(t, Options{})
	res := mustImport(t, s, packDir, "")
	entries, err := os.ReadDir(packDir)
	if err != nil {
		t.Fatal(err)
	}
	// 43 TagPacks (shared/data/SOURCES.md says 42; the folder holds 43)
	// and the ActorPack.
	if len(res) != len(entries) || len(entries) != 44 {
		t.Fatalf("%d results for %d files", len(res), len(entries))
	}
	total := 0
	for _, r := range res {
		if r.Err != nil || r.Status != StatusImported {
			t.Errorf("%s: %+v", r.Name, r)
			continue
		}
		if r.Name == "graphsense.actorpack.yaml" {
			if r.Format != FormatActorPack || r.Actors != 3813 {
				t.Errorf("%+v", r)
			}
			continue
		}
		if want := addressLines(t, r.Path); r.Format != FormatTagPack || r.Tags != want {
			t.Errorf("%s: %d tags, the file has %d address lines", r.Name, r.Tags, want)
		}
		total += r.Tags
	}
	if got := count(t, s); got != total || total != 58792 {
		t.Fatalf("count %d, results %d, want 58792", got, total)
	}
	rows, err := s.db.Query(`SELECT p.name, t.line, t.address FROM tags t JOIN packs p ON p.id = t.pack_id WHERE t.address_problem <> '' ORDER BY p.name, t.line`)
	if err != nil {
		t.Fatal(err)
	}
	var flagged []string
	for rows.Next() {
		var n, a string
		var l int
		if err := rows.Scan(&n, &l, &a); err != nil {
			t.Fatal(err)
		}
		flagged = append(flagged, n+":"+itoa(l)+" "+a)
	}
	rows.Close()
	want := []string{
		"etherscamdb_tagpack.yaml:15521 1Mn386ue8o3mW9866octLNP8HFqcYsphJCV",
		"exchange-wallets-bitfinexcom.yaml:82 VJLAYX5DZX1KuCBvAdR8ob6S9yLpyhc4y5gCyRoVDEYMZVCszi58rkwpytX3WAtx2e8sB4pRpSwR153Z (AMP ID: GA3fBygpY36J6tbgEBD661dy74Mxeg)",
		"ofac.yaml:1069 TUCsTq7TofTCJRRoHk6RvhMoS2mJLm5Yzq",
		"plustoken.yaml:11 1MFgcyJ7ZNSknbTBRaih6zWDE6V1A64tRYs",
		"plustoken.yaml:31 14bwh6gmvol5ntwbvxqjkjdtzv4y5ebtvm",
	}
	if strings.Join(flagged, "\n") != strings.Join(want, "\n") {
		t.Fatalf("flagged addresses:\n%s\nwant:\n%s", strings.Join(flagged, "\n"), strings.Join(want, "\n"))
	}
	if n := result(t, res, "plustoken.yaml").Notes; len(n) != 2 || !strings.Contains(n[0], "plustoken.yaml:11: invalid BTC address") {
		t.Fatalf("notes %q", n)
	}
	// The categories, abuses and confidences of the real packs are all in
	// the taxonomy (else the import would have failed); spot-check those
	// the older tagpack-tool lists lacked.
	for _, q := range []struct{ col, val string }{{"category", "black_list"}, {"confidence", "ledger_immanent"}, {"abuse", "terrorism"}} {
		var n int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM tags WHERE `+q.col+` = ?`, q.val).Scan(&n); err != nil || n == 0 {
			t.Errorf("%s %s: %d, %v", q.col, q.val, n, err)
		}
	}
	packs, err := s.Packs(ctx0)
	if err != nil || len(packs) != 44 || packs[0].Name != "africrypt-hack.yaml" || packs[0].Tags != 1 || packs[0].ImportedAt != "2026-05-20T12:00:00Z" {
		t.Fatalf("packs %+v %v", packs[:1], err)
	}
}

func itoa(n int) string { return strings.TrimSpace(strings.Repeat(" ", 0) + jsonNum(n)) }

func jsonNum(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestTagPackValidation: unknown taxonomy values, missing fields and bad
// values are errors with file and line, and nothing of the file is stored.
func TestTagPackValidation(t *testing.T) {
	head := "title: t\ncreator: c\nsource: https://example.org\ncurrency: BTC\n"
	cases := []struct{ name, body, want string }{
		{"category", head + "category: exchnage\ntags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n", `x.yaml:5: unknown category "exchnage"`},
		{"abuse", head + "tags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n  abuse: ransom\n", `x.yaml:8: unknown abuse "ransom"`},
		{"confidence", head + "confidence: sure\ntags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n", `x.yaml:5: unknown confidence "sure"`},
		{"concepts", head + "tags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n  concepts: [exchange, nope]\n", `x.yaml:8: unknown concept "nope"`},
		{"label", head + "tags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n", `x.yaml:6: tag: mandatory field "label" missing`},
		{"field", head + "tags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n  colour: red\n", `x.yaml:8: tag: field "colour" is not allowed`},
		{"title", "creator: c\ntags:\n- address: a\n", `x.yaml:1: TagPack header: mandatory field "title" missing`},
		{"lastmod", head + "lastmod: yesterday\ntags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n", `x.yaml:5: lastmod "yesterday" is not a date`},
		{"bool", head + "tags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n  is_cluster_definer: maybe\n", `x.yaml:8: is_cluster_definer: expected true or false`},
		{"duplicate", head + "title: again\ntags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: x\n", `x.yaml:5: duplicate key "title"`},
		{"address", head + "tags:\n- address: \"1Boat\\nSLRHtKNngkdXEeobR76b53LETtpyT\"\n  label: x\n", `x.yaml:6: invalid BTC address "1Boat\nSLRHtKNngkdXEeobR76b53LETtpyT"`},
		{"control", head + "tags:\n- address: 1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n  label: \"a\\0b\"\n", `x.yaml:7: label: not valid UTF-8 text or holds control characters`},
		{"empty", head + "tags: []\n", `x.yaml:5: tags: the list is empty`},
		{"txhash", head + "tags:\n- tx_hash: abc\n  label: x\n", `x.yaml:6: invalid transaction hash "abc"`},
	}
	s := openStore(t, Options{})
	dir := t.TempDir()
	for _, c := range cases {
		p := filepath.Join(dir, "x.yaml")
		if err := os.WriteFile(p, []byte(c.body), 0o644); err != nil {
			t.Fatal(err)
		}
		res, err := s.Import(ctx0, p, "", t0)
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, chain.ErrInvalid) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if len(res) != 1 || res[0].Status != StatusFailed || !strings.Contains(res[0].Error, c.want) {
			t.Errorf("%s: %+v", c.name, res)
		}
	}
	if n := count(t, s); n != 0 {
		t.Fatalf("%d tags stored from bad files", n)
	}
	if ps, err := s.Packs(ctx0); err != nil || len(ps) != 0 {
		t.Fatalf("packs stored from bad files: %+v %v", ps, err)
	}
	// An address of a published pack that does not validate for its
	// currency is kept as the source gives it, flagged, and noted.
	p := filepath.Join(dir, "flag.yaml")
	if err := os.WriteFile(p, []byte("title: t\ncreator: c\nsource: s\ncurrency: ETH\ntags:\n- address: '0x12'\n  label: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res := mustImport(t, s, p, "")
	if r := res[0]; r.Status != StatusImported || r.Tags != 1 || len(r.Notes) != 1 || !strings.Contains(r.Notes[0], `flag.yaml:6: invalid ETH address "0x12"`) {
		t.Fatalf("%+v", r)
	}
	by, err := s.ByAddress(ctx0, []string{"0x12"})
	if err != nil || len(by["0x12"]) != 1 || by["0x12"][0].AddressProblem == "" {
		t.Fatalf("flagged %+v %v", by, err)
	}
	// Tags on transactions are allowed; tx_hash is normalised.
	p = filepath.Join(dir, "tx.yaml")
	body := head + "tags:\n- tx_hash: 0000000000000000000000000000000000000000000000000000000000000ABC\n  label: payment\n"
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	mustImport(t, s, p, FormatTagPack)
	by, err = s.ByTx(ctx0, []string{"0000000000000000000000000000000000000000000000000000000000000abc"})
	if err != nil || len(by) != 1 {
		t.Fatalf("by tx %v %v", by, err)
	}
}
