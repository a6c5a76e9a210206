package export

import (
	"archive/zip"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// MediaTypeXLSX is the media type of an XLSX workbook.
const MediaTypeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Column widths of an XLSX sheet, in characters.
const (
	minColWidth = 8
	maxColWidth = 60
)

// ooxmlEscape matches what OOXML reads as an escaped character.
var ooxmlEscape = regexp.MustCompile(`_x[0-9A-Fa-f]{4}_`)

// fixedZip is excelize's zip writer with every entry dated at the given
// time, so that a workbook's bytes depend on its content and that time
// only.
type fixedZip struct {
	*zip.Writer
	at time.Time
}

func (z fixedZip) Create(name string) (io.Writer, error) {
	return z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: z.at})
}

// SheetName makes name a valid sheet name: the characters a sheet name may
// not hold (: \ / ? * [ ]) become '_', surrounding apostrophes and spaces
// go, at most 31 characters are kept; "Sheet1" when nothing is left.
func SheetName(name string) string {
	name = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || r < 0x20 || r == 0x7f {
			return '_'
		}
		return r
	}, name)
	name = strings.Trim(name, "' ")
	if utf8.RuneCountInString(name) > 31 {
		name = strings.TrimRight(string([]rune(name)[:31]), "' ")
	}
	if name == "" {
		return "Sheet1"
	}
	return name
}

// XLSX writes the table as a workbook of one sheet (named by SheetName):
// every cell a string cell (never a formula, and through CellSafe for
// programs that re-evaluate text), the header bold, the first row frozen,
// columns as wide as their longest cell (8 to 60 characters). The
// workbook's creation and modification times and every zip entry's time
// are at (to the second, UTC): the same table and time give the same bytes.
func XLSX(w io.Writer, sheet string, header []string, rows [][]string, at time.Time) error {
	if err := checkTable(header, rows); err != nil {
		return err
	}
	at = at.UTC().Truncate(time.Second)
	if at.Year() < 1980 || at.Year() > 2107 {
		return invalid("the workbook's time %s is outside what a zip file can record (1980 to 2107)", at.Format(time.RFC3339))
	}
	f := excelize.NewFile()
	defer f.Close()
	f.SetZipWriter(func(w io.Writer) excelize.ZipWriter { return fixedZip{zip.NewWriter(w), at} })
	name := SheetName(sheet)
	if err := f.SetSheetName("Sheet1", name); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	stamp := at.Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Creator: "Vestigo", LastModifiedBy: "Vestigo", Created: stamp, Modified: stamp, Title: name}); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	widths := make([]int, len(header))
	put := func(row int, cells []string) error {
		for j, c := range cells {
			ref, err := excelize.CoordinatesToCellName(j+1, row)
			if err != nil {
				return err
			}
			c = CellSafe(c)
			// OOXML reads _xHHHH_ as an escaped character: escape the
			// underscore of text that looks like one (excelize does not).
			if err := f.SetCellStr(name, ref, ooxmlEscape.ReplaceAllString(c, "_x005F$0")); err != nil {
				return err
			}
			widths[j] = max(widths[j], longestLine(c))
		}
		return nil
	}
	if err := put(1, header); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	for i, r := range rows {
		if err := put(i+2, r); err != nil {
			return fmt.Errorf("export: xlsx: %w", err)
		}
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	last, err := excelize.CoordinatesToCellName(len(header), 1)
	if err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if err := f.SetCellStyle(name, "A1", last, bold); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	for j, wd := range widths {
		col, err := excelize.ColumnNumberToName(j + 1)
		if err != nil {
			return fmt.Errorf("export: xlsx: %w", err)
		}
		if err := f.SetColWidth(name, col, col, float64(min(max(wd+2, minColWidth), maxColWidth))); err != nil {
			return fmt.Errorf("export: xlsx: %w", err)
		}
	}
	if err := f.SetPanes(name, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft",
		Selection: []excelize.Selection{{SQRef: "A2", ActiveCell: "A2", Pane: "bottomLeft"}}}); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("export: xlsx: %w", err)
	}
	return nil
}

// longestLine is the length in characters of a cell's longest line.
func longestLine(s string) int {
	n := 0
	for _, l := range strings.Split(s, "\n") {
		n = max(n, utf8.RuneCountInString(l))
	}
	return n
}
