// Package prices keeps daily fiat price series of crypto assets (what an
// asset was worth in EUR, USD, ... on a day) in a SQLite store at
// DATA/prices.db, for the fiat values of reports.
//
// A series is one asset in one currency, imported from one CSV file of
// lines "date,currency,price" (the header line optional): date YYYY-MM-DD,
// currency an ISO 4217 code in upper case (EUR, USD), price a non-negative
// decimal of at most 18 decimals. A price is kept exactly as its text and
// read as a big.Rat: there are no floats anywhere. A file may hold several
// currencies (one series each); each series remembers the file's name and
// SHA-256.
//
// Imports are all or nothing: any bad line (FILE:LINE in the error), a
// day given twice for one currency, or a file above the size or line limit
// stores nothing. Re-importing an unchanged file changes nothing; a changed
// file (same name, other content) replaces the series it gave; a file that
// gives a series already imported from another file replaces it.
//
// Price answers the price of a day or says there is none: there is no
// interpolation. Value multiplies an exact amount by a price and rounds
// half to even to cents.
package prices

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

const schemaVersion = "1"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS series (
		id INTEGER PRIMARY KEY,
		asset TEXT NOT NULL,
		currency TEXT NOT NULL,
		file TEXT NOT NULL,
		sha256 TEXT NOT NULL,
		path TEXT NOT NULL,
		imported_at TEXT NOT NULL,
		UNIQUE (asset, currency))`,
	`CREATE INDEX IF NOT EXISTS series_file ON series(asset, file)`,
	`CREATE TABLE IF NOT EXISTS prices (
		series_id INTEGER NOT NULL REFERENCES series(id) ON DELETE CASCADE,
		day TEXT NOT NULL,
		price TEXT NOT NULL,
		line INTEGER NOT NULL,
		PRIMARY KEY (series_id, day))`,
}

// Defaults of Options.
const (
	DefaultMaxFileBytes = 64 << 20
	DefaultMaxLines     = 1_000_000
)

// Options configure a Store.
type Options struct {
	// ReadOnly opens an existing store for queries only.
	ReadOnly bool
	// MaxFileBytes is the largest file Import reads (refused before
	// reading); MaxLines the most lines it takes.
	MaxFileBytes int64
	MaxLines     int
	// Logger receives what the store has to say; nil discards it.
	Logger *slog.Logger
}

// Store is the price store. A nil *Store is an empty store: it lists no
// series and knows no price.
type Store struct {
	db  *sql.DB
	opt Options
	mu  sync.Mutex // serialises imports
}

// Series is one imported series.
type Series struct {
	Asset      string `json:"asset"`
	Currency   string `json:"currency"`
	File       string `json:"file"`   // the file's name
	SHA256     string `json:"sha256"` // of the file's content
	Path       string `json:"path"`   // as given to Import
	ImportedAt string `json:"imported_at"`
	First      string `json:"first"` // first and last day, YYYY-MM-DD
	Last       string `json:"last"`
	Days       int    `json:"days"`
}

// Import statuses.
const (
	StatusImported  = "imported"
	StatusReplaced  = "replaced"  // earlier rows of the file or series were replaced
	StatusUnchanged = "unchanged" // the same file was imported before
)

// Result is what Import did.
type Result struct {
	File   string   `json:"file"`
	Path   string   `json:"path"`
	SHA256 string   `json:"sha256"`
	Asset  string   `json:"asset"`
	Status string   `json:"status"`
	Series []Series `json:"series"`
	// Replaced names series that came from other files and were replaced.
	Replaced []string `json:"replaced,omitempty"`
}

// Quote is one stored price with where it came from.
type Quote struct {
	Asset    string `json:"asset"`
	Currency string `json:"currency"`
	Day      string `json:"day"`
	Price    string `json:"price"` // the exact decimal of the file
	File     string `json:"file"`
	SHA256   string `json:"sha256"`
	Line     int    `json:"line"`
}

// Rat returns the quote's price as an exact rational.
func (q Quote) Rat() *big.Rat {
	r, _ := parseDecimal(q.Price)
	return r
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("prices: %w: %s", chain.ErrInvalid, fmt.Sprintf(format, args...))
}

func errAt(file string, line int, format string, args ...any) error {
	return fmt.Errorf("prices: %w: %s:%d: %s", chain.ErrInvalid, file, line, fmt.Sprintf(format, args...))
}

// IsInvalid reports whether err is a rejection of bad input.
func IsInvalid(err error) bool { return errors.Is(err, chain.ErrInvalid) }

// Open opens the store at path; unless opt.ReadOnly it is created if
// needed. A read-only store must exist.
func Open(path string, opt Options) (*Store, error) {
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = DefaultMaxFileBytes
	}
	if opt.MaxLines <= 0 {
		opt.MaxLines = DefaultMaxLines
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if path == "" {
		return nil, invalid("empty store path")
	}
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := "file:" + esc + "?_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)"
	if opt.ReadOnly {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("prices: open %s: %w", path, err)
		}
		dsn += "&mode=ro&_pragma=query_only(1)"
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("prices: open %s: %w", path, err)
	}
	s := &Store{db: db, opt: opt}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("prices: open %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init() error {
	ctx := context.Background()
	if s.opt.ReadOnly {
		var v string
		if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&v); err != nil {
			return fmt.Errorf("not a price store: %w", err)
		}
		if v != schemaVersion {
			return fmt.Errorf("schema version %s, this build reads %s", v, schemaVersion)
		}
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range schema {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	var v string
	switch err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema'`).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta(key, value) VALUES ('schema', ?)`, schemaVersion); err != nil {
			return err
		}
	case err != nil:
		return err
	case v != schemaVersion:
		return fmt.Errorf("schema version %s, this build reads %s", v, schemaVersion)
	}
	return tx.Commit()
}

// Close closes the store.
func (s *Store) Close() error {
	if s == nil {
		return nil
	}
	return s.db.Close()
}

var (
	assetRE    = regexp.MustCompile(`^[A-Z0-9][A-Z0-9.\-]{0,19}$`)
	currencyRE = regexp.MustCompile(`^[A-Z]{3}$`)
	dayRE      = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
	priceRE    = regexp.MustCompile(`^(0|[1-9][0-9]{0,29})(\.[0-9]{1,18})?$`)
	amountRE   = regexp.MustCompile(`^-?[0-9]{1,80}(\.[0-9]{1,80})?$`)
)

// NormalizeAsset returns the asset symbol in upper case (btc → BTC), or an
// error when it is not 1 to 20 letters, digits, dots or hyphens.
func NormalizeAsset(asset string) (string, error) {
	a := strings.ToUpper(strings.TrimSpace(asset))
	if !assetRE.MatchString(a) {
		return "", invalid("asset %q is not a symbol such as BTC or ETH (letters, digits, . and -, at most 20)", clip(asset))
	}
	return a, nil
}

// checkCurrency refuses what is not an ISO 4217 code in upper case.
func checkCurrency(c string) error {
	if !currencyRE.MatchString(c) {
		return invalid("currency %q is not an ISO 4217 code in upper case such as EUR or USD", clip(c))
	}
	return nil
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// row is one line of a file.
type row struct {
	currency, day, price string
	line                 int
}

// parse reads a price file, all or nothing.
func parse(file string, data []byte, maxLines int) (map[string][]row, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errAt(file, 1, "empty file: expected lines date,currency,price")
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	out := map[string][]row{}
	seen := map[[2]string]int{}
	first, n := true, 0
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, errAt(file, pe.Line, "malformed CSV: %v", pe.Err)
			}
			return nil, errAt(file, 0, "malformed CSV: %v", err)
		}
		line, _ := r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		if first {
			first = false
			if len(rec) == 3 && strings.EqualFold(strings.TrimSpace(strings.TrimPrefix(rec[0], "\ufeff")), "date") &&
				strings.EqualFold(strings.TrimSpace(rec[1]), "currency") && strings.EqualFold(strings.TrimSpace(rec[2]), "price") {
				continue
			}
			rec[0] = strings.TrimPrefix(rec[0], "\ufeff")
		}
		if n++; n > maxLines {
			return nil, errAt(file, line, "more than %d lines", maxLines)
		}
		if len(rec) != 3 {
			return nil, errAt(file, line, "expected 3 fields date,currency,price, found %d", len(rec))
		}
		day, cur, price := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		if !dayRE.MatchString(day) {
			return nil, errAt(file, line, "date %q is not YYYY-MM-DD", clip(day))
		}
		if _, err := time.Parse(time.DateOnly, day); err != nil {
			return nil, errAt(file, line, "date %q is not a calendar day", day)
		}
		if !currencyRE.MatchString(cur) {
			return nil, errAt(file, line, "currency %q is not an ISO 4217 code in upper case such as EUR or USD", clip(cur))
		}
		if !priceRE.MatchString(price) {
			return nil, errAt(file, line, "price %q is not a non-negative decimal with at most 18 decimals (such as 61234.5)", clip(price))
		}
		k := [2]string{cur, day}
		if prev, dup := seen[k]; dup {
			return nil, errAt(file, line, "%s %s is given twice (first at line %d)", day, cur, prev)
		}
		seen[k] = line
		out[cur] = append(out[cur], row{currency: cur, day: day, price: price, line: line})
	}
	if n == 0 {
		return nil, errAt(file, 1, "no prices: expected lines date,currency,price")
	}
	return out, nil
}

// Import reads the CSV file at path as prices of asset (a symbol such as
// BTC or ETH, stored in upper case) and stores each of its currencies as a
// series, in one transaction.
func (s *Store) Import(ctx context.Context, path, asset string, now time.Time) (Result, error) {
	if s.opt.ReadOnly {
		return Result{}, errors.New("prices: the store is opened read-only")
	}
	a, err := NormalizeAsset(asset)
	if err != nil {
		return Result{}, err
	}
	name := filepath.Base(path)
	res := Result{File: name, Path: path, Asset: a}
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("prices: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return res, fmt.Errorf("prices: %w", err)
	}
	if !st.Mode().IsRegular() {
		return res, invalid("%s: not a regular file", path)
	}
	if st.Size() > s.opt.MaxFileBytes {
		return res, invalid("%s: %d bytes, the limit is %d", path, st.Size(), s.opt.MaxFileBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, s.opt.MaxFileBytes+1))
	if err != nil {
		return res, fmt.Errorf("prices: %s: %w", path, err)
	}
	if int64(len(data)) > s.opt.MaxFileBytes {
		return res, invalid("%s: more than %d bytes", path, s.opt.MaxFileBytes)
	}
	sum := sha256.Sum256(data)
	res.SHA256 = hex.EncodeToString(sum[:])
	byCur, err := parse(path, data, s.opt.MaxLines)
	if err != nil {
		return res, err
	}
	curs := make([]string, 0, len(byCur))
	for c := range byCur {
		curs = append(curs, c)
	}
	sort.Strings(curs)

	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("prices: %w", err)
	}
	defer tx.Rollback()
	// What the file gave before, and what other files gave of its series.
	type old struct {
		id             int64
		currency, file string
		sha            string
	}
	var olds []old
	rows, err := tx.QueryContext(ctx, `SELECT id, currency, file, sha256 FROM series WHERE asset = ? AND (file = ? OR currency IN (?`+
		strings.Repeat(",?", len(curs)-1)+`)) ORDER BY currency`, append([]any{a, name}, anySlice(curs)...)...)
	if err != nil {
		return res, fmt.Errorf("prices: %w", err)
	}
	for rows.Next() {
		var o old
		if err := rows.Scan(&o.id, &o.currency, &o.file, &o.sha); err != nil {
			rows.Close()
			return res, fmt.Errorf("prices: %w", err)
		}
		olds = append(olds, o)
	}
	if err := rows.Close(); err != nil {
		return res, fmt.Errorf("prices: %w", err)
	}
	same := len(olds) == len(curs)
	for _, o := range olds {
		same = same && o.file == name && o.sha == res.SHA256 && byCur[o.currency] != nil
	}
	if same {
		res.Status = StatusUnchanged
	} else {
		res.Status = StatusImported
		for _, o := range olds {
			res.Status = StatusReplaced
			if o.file != name {
				res.Replaced = append(res.Replaced, fmt.Sprintf("%s/%s from %s", a, o.currency, o.file))
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM series WHERE id = ?`, o.id); err != nil {
				return res, fmt.Errorf("prices: %w", err)
			}
		}
		stamp := now.UTC().Format(time.RFC3339)
		for _, c := range curs {
			r, err := tx.ExecContext(ctx, `INSERT INTO series(asset, currency, file, sha256, path, imported_at) VALUES (?, ?, ?, ?, ?, ?)`,
				a, c, name, res.SHA256, path, stamp)
			if err != nil {
				return res, fmt.Errorf("prices: %w", err)
			}
			id, err := r.LastInsertId()
			if err != nil {
				return res, fmt.Errorf("prices: %w", err)
			}
			ins, err := tx.PrepareContext(ctx, `INSERT INTO prices(series_id, day, price, line) VALUES (?, ?, ?, ?)`)
			if err != nil {
				return res, fmt.Errorf("prices: %w", err)
			}
			for i, p := range byCur[c] {
				if i%4096 == 0 {
					if err := ctx.Err(); err != nil {
						ins.Close()
						return res, err
					}
				}
				if _, err := ins.ExecContext(ctx, id, p.day, p.price, p.line); err != nil {
					ins.Close()
					return res, fmt.Errorf("prices: %w", err)
				}
			}
			ins.Close()
		}
		if err := tx.Commit(); err != nil {
			return res, fmt.Errorf("prices: %w", err)
		}
	}
	all, err := s.Series(ctx)
	if err != nil {
		return res, err
	}
	for _, sr := range all {
		if sr.Asset == a && byCur[sr.Currency] != nil {
			res.Series = append(res.Series, sr)
		}
	}
	s.opt.Logger.Info("prices: import", "file", path, "asset", a, "status", res.Status, "series", len(res.Series))
	return res, nil
}

