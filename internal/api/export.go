package api

import (
	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// The body of POST /cases/{case}/exports is a workspace.ExportRequest.
func init() { requestTypes["NewExport"] = workspace.ExportRequest{} }

// createExport makes the export and stores it as an exhibit.
func (s *Server) createExport(c *call) error {
	var b workspace.ExportRequest
	if err := c.decode(&b); err != nil {
		return err
	}
	ex, _, err := workspace.Export(c.ctx, s.store, c.p, c.v.int("case", 0), b, s.now(), s.version)
	if err != nil {
		return err
	}
	return c.created(ex)
}
