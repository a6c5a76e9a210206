package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
	"github.com/vestigo-forensics/vestigo/internal/chain"
	"github.com/vestigo-forensics/vestigo/internal/export"
)

// Bounds of a table export.
const (
	MaxExportRows    = 100_000
	MaxExportColumns = 200
	MaxExportCell    = 10_000 // characters
	maxExportName    = 200
)

// Export kinds.
const (
	ExportTable   = "table"
	ExportGraph   = "graph"
	ExportFinding = "finding"
)

// ExportRequest asks for an export: a table (columns and rows) as csv or
// xlsx, a saved graph (an exhibit of the case) as graphml or gexf, or a
// finding of the case as json, csv or xlsx.
type ExportRequest struct {
	Kind    string     `json:"kind"`
	Format  string     `json:"format"`
	Name    string     `json:"name,omitempty"`
	Columns []string   `json:"columns,omitempty"`
	Rows    [][]string `json:"rows,omitempty"`
	Exhibit int64      `json:"exhibit,omitempty"`
	Finding int64      `json:"finding,omitempty"`
}

var exportFormats = map[string][]string{
	ExportTable:   {"csv", "xlsx"},
	ExportGraph:   {"graphml", "gexf"},
	ExportFinding: {"json", "csv", "xlsx"},
}

var exportMedia = map[string]string{
	"csv": "text/csv; charset=utf-8", "xlsx": export.MediaTypeXLSX, "graphml": export.MediaTypeGraphML,
	"gexf": export.MediaTypeGEXF, "json": "application/json",
}

func exportInvalid(format string, args ...any) error {
	return fmt.Errorf("workspace: %w: export: %s", chain.ErrInvalid, fmt.Sprintf(format, args...))
}

// check refuses a request whose kind, format or fields do not go together
// or exceed the bounds.
func (r *ExportRequest) check() error {
	formats, ok := exportFormats[r.Kind]
	if !ok {
		return exportInvalid("kind %q is not table, graph or finding", clipText(r.Kind))
	}
	fmtOK := false
	for _, f := range formats {
		fmtOK = fmtOK || f == r.Format
	}
	if !fmtOK {
		return exportInvalid("a %s exports as %s, not %q", r.Kind, strings.Join(formats, " or "), clipText(r.Format))
	}
	table := r.Columns != nil || r.Rows != nil
	switch r.Kind {
	case ExportTable:
		if r.Exhibit != 0 || r.Finding != 0 {
			return exportInvalid("a table export takes columns and rows, not an exhibit or a finding")
		}
		if len(r.Columns) == 0 || len(r.Columns) > MaxExportColumns {
			return exportInvalid("a table needs 1 to %d columns", MaxExportColumns)
		}
		if len(r.Rows) > MaxExportRows {
			return exportInvalid("more than %d rows", MaxExportRows)
		}
		for j, c := range r.Columns {
			if utf8.RuneCountInString(c) > MaxExportCell {
				return exportInvalid("column %d: a cell holds at most %d characters", j+1, MaxExportCell)
			}
		}
		for i, row := range r.Rows {
			if len(row) != len(r.Columns) {
				return exportInvalid("row %d has %d cells, the table %d columns", i+1, len(row), len(r.Columns))
			}
			for j, c := range row {
				if utf8.RuneCountInString(c) > MaxExportCell {
					return exportInvalid("row %d, column %d: a cell holds at most %d characters", i+1, j+1, MaxExportCell)
				}
			}
		}
	case ExportGraph:
		if table || r.Finding != 0 || r.Exhibit <= 0 {
			return exportInvalid("a graph export takes the id of a saved graph (exhibit), nothing else")
		}
	case ExportFinding:
		if table || r.Exhibit != 0 || r.Finding <= 0 {
			return exportInvalid("a finding export takes the id of a finding, nothing else")
		}
	}
	if utf8.RuneCountInString(r.Name) > maxExportName {
		return exportInvalid("the name is longer than %d characters", maxExportName)
	}
	return nil
}

func clipText(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return string([]rune(s)[:40]) + "…"
	}
	return s
}

// exportName is the exhibit's file name: the name given (or a default)
// ending in the format's extension.
func exportName(r *ExportRequest) string {
	name := strings.TrimSpace(r.Name)
	if name == "" {
		switch r.Kind {
		case ExportTable:
			name = "table"
		case ExportGraph:
			name = fmt.Sprintf("graph-%d", r.Exhibit)
		case ExportFinding:
			name = fmt.Sprintf("finding-%d", r.Finding)
		}
	}
	if ext := "." + r.Format; !strings.HasSuffix(strings.ToLower(name), ext) {
		name += ext
	}
	return name
}

