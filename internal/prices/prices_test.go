package prices

import (
	"context"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)

// genSeries writes a year of daily closes in EUR and USD as a data vendor
// would: a seeded random walk in whole cents (no floats), the USD price at
// a drifting exchange rate, some days with sub-cent precision. It returns
// the file and every line's price by currency and day.
func genSeries(t *testing.T, dir, name string, seed uint64, header bool) (string, map[string]map[string]string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 7))
	want := map[string]map[string]string{"EUR": {}, "USD": {}}
	var b strings.Builder
	if header {
		b.WriteString("date,currency,price\n")
	}
	eurCents := big.NewInt(3_912_345) // 39,123.45 EUR
	for d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2024; d = d.AddDate(0, 0, 1) {
		step := rng.Int64N(240_001) - 120_000 // ±1,200.00 EUR a day
		eurCents.Add(eurCents, big.NewInt(step))
		eur := cents(eurCents)
		rate := 108_000 + rng.Int64N(2_000) // USD per EUR × 10^5
		usd := new(big.Rat).SetFrac(new(big.Int).Mul(eurCents, big.NewInt(rate)), big.NewInt(100*100_000))
		usdText := usd.FloatString(5) // exact: the denominator divides 10^7
		if d.Day() == 15 {
			usdText = usd.FloatString(18)
		}
		day := d.Format(time.DateOnly)
		fmt.Fprintf(&b, "%s,EUR,%s\n%s,USD,%s\n", day, eur, day, usdText)
		want["EUR"][day], want["USD"][day] = eur, usdText
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, want
}

func cents(c *big.Int) string {
	s := c.String()
	for len(s) < 3 {
		s = "0" + s
	}
	return s[:len(s)-2] + "." + s[len(s)-2:]
}