func anySlice(l []string) []any {
	out := make([]any, len(l))
	for i, v := range l {
		out[i] = v
	}
	return out
}

// Series lists the stored series by asset and currency.
func (s *Store) Series(ctx context.Context) ([]Series, error) {
	if s == nil {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT s.asset, s.currency, s.file, s.sha256, s.path, s.imported_at,
		COALESCE(MIN(p.day), ''), COALESCE(MAX(p.day), ''), COUNT(p.day)
		FROM series s LEFT JOIN prices p ON p.series_id = s.id GROUP BY s.id ORDER BY s.asset, s.currency`)
	if err != nil {
		return nil, fmt.Errorf("prices: %w", err)
	}
	defer rows.Close()
	var out []Series
	for rows.Next() {
		var sr Series
		if err := rows.Scan(&sr.Asset, &sr.Currency, &sr.File, &sr.SHA256, &sr.Path, &sr.ImportedAt, &sr.First, &sr.Last, &sr.Days); err != nil {
			return nil, fmt.Errorf("prices: %w", err)
		}
		out = append(out, sr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("prices: %w", err)
	}
	return out, nil
}

// Quote returns the stored price of asset in currency on the UTC calendar
// day of day, with its file and line; ok is false when the series has no
// price for that day (or there is no such series).
func (s *Store) Quote(ctx context.Context, asset, currency string, day time.Time) (Quote, bool, error) {
	a, err := NormalizeAsset(asset)
	if err != nil {
		return Quote{}, false, err
	}
	if err := checkCurrency(currency); err != nil {
		return Quote{}, false, err
	}
	if s == nil {
		return Quote{}, false, nil
	}
	q := Quote{Asset: a, Currency: currency, Day: day.UTC().Format(time.DateOnly)}
	err = s.db.QueryRowContext(ctx, `SELECT p.price, p.line, s.file, s.sha256 FROM prices p JOIN series s ON s.id = p.series_id
		WHERE s.asset = ? AND s.currency = ? AND p.day = ?`, a, currency, q.Day).Scan(&q.Price, &q.Line, &q.File, &q.SHA256)
	if errors.Is(err, sql.ErrNoRows) {
		return Quote{}, false, nil
	}
	if err != nil {
		return Quote{}, false, fmt.Errorf("prices: %w", err)
	}
	return q, true, nil
}

// Price returns the price of asset in currency on the UTC calendar day of
// day, exactly; ok is false when there is none (no interpolation).
func (s *Store) Price(ctx context.Context, asset, currency string, day time.Time) (*big.Rat, bool, error) {
	q, ok, err := s.Quote(ctx, asset, currency, day)
	if err != nil || !ok {
		return nil, ok, err
	}
	return q.Rat(), true, nil
}

// ParseDay reads a day YYYY-MM-DD as midnight UTC.
func ParseDay(s string) (time.Time, error) {
	if !dayRE.MatchString(s) {
		return time.Time{}, invalid("date %q is not YYYY-MM-DD", clip(s))
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, invalid("date %q is not a calendar day", s)
	}
	return t, nil
}

// parseDecimal reads a decimal such as "-12.5" exactly.
func parseDecimal(s string) (*big.Rat, bool) {
	if !amountRE.MatchString(s) {
		return nil, false
	}
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	num, ok := new(big.Int).SetString(whole+frac, 10)
	if !ok {
		return nil, false
	}
	if neg {
		num.Neg(num)
	}
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	return new(big.Rat).SetFrac(num, den), true
}

// Value returns amount (an exact decimal in whole units of the asset,
// such as "0.015" BTC; a leading minus allowed) times price, rounded half
// to even to cents: "918.52". Nothing passes through a float.
func Value(amount string, price *big.Rat) (string, error) {
	a, ok := parseDecimal(amount)
	if !ok {
		return "", invalid("amount %q is not a decimal such as 0.015", clip(amount))
	}
	if price == nil {
		return "", invalid("no price")
	}
	return RoundCents(new(big.Rat).Mul(a, price)), nil
}

// RoundCents writes v rounded half to even to two decimals.
func RoundCents(v *big.Rat) string {
	x := new(big.Rat).Mul(v, big.NewRat(100, 1))
	neg := x.Sign() < 0
	x.Abs(x)
	q, r := new(big.Int).QuoRem(x.Num(), x.Denom(), new(big.Int))
	switch c := new(big.Int).Lsh(r, 1).Cmp(x.Denom()); {
	case c > 0, c == 0 && q.Bit(0) == 1:
		q.Add(q, big.NewInt(1))
	}
	s := q.String()
	if len(s) < 3 {
		s = strings.Repeat("0", 3-len(s)) + s
	}
	out := s[:len(s)-2] + "." + s[len(s)-2:]
	if neg && q.Sign() != 0 {
		out = "-" + out
	}
	return out
}