// ExportContent makes the bytes of an export of case caseID as principal
// p sees it (the exhibit or finding must belong to the case). It returns
// the content, its file name, media type and the provenance parameters.
func ExportContent(ctx context.Context, st *casestore.Store, p casestore.Principal, caseID int64, req ExportRequest, now time.Time) (
	content []byte, name, mediaType string, params json.RawMessage, err error) {
	if err := req.check(); err != nil {
		return nil, "", "", nil, err
	}
	name = exportName(&req)
	var b bytes.Buffer
	prm := map[string]any{"kind": req.Kind, "format": req.Format}
	switch req.Kind {
	case ExportTable:
		prm["columns"], prm["rows"] = len(req.Columns), len(req.Rows)
		err = writeTable(&b, req.Format, strings.TrimSuffix(name, "."+req.Format), req.Columns, req.Rows, now)
	case ExportGraph:
		ex, rc, oerr := st.OpenExhibit(ctx, p, req.Exhibit)
		if oerr != nil {
			return nil, "", "", nil, oerr
		}
		data, rerr := io.ReadAll(io.LimitReader(rc, export.MaxGraphBytes+1))
		cerr := rc.Close() // checks the content against its SHA-256
		if ex.CaseID != caseID {
			return nil, "", "", nil, fmt.Errorf("workspace: export: exhibit %d of case %d: %w", req.Exhibit, caseID, casestore.ErrNotFound)
		}
		if rerr != nil || cerr != nil {
			return nil, "", "", nil, fmt.Errorf("workspace: export: read exhibit %d: %w", req.Exhibit, errOr(rerr, cerr))
		}
		g, perr := export.ParseGraph(data)
		if perr != nil {
			return nil, "", "", nil, fmt.Errorf("workspace: export: exhibit %d (%s) is not a saved graph: %w", ex.ID, ex.Name, perr)
		}
		prm["exhibit"], prm["exhibit_sha256"], prm["nodes"], prm["edges"] = ex.ID, ex.SHA256, len(g.Nodes), len(g.Edges)
		if req.Format == "graphml" {
			err = export.GraphML(&b, g)
		} else {
			err = export.GEXF(&b, g)
		}
	case ExportFinding:
		f, ferr := st.GetFinding(ctx, p, req.Finding)
		if ferr != nil {
			return nil, "", "", nil, ferr
		}
		if f.CaseID != caseID {
			return nil, "", "", nil, fmt.Errorf("workspace: export: finding %d of case %d: %w", req.Finding, caseID, casestore.ErrNotFound)
		}
		prm["finding"] = f.ID
		if req.Format == "json" {
			err = export.JSON(&b, f)
			break
		}
		rows, ferr := export.Flatten(f)
		if ferr != nil {
			return nil, "", "", nil, ferr
		}
		err = writeTable(&b, req.Format, fmt.Sprintf("finding %d", f.ID), export.FlattenHeader, rows, now)
	}
	if err != nil {
		return nil, "", "", nil, err
	}
	params, err = json.Marshal(prm)
	if err != nil {
		return nil, "", "", nil, fmt.Errorf("workspace: export: %w", err)
	}
	return b.Bytes(), name, exportMedia[req.Format], params, nil
}

func errOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func writeTable(w io.Writer, format, sheet string, header []string, rows [][]string, now time.Time) error {
	if format == "xlsx" {
		return export.XLSX(w, sheet, header, rows, now)
	}
	return export.CSV(w, header, rows)
}

// Export makes an export (ExportContent) and stores it as an exhibit of
// the case, with the provenance "vestigo export KIND FORMAT": hashed,
// time-stamped when a TSA is configured, audited with its hash, kept and
// backed up as every exhibit. Adding it needs write access to the case.
// It returns the exhibit and the content.
func Export(ctx context.Context, st *casestore.Store, p casestore.Principal, caseID int64, req ExportRequest, now time.Time,
	version string) (casestore.Exhibit, []byte, error) {
	// Ask first whether the principal may add to the case.
	if _, err := st.GetCase(ctx, p, caseID); err != nil {
		return casestore.Exhibit{}, nil, err
	}
	content, name, media, params, err := ExportContent(ctx, st, p, caseID, req, now)
	if err != nil {
		return casestore.Exhibit{}, nil, err
	}
	prov := casestore.Provenance{Source: "vestigo export " + req.Kind + " " + req.Format, VestigoVersion: version, Params: params}
	ex, err := st.AddExhibitWithProvenance(ctx, p, caseID, name, media, prov, bytes.NewReader(content))
	if err != nil {
		return casestore.Exhibit{}, nil, err
	}
	return ex, content, nil
}