func open(t *testing.T, path string, opt Options) *Store {
	t.Helper()
	s, err := Open(path, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func day(s string) time.Time {
	d, err := ParseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestImportAndPrice(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, filepath.Join(dir, "prices.db"), Options{})
	path, want := genSeries(t, dir, "btc-2024.csv", 1, true)
	res, err := st.Import(ctx, path, "btc", now)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusImported || res.Asset != "BTC" || len(res.Series) != 2 || len(res.SHA256) != 64 {
		t.Fatalf("result %+v", res)
	}
	for _, s := range res.Series {
		if s.Days != 366 || s.First != "2024-01-01" || s.Last != "2024-12-31" || s.File != "btc-2024.csv" || s.SHA256 != res.SHA256 {
			t.Fatalf("series %+v", s)
		}
	}
	// Every day's price comes back exactly as written.
	for cur, days := range want {
		for d, text := range days {
			q, ok, err := st.Quote(ctx, "BTC", cur, day(d).Add(23*time.Hour))
			if err != nil || !ok || q.Price != text {
				t.Fatalf("%s %s: %+v %v %v, want %s", d, cur, q, ok, err, text)
			}
			r, ok, err := st.Price(ctx, "BTC", cur, day(d))
			w, _ := new(big.Rat).SetString(text)
			if err != nil || !ok || r.Cmp(w) != 0 {
				t.Fatalf("%s %s: price %v, want %s", d, cur, r, text)
			}
		}
	}
	// 18 decimals survive.
	q, _, _ := st.Quote(ctx, "BTC", "USD", day("2024-03-15"))
	if _, frac, _ := strings.Cut(q.Price, "."); len(frac) != 18 {
		t.Fatalf("the 15th's USD price %q lost its decimals", q.Price)
	}
	// No price: another day, currency or asset; no interpolation.
	for _, c := range []struct{ asset, cur, day string }{{"BTC", "EUR", "2025-01-01"}, {"BTC", "CHF", "2024-05-05"}, {"ETH", "EUR", "2024-05-05"}} {
		if r, ok, err := st.Price(ctx, c.asset, c.cur, day(c.day)); ok || err != nil || r != nil {
			t.Errorf("%v: %v %v %v", c, r, ok, err)
		}
	}
	if _, _, err := st.Price(ctx, "BTC", "eur", day("2024-05-05")); err == nil || !IsInvalid(err) {
		t.Errorf("a lower-case currency: %v", err)
	}

	// The same file again changes nothing.
	again, err := st.Import(ctx, path, "BTC", now.Add(time.Hour))
	if err != nil || again.Status != StatusUnchanged || again.Series[0].ImportedAt != res.Series[0].ImportedAt {
		t.Fatalf("re-import: %+v %v", again, err)
	}
	// A changed file of the same name replaces its rows (EUR only now).
	if err := os.WriteFile(path, []byte("2024-01-01,EUR,40000\n2024-01-02,EUR,40100.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := st.Import(ctx, path, "BTC", now.Add(2*time.Hour))
	if err != nil || rep.Status != StatusReplaced || len(rep.Series) != 1 || rep.Series[0].Days != 2 {
		t.Fatalf("changed file: %+v %v", rep, err)
	}
	all, _ := st.Series(ctx)
	if len(all) != 1 || all[0].Currency != "EUR" {
		t.Fatalf("after the change the USD series is left: %+v", all)
	}
	if r, ok, _ := st.Price(ctx, "BTC", "EUR", day("2024-01-02")); !ok || r.Cmp(big.NewRat(401005, 10)) != 0 {
		t.Fatalf("replaced price %v", r)
	}
	// Another file giving the same series replaces it and says so.
	other := filepath.Join(dir, "btc-eur-vendor2.csv")
	os.WriteFile(other, []byte("2024-06-01,EUR,61000.01\n"), 0o644)
	rep, err = st.Import(ctx, other, "BTC", now)
	if err != nil || rep.Status != StatusReplaced || len(rep.Replaced) != 1 || !strings.Contains(rep.Replaced[0], "btc-2024.csv") {
		t.Fatalf("other file: %+v %v", rep, err)
	}
	// Another asset is another series.
	eth := filepath.Join(dir, "eth.csv")
	os.WriteFile(eth, []byte("\ufeffDate,Currency,Price\r\n2024-06-01,USD,3765.432100000000000001\r\n"), 0o644)
	if rep, err = st.Import(ctx, eth, "eth", now); err != nil || rep.Status != StatusImported {
		t.Fatalf("eth: %+v %v", rep, err)
	}
	all, _ = st.Series(ctx)
	if len(all) != 2 || all[0].Asset != "BTC" || all[1].Asset != "ETH" || all[1].Days != 1 {
		t.Fatalf("series %+v", all)
	}

	// A read-only store answers and refuses imports.
	st.Close()
	ro := open(t, filepath.Join(dir, "prices.db"), Options{ReadOnly: true})
	if r, ok, err := ro.Price(ctx, "ETH", "USD", day("2024-06-01")); !ok || err != nil || r.RatString() != "3765432100000000000001/1000000000000000000" {
		t.Fatalf("read-only price %v %v %v", r, ok, err)
	}
	if _, err := ro.Import(ctx, eth, "ETH", now); err == nil {
		t.Fatal("a read-only store imported")
	}
	if _, err := Open(filepath.Join(dir, "missing.db"), Options{ReadOnly: true}); err == nil {
		t.Fatal("a missing store opened read-only")
	}
}

func TestImportRefusesBadFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st := open(t, filepath.Join(dir, "prices.db"), Options{MaxFileBytes: 4096, MaxLines: 50})
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("date,currency,price\n2024-01-01,EUR,1\n"), 0o644)
	if _, err := st.Import(ctx, good, "BTC", now); err != nil {
		t.Fatal(err)
	}
	before, _ := st.Series(ctx)
	ok := "date,currency,price\n2024-01-01,EUR,39000.10\n"
	for name, c := range map[string]struct{ content, want string }{
		"bad date":      {ok + "2024-02-30,EUR,1\n", ":3: date \"2024-02-30\" is not a calendar day"},
		"date format":   {ok + "01/02/2024,EUR,1\n", ":3: date \"01/02/2024\" is not YYYY-MM-DD"},
		"currency":      {ok + "2024-01-02,eur,1\n", ":3: currency \"eur\" is not an ISO 4217 code"},
		"negative":      {ok + "2024-01-02,EUR,-1\n", ":3: price \"-1\""},
		"float":         {ok + "2024-01-02,EUR,3.9e4\n", ":3: price \"3.9e4\""},
		"19 decimals":   {ok + "2024-01-02,EUR,0.1234567890123456789\n", ":3: price"},
		"comma decimal": {ok + "2024-01-02,EUR,\"39000,10\"\n", ":3: price"},
		"duplicate":     {ok + "2024-01-02,EUR,1\n2024-01-01,EUR,2\n", ":4: 2024-01-01 EUR is given twice (first at line 2)"},
		"fields":        {ok + "2024-01-02,EUR\n", ":3: expected 3 fields"},
		"quote":         {ok + "2024-01-02,EUR,\"1\n", "malformed CSV"},
		"empty":         {"", ":1: empty file"},
		"header only":   {"date,currency,price\n", "no prices"},
		"too many":      {ok + manyDays(60), "more than 50 lines"},
		"too large":     {ok + strings.Repeat("#", 5000), "the limit is 4096"},
	} {
		path := filepath.Join(dir, "bad-"+strings.ReplaceAll(name, " ", "-")+".csv")
		os.WriteFile(path, []byte(c.content), 0o644)
		_, err := st.Import(ctx, path, "BTC", now)
		if err == nil || !IsInvalid(err) || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "prices: ") {
			t.Errorf("%s: error %v, want one line with %q", name, err, c.want)
		}
		if strings.Contains(c.want, ":3:") && !strings.Contains(err.Error(), path+":3:") {
			t.Errorf("%s: error %v does not name FILE:LINE", name, err)
		}
		after, _ := st.Series(ctx)
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Fatalf("%s: a refused file changed the store: %+v", name, after)
		}
	}
	for _, a := range []string{"", "B TC", "<script>", strings.Repeat("X", 21)} {
		if _, err := st.Import(ctx, good, a, now); err == nil || !IsInvalid(err) {
			t.Errorf("asset %q: %v", a, err)
		}
	}
}

