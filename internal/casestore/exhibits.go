package casestore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
)

func exhibitFromRow(r row) Exhibit {
	tok, _ := hex.DecodeString(r.str("tsa_token"))
	return Exhibit{ID: r.int("id"), CaseID: r.int("case_id"), Name: r.str("name"), MediaType: r.str("media_type"),
		Size: r.int("size"), SHA256: r.str("sha256"), Provenance: parseProvenance(r.str("provenance")), TSAToken: tok,
		CreatedBy: r.int("created_by"), CreatedAt: r.time("created_at")}
}

// exhibitRel is the path of a content file relative to ExhibitDir.
func exhibitRel(sum string) string {
	return filepath.Join("sha256", sum[:2], sum)
}

func (s *Store) exhibitPath(sum string) (string, error) {
	if s.opt.ExhibitDir == "" {
		return "", errors.New("casestore: exhibits need Options.ExhibitDir")
	}
	if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return "", fmt.Errorf("casestore: %q is not a hex SHA-256", sum)
	}
	return filepath.Join(s.opt.ExhibitDir, exhibitRel(sum)), nil
}

func checkExhibitMeta(name, mediaType string) error {
	if err := checkText("name", name, 1, 255, true); err != nil {
		return err
	}
	if strings.ContainsAny(name, `/\`) {
		return invalid("name", "%q contains a path separator", name)
	}
	if err := checkText("media type", mediaType, 1, 255, true); err != nil {
		return err
	}
	if _, _, err := mime.ParseMediaType(mediaType); err != nil || !strings.Contains(mediaType, "/") {
		return invalid("media type", "%q is not a media type such as application/pdf", mediaType)
	}
	return nil
}

// putFile streams r into the content store: it hashes while writing into
// a temporary file, refuses content above MaxExhibit, and renames the file
// into place (once per content; existing content is kept).
func (s *Store) putFile(r io.Reader) (sum string, size int64, err error) {
	if s.opt.ExhibitDir == "" {
		return "", 0, errors.New("casestore: exhibits need Options.ExhibitDir")
	}
	tmpDir := filepath.Join(s.opt.ExhibitDir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return "", 0, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return "", 0, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	defer func() {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), io.LimitReader(r, s.opt.MaxExhibit+1))
	if err != nil {
		return "", 0, fmt.Errorf("casestore: read exhibit: %w", err)
	}
	if n > s.opt.MaxExhibit {
		return "", 0, invalid("content", "larger than the limit of %d bytes", s.opt.MaxExhibit)
	}
	if err := f.Sync(); err != nil {
		return "", 0, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", 0, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	sum = hex.EncodeToString(h.Sum(nil))
	final, _ := s.exhibitPath(sum)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", 0, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	if _, err := os.Stat(final); err == nil {
		os.Remove(f.Name())
	} else if err := os.Rename(f.Name(), final); err != nil {
		return "", 0, fmt.Errorf("casestore: exhibit store: %w", err)
	} else if d, err := os.Open(filepath.Dir(final)); err == nil {
		_ = d.Sync() // the rename is durable
		d.Close()
	}
	f = nil
	return sum, n, nil
}

// AddExhibit stores a file in a case. The content is streamed from r,
// hashed while written, refused above Options.MaxExhibit, and time-stamped
// when a Timestamper is configured. Its provenance names the uploader.
func (s *Store) AddExhibit(ctx context.Context, p Principal, caseID int64, name, mediaType string, r io.Reader) (Exhibit, error) {
	return s.AddExhibitWithProvenance(ctx, p, caseID, name, mediaType, Provenance{Source: "upload"}, r)
}

// AddExhibitWithProvenance is AddExhibit with a provenance of the
// caller's (e.g. the exchange that answered, the request it answered).
func (s *Store) AddExhibitWithProvenance(ctx context.Context, p Principal, caseID int64, name, mediaType string,
	prov Provenance, r io.Reader) (Exhibit, error) {
	if err := checkExhibitMeta(name, mediaType); err != nil {
		return Exhibit{}, err
	}
	if _, err := checkProvenance("provenance", prov); err != nil {
		return Exhibit{}, err
	}
	if s.opt.ExhibitDir == "" {
		return Exhibit{}, errors.New("casestore: exhibits need Options.ExhibitDir")
	}
	what := fmt.Sprintf("add an exhibit to case %d", caseID)
	// Ask before reading the upload, again when storing it.
	if err := s.read(ctx, p, func(o *op) error {
		_, err := o.loadCase(caseID, permWrite, what)
		return err
	}); err != nil {
		return Exhibit{}, err
	}
	sum, size, err := s.putFile(r)
	if err != nil {
		return Exhibit{}, err
	}
	var token string
	if s.opt.Timestamper != nil {
		digest, _ := hex.DecodeString(sum)
		tok, err := s.opt.Timestamper.Timestamp(ctx, digest)
		if err != nil {
			return Exhibit{}, fmt.Errorf("casestore: time-stamp exhibit %s: %w", sum, err)
		}
		token = hex.EncodeToString(tok)
	}
	fields := row{"name": name, "media_type": mediaType, "size": size, "sha256": sum, "tsa_token": token}
	return createOwned(ctx, s, p, tExhibits, caseID, permWrite, fields, func(o *op) (err error) {
		fields["provenance"], err = checkProvenance("provenance", withActor(prov, p, o.now))
		return err
	}, exhibitFromRow)
}

// StoreExhibitFile puts content into the exhibit store without attaching
// it to a case (an importer stores a package's files, then ImportCase
// refers to them by SHA-256). The principal must be allowed to change case
// content.
func (s *Store) StoreExhibitFile(ctx context.Context, p Principal, r io.Reader) (sha256Hex string, size int64, err error) {
	if err := s.read(ctx, p, func(o *op) error {
		return o.allow(permWrite, "store an exhibit file", "exhibit", 0, p.AgencyID, 0)
	}); err != nil {
		return "", 0, err
	}
	return s.putFile(r)
}

// PutExhibitFile puts content into the exhibit store as an installation
// operation, without a principal: restoring a backup into an empty store,
// before its rows are loaded. It returns the content's SHA-256 and size.
func (s *Store) PutExhibitFile(ctx context.Context, r io.Reader) (sha256Hex string, size int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	return s.putFile(r)
}

// GetExhibit returns an exhibit's metadata.
func (s *Store) GetExhibit(ctx context.Context, p Principal, id int64) (Exhibit, error) {
	return getOwned(ctx, s, p, tExhibits, id, exhibitFromRow)
}

// ListExhibits lists a case's exhibits.
func (s *Store) ListExhibits(ctx context.Context, p Principal, caseID int64) ([]Exhibit, error) {
	return listOwned(ctx, s, p, tExhibits, caseID, exhibitFromRow)
}

// DeleteExhibit deletes an exhibit from its case (its file stays in the
// content store).
func (s *Store) DeleteExhibit(ctx context.Context, p Principal, id int64) error {
	return s.deleteOwned(ctx, p, tExhibits, id, permWrite, nil)
}

// OpenExhibit opens an exhibit's content for download, audited as
// "export". The reader checks the content against the stored SHA-256 as
// it is read: at the end, a file that differs is an error instead of
// io.EOF.
func (s *Store) OpenExhibit(ctx context.Context, p Principal, id int64) (Exhibit, io.ReadCloser, error) {
	var ex Exhibit
	err := s.write(ctx, p, func(o *op) error {
		r, err := o.load(tExhibits, id, permRead, fmt.Sprintf("download exhibit %d", id))
		if err != nil {
			return err
		}
		ex = exhibitFromRow(r)
		return o.append(AuditRecord{Action: ActionExport, ObjectType: "exhibit", ObjectID: id, CaseID: ex.CaseID,
			Detail: mustDetail(map[string]any{"sha256": ex.SHA256, "name": ex.Name})})
	})
	if err != nil {
		return Exhibit{}, nil, err
	}
	path, err := s.exhibitPath(ex.SHA256)
	if err != nil {
		return Exhibit{}, nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Exhibit{}, nil, fmt.Errorf("casestore: exhibit %d: %w", id, err)
	}
	return ex, &checkedReader{f: f, h: sha256.New(), want: ex.SHA256, id: id}, nil
}

type checkedReader struct {
	f    *os.File
	h    hash.Hash
	want string
	id   int64
}

func (c *checkedReader) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	c.h.Write(b[:n])
	if err == io.EOF && hex.EncodeToString(c.h.Sum(nil)) != c.want {
		return n, fmt.Errorf("casestore: exhibit %d (sha256 %s): file content differs", c.id, c.want)
	}
	return n, err
}

func (c *checkedReader) Close() error { return c.f.Close() }

// ExhibitFiles lists the content files of every exhibit row, for a backup
// (Dump holds the rows, these the content).
func (s *Store) ExhibitFiles(ctx context.Context) ([]ExhibitFile, error) {
	if s.opt.ExhibitDir == "" {
		return nil, errors.New("casestore: exhibits need Options.ExhibitDir")
	}
	rs, err := s.db.QueryContext(ctx, `SELECT DISTINCT sha256 FROM exhibits ORDER BY sha256`)
	if err != nil {
		return nil, fmt.Errorf("casestore: list exhibit files: %w", err)
	}
	defer rs.Close()
	var out []ExhibitFile
	for rs.Next() {
		var sum string
		if err := rs.Scan(&sum); err != nil {
			return nil, err
		}
		path, err := s.exhibitPath(sum)
		if err != nil {
			return nil, err
		}
		out = append(out, ExhibitFile{SHA256: sum, Path: path, Rel: exhibitRel(sum)})
	}
	return out, rs.Err()
}

// hashFile is the hex SHA-256 of a file.
func hashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
