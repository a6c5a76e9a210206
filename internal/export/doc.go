// Package export writes what an investigator takes to other tools: tables
// as CSV and XLSX, graphs as GraphML and GEXF (Gephi, Maltego), and
// findings as canonical JSON. The writers are pure: the same input gives
// the same bytes (the XLSX's document properties carry a time the caller
// gives, never the clock's).
//
// Cells come from files of others (tag labels, notes), so every writer
// treats them as hostile:
//
//   - CSV and XLSX cells starting with = + - @, a tab or a carriage return
//     get a leading apostrophe (CellSafe), so that no spreadsheet reads
//     them as a formula (CSV injection); XLSX cells are string cells, never
//     formulas.
//   - GraphML and GEXF are written with encoding/xml, which escapes markup.
//   - Text that is not valid UTF-8 or holds control characters other than
//     tab, line feed and carriage return is refused (it cannot be written
//     to XML faithfully), naming the row and column or the node or edge.
//
// Errors are one line with the prefix "export:" and wrap chain.ErrInvalid
// when the input is at fault.
package export