func TestValue(t *testing.T) {
	p := func(s string) *big.Rat {
		r, ok := parseDecimal(s)
		if !ok {
			t.Fatalf("price %q", s)
		}
		return r
	}
	for _, c := range []struct{ amount, price, want string }{
		{"1", "0.005", "0.00"}, // half a cent: to even (0)
		{"1", "0.015", "0.02"}, // to even (2)
		{"1", "0.025", "0.02"}, // to even (2)
		{"1", "0.0250000001", "0.03"},
		{"-1", "0.015", "-0.02"},
		{"-1", "0.004", "0.00"},
		{"0.1", "0.2", "0.02"},
		{"0.015", "61234.56", "918.52"}, // 918.5184
		{"0.00000001", "61234.56", "0.00"},
		{"21000000", "123456789.123456789012345678", "2592592571592592.57"},
		{"1.000000000000000001", "3000", "3000.00"},
		{"0.5", "0.01", "0.00"}, // 0.005 → 0.00
		{"1.5", "0.01", "0.02"}, // 0.015 → 0.02
	} {
		got, err := Value(c.amount, p(c.price))
		if err != nil || got != c.want {
			t.Errorf("Value(%s, %s) = %q %v, want %q", c.amount, c.price, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "1e5", "0x10", "1.", ".5", "NaN", "1/3", " 1"} {
		if _, err := Value(bad, big.NewRat(1, 1)); err == nil || !IsInvalid(err) {
			t.Errorf("Value(%q): %v", bad, err)
		}
	}
}

func TestNilStore(t *testing.T) {
	var s *Store
	if l, err := s.Series(context.Background()); l != nil || err != nil {
		t.Fatal(l, err)
	}
	if _, ok, err := s.Price(context.Background(), "BTC", "EUR", now); ok || err != nil {
		t.Fatal(ok, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func manyDays(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%s,USD,1\n", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i).Format(time.DateOnly))
	}
	return b.String()
}
