package api

import (
	"fmt"
	"io"
	"strings"

	"github.com/vestigo-forensics/vestigo/internal/workspace"
)

// newReport asks for a case's report: the format (pdf or html, default
// pdf) and the language (default en).
type newReport struct {
	Format string `json:"format"`
	Lang   string `json:"lang"`
}

func init() { requestTypes["NewReport"] = newReport{} }

// createReport renders the case's report and records it as an exhibit
// (downloaded through the exhibit content route). The API signs no
// checkpoint: vestigo serve's --checkpoint-every (or vestigo audit
// checkpoint) covers the report.
func (s *Server) createReport(c *call) error {
	var b newReport
	if err := c.decode(&b); err != nil {
		return err
	}
	if b.Format == "" {
		b.Format = "pdf"
	}
	if b.Lang == "" {
		b.Lang = "en"
	}
	ts, err := workspace.TSAFromEnv()
	if err != nil {
		return err
	}
	r, err := s.ws.RenderReport(c.ctx, s.store, c.p, c.v.int("case", 0), b.Format, b.Lang,
		workspace.ReportOptions{Version: s.version, Clock: s.now, TSA: ts})
	if err != nil {
		return err
	}
	return c.created(r)
}

// verifyReport checks an uploaded report file (the raw body) against the
// exhibit Vestigo recorded, its time-stamp and the audit log. The answer
// is 200 whatever it found: ok says whether the file is a report Vestigo
// recorded and everything checked agrees.
func (s *Server) verifyReport(c *call) error {
	data, err := io.ReadAll(c.r.Body)
	if err != nil {
		return uploadError(err)
	}
	if len(data) == 0 {
		return badRequest("the body is empty: send the report file")
	}
	// Each verification re-hashes every exhibit: one at a time.
	s.verifyMu.Lock()
	defer s.verifyMu.Unlock()
	rep, err := workspace.VerifyReport(c.ctx, s.store, c.p, data, s.verifier)
	if err != nil {
		return err
	}
	// As GET /audit/verify: the audit log's problems are named to those
	// who may read the log; others learn how many there are.
	if !permAudit.allows(c.p.Role) && rep.Audit != nil {
		n := len(rep.Audit.Problems)
		rep.Audit = nil
		kept := []string{}
		for _, p := range rep.Problems {
			if !strings.HasPrefix(p, "audit log: ") {
				kept = append(kept, p)
			}
		}
		if n > 0 {
			kept = append(kept, fmt.Sprintf("audit log: %d problems (vestigo audit verify, run by the installation's operator, lists them)", n))
		}
		rep.Problems = kept
	}
	return c.ok(struct {
		OK bool `json:"ok"`
		*workspace.ReportVerification
	}{rep.OK(), rep})
}
