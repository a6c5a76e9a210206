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

// StoredFile is what StoreExhibitContent and PutExhibitContent stored.
type StoredFile struct {
	SHA256 string `json:"sha256"` // lower-case hex of the content
	Size   int64  `json:"size"`
	// New says the content was not in the exhibit store before (false: the
	// file was there already and was kept as it was).
	New bool `json:"new"`
}

// putFile streams r into the content store: it hashes while writing into
// a temporary file, refuses content above MaxExhibit, and renames the file
// into place (once per content; existing content is kept).
func (s *Store) putFile(r io.Reader) (StoredFile, error) {
	if s.opt.ExhibitDir == "" {
		return StoredFile{}, errors.New("casestore: exhibits need Options.ExhibitDir")
	}
	tmpDir := filepath.Join(s.opt.ExhibitDir, "tmp")
	if err := os.MkdirAll(tmpDir, 0o700); err != nil {
		return StoredFile{}, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	f, err := os.CreateTemp(tmpDir, "upload-*")
	if err != nil {
		return StoredFile{}, fmt.Errorf("casestore: exhibit store: %w", err)
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
		return StoredFile{}, fmt.Errorf("casestore: read exhibit: %w", err)
	}
	if n > s.opt.MaxExhibit {
		return StoredFile{}, invalid("content", "larger than the limit of %d bytes", s.opt.MaxExhibit)
	}
	if err := f.Sync(); err != nil {
		return StoredFile{}, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	if err := f.Close(); err != nil {
		return StoredFile{}, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	out := StoredFile{SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}
	final, _ := s.exhibitPath(out.SHA256)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return StoredFile{}, fmt.Errorf("casestore: exhibit store: %w", err)
	}
	if _, err := os.Stat(final); err == nil {
		os.Remove(f.Name())
	} else {
		if err := os.Rename(f.Name(), final); err != nil {
			return StoredFile{}, fmt.Errorf("casestore: exhibit store: %w", err)
		}
		out.New = true
		if d, err := os.Open(filepath.Dir(final)); err == nil {
			_ = d.Sync() // the rename is durable
			d.Close()
		}
	}
	f = nil
	return out, nil
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
	stored, err := s.putFile(r)
	if err != nil {
		return Exhibit{}, err
	}
	sum, size := stored.SHA256, stored.Size
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
		// Under the writer lock: a file removed as unused
		// (RemoveUnusedExhibitFile) cannot vanish after this check.
		if err := s.exhibitFilesPresent([]Exhibit{{SHA256: sum, Size: size}}); err != nil {
			return fmt.Errorf("casestore: exhibit file %s left the exhibit store while it was added (removed as unused?); add it again: %w",
				sum, err)
		}
		fields["provenance"], err = checkProvenance("provenance", withActor(prov, p, o.now))
		return err
	}, exhibitFromRow)
}

// StoreExhibitFile puts content into the exhibit store without attaching
// it to a case (an importer stores a package's files, then ImportCase
// refers to them by SHA-256). The principal must be allowed to change case
// content.
func (s *Store) StoreExhibitFile(ctx context.Context, p Principal, r io.Reader) (sha256Hex string, size int64, err error) {
	f, err := s.StoreExhibitContent(ctx, p, r)
	return f.SHA256, f.Size, err
}

// StoreExhibitContent is StoreExhibitFile that also says whether the
// content is new to the exhibit store, so that an importer that fails
// later removes only the files it added (RemoveUnusedExhibitFile).
func (s *Store) StoreExhibitContent(ctx context.Context, p Principal, r io.Reader) (StoredFile, error) {
	if err := s.read(ctx, p, func(o *op) error {
		return o.allow(permWrite, "store an exhibit file", "exhibit", 0, p.AgencyID, 0)
	}); err != nil {
		return StoredFile{}, err
	}
	return s.putFile(r)
}

// PutExhibitFile puts content into the exhibit store as an installation
// operation, without a principal: restoring a backup into an empty store,
// before its rows are loaded. It returns the content's SHA-256 and size.
func (s *Store) PutExhibitFile(ctx context.Context, r io.Reader) (sha256Hex string, size int64, err error) {
	f, err := s.PutExhibitContent(ctx, r)
	return f.SHA256, f.Size, err
}

// PutExhibitContent is PutExhibitFile that also says whether the content
// is new to the exhibit store.
func (s *Store) PutExhibitContent(ctx context.Context, r io.Reader) (StoredFile, error) {
	if err := ctx.Err(); err != nil {
		return StoredFile{}, err
	}
	return s.putFile(r)
}

// RemoveUnusedExhibitFile removes the file of content sum (lower-case hex
// SHA-256) from the exhibit store when no exhibit row refers to it, and
// says whether it did. It is an installation operation for clean-up after
// a failed import or restore: call it only for files that operation added
// (StoredFile.New). The check and the removal hold the store's writer lock,
// and adding an exhibit checks its file under the same lock, so a
// concurrent upload of the same content is never left without its file.
// A missing file is not an error.
func (s *Store) RemoveUnusedExhibitFile(ctx context.Context, sum string) (bool, error) {
	path, err := s.exhibitPath(sum)
	if err != nil {
		return false, invalid("sha256", "%v", err)
	}
	removed := false
	err = s.write(ctx, system, func(o *op) error {
		var n int64
		if err := o.tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM exhibits WHERE sha256 = ?`), sum).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		err := os.Remove(path)
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		removed = err == nil
		return err
	})
	if err != nil {
		return false, fmt.Errorf("casestore: remove unused exhibit file %s: %w", sum, err)
	}
	return removed, nil
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
