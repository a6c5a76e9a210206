package export

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// MaxCellChars is the longest cell (in characters) a table may hold: what
// a spreadsheet cell holds (XLSX's limit of 32,767).
const MaxCellChars = 32767

// CellSafe keeps a spreadsheet from reading a cell as a formula: a cell
// starting with = + - @, a tab or a carriage return gets a leading
// apostrophe (OWASP's advice against CSV injection). Tag labels and notes
// come from files of others.
func CellSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// invalid returns an input error with the package prefix.
func invalid(format string, args ...any) error {
	return fmt.Errorf("export: %w: %s", chain.ErrInvalid, fmt.Sprintf(format, args...))
}

// IsInvalid reports whether err is a refusal of bad input.
func IsInvalid(err error) bool { return errors.Is(err, chain.ErrInvalid) }

// textProblem says what makes s unwritable, or "".
func textProblem(s string) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f || r == 0xfffe || r == 0xffff {
			return fmt.Sprintf("holds the control character U+%04X", r)
		}
	}
	return ""
}

// checkTable checks a table: a header of at least one column, every row
// as wide as the header, every cell text of at most MaxCellChars.
func checkTable(header []string, rows [][]string) error {
	if len(header) == 0 {
		return invalid("a table needs at least one column")
	}
	check := func(where string, cells []string) error {
		for j, c := range cells {
			if p := textProblem(c); p != "" {
				return invalid("%s, column %d %s", where, j+1, p)
			}
			if n := utf8.RuneCountInString(c); n > MaxCellChars {
				return invalid("%s, column %d has %d characters, more than a cell holds (%d)", where, j+1, n, MaxCellChars)
			}
		}
		return nil
	}
	if err := check("header", header); err != nil {
		return err
	}
	for i, r := range rows {
		if len(r) != len(header) {
			return invalid("row %d has %d cells, the header %d", i+1, len(r), len(header))
		}
		if err := check(fmt.Sprintf("row %d", i+1), r); err != nil {
			return err
		}
	}
	return nil
}

// CSV writes the table as CSV (RFC 4180, CRLF line ends, as the web
// workspace's tables), every cell through CellSafe.
func CSV(w io.Writer, header []string, rows [][]string) error {
	if err := checkTable(header, rows); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	rec := make([]string, len(header))
	put := func(cells []string) error {
		for i, c := range cells {
			rec[i] = CellSafe(c)
		}
		return cw.Write(rec)
	}
	if err := put(header); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	for _, r := range rows {
		if err := put(r); err != nil {
			return fmt.Errorf("export: csv: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("export: csv: %w", err)
	}
	return nil
}
