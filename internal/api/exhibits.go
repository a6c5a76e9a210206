package api

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/vestigo-forensics/vestigo/internal/casestore"
)

// uploadField is the multipart part that holds an exhibit.
const uploadField = "file"

// uploadSlack is what a multipart upload may add to the file's own bytes
// (boundaries and part headers).
const uploadSlack = 64 << 10

func (s *Server) listExhibits(c *call) error {
	v, err := s.store.ListExhibits(c.ctx, c.p, c.v.int("case", 0))
	return list(c, v, err)
}

// uploadExhibit stores a file: the one part named "file" of a
// multipart/form-data body (its file name and media type, the name
// parameter overriding the file name), or a raw body with its
// Content-Type and the name parameter.
func (s *Server) uploadExhibit(c *call) error {
	caseID := c.v.int("case", 0)
	name := c.v.str("name", "")
	ct := c.r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return errorf(http.StatusUnsupportedMediaType, "the Content-Type %q is not a media type", clip(ct))
	}
	if mt != "multipart/form-data" {
		if name == "" {
			return badRequest("a raw upload needs the name parameter")
		}
		ex, err := s.store.AddExhibit(c.ctx, c.p, caseID, name, ct, c.r.Body)
		if err != nil {
			return uploadError(err)
		}
		return c.created(ex)
	}
	mr, err := c.r.MultipartReader()
	if err != nil {
		return badRequest("the multipart body cannot be read: %s", clip(err.Error()))
	}
	part, err := mr.NextPart()
	if err != nil {
		return uploadError(fmt.Errorf("api: no part named %q: %w", uploadField, err))
	}
	if part.FormName() != uploadField {
		return badRequest("the first part must be named %q, not %q", uploadField, clip(part.FormName()))
	}
	if name == "" {
		name = part.FileName()
	}
	if name == "" {
		return badRequest("the part has no file name: give the name parameter")
	}
	media := part.Header.Get("Content-Type")
	if media == "" {
		media = "application/octet-stream"
	}
	ex, err := s.store.AddExhibit(c.ctx, c.p, caseID, name, media, part)
	if err != nil {
		return uploadError(err)
	}
	// One file per request: anything after it is refused, and the exhibit
	// with it, rather than silently dropped.
	if _, err := mr.NextPart(); err != io.EOF {
		if derr := s.store.DeleteExhibit(c.ctx, c.p, ex.ID); derr != nil {
			return errors.Join(derr, err)
		}
		if err != nil {
			return uploadError(err)
		}
		return badRequest("one file per upload: the body holds more than the %q part", uploadField)
	}
	return c.created(ex)
}

// uploadError makes a truncated or malformed upload 400; statusOf maps
// the rest (an oversized one is 413).
func uploadError(err error) error {
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return badRequest("the upload is incomplete or malformed")
	}
	return err
}

func (s *Server) exhibit(c *call) (casestore.Exhibit, error) {
	v, err := s.store.GetExhibit(c.ctx, c.p, c.v.int("exhibit", 0))
	return v, inCase(c, v.CaseID, err)
}

func (s *Server) getExhibit(c *call) error {
	v, err := s.exhibit(c)
	if err != nil {
		return err
	}
	return c.ok(v)
}

// downloadExhibit sends an exhibit's bytes as an attachment. The store
// checks them against their SHA-256 as they are read; a file that differs
// aborts the response, so that a client never receives a complete-looking
// copy of altered evidence.
func (s *Server) downloadExhibit(c *call) error {
	if _, err := s.exhibit(c); err != nil {
		return err
	}
	ex, rc, err := s.store.OpenExhibit(c.ctx, c.p, c.v.int("exhibit", 0))
	if err != nil {
		return err
	}
	defer rc.Close()
	h := c.w.Header()
	h.Set("Content-Type", "application/octet-stream")
	cd := mime.FormatMediaType("attachment", map[string]string{"filename": ex.Name})
	if cd == "" {
		cd = "attachment"
	}
	h.Set("Content-Disposition", cd)
	h.Set("Content-Length", strconv.FormatInt(ex.Size, 10))
	h.Set("X-Vestigo-SHA256", ex.SHA256)
	h.Set("X-Vestigo-Media-Type", ex.MediaType)
	c.w.WriteHeader(http.StatusOK)
	if err := copyHoldingLast(c.w, rc); err != nil {
		s.log.Error("api: exhibit download aborted", "exhibit", ex.ID, "sha256", ex.SHA256, "err", err)
		panic(http.ErrAbortHandler)
	}
	return nil
}

// copyHoldingLast copies r to w, holding back the last chunk read until r
// has ended without an error. The store finds altered content only at the
// end of it; the bytes held back then never reach the client, whose copy
// is short of its Content-Length and so cannot pass for complete.
func copyHoldingLast(w io.Writer, r io.Reader) error {
	buf := make([]byte, 32<<10)
	held := make([]byte, 0, len(buf))
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if len(held) > 0 {
				if _, werr := w.Write(held); werr != nil {
					return werr
				}
			}
			held = append(held[:0], buf[:n]...)
		}
		if err == io.EOF {
			_, werr := w.Write(held)
			return werr
		}
		if err != nil {
			return err
		}
	}
}

func (s *Server) deleteExhibit(c *call) error {
	if _, err := s.exhibit(c); err != nil {
		return err
	}
	if err := s.store.DeleteExhibit(c.ctx, c.p, c.v.int("exhibit", 0)); err != nil {
		return err
	}
	return c.noContent()
}
