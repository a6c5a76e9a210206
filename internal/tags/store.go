package tags

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

// schemaVersion is the version of the tables below.
const schemaVersion = "1"

var schema = []string{
	`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS packs (
		id INTEGER PRIMARY KEY,
		name TEXT NOT NULL UNIQUE,
		format TEXT NOT NULL,
		sha256 TEXT NOT NULL,
		companion_sha256 TEXT NOT NULL DEFAULT '',
		title TEXT NOT NULL DEFAULT '',
		creator TEXT NOT NULL DEFAULT '',
		path TEXT NOT NULL DEFAULT '',
		imported_at TEXT NOT NULL)`,
	`CREATE TABLE IF NOT EXISTS tags (
		id INTEGER PRIMARY KEY,
		pack_id INTEGER NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
		line INTEGER NOT NULL,
		address TEXT NOT NULL,
		address_problem TEXT NOT NULL,
		currency TEXT NOT NULL,
		network TEXT NOT NULL,
		tx_hash TEXT NOT NULL,
		label TEXT NOT NULL,
		category TEXT NOT NULL,
		abuse TEXT NOT NULL,
		concepts TEXT NOT NULL,
		tag_type TEXT NOT NULL,
		source TEXT NOT NULL,
		confidence TEXT NOT NULL,
		confidence_level INTEGER NOT NULL,
		creator TEXT NOT NULL,
		lastmod TEXT NOT NULL,
		actor TEXT NOT NULL,
		context TEXT NOT NULL,
		is_public INTEGER NOT NULL,
		is_cluster_definer INTEGER NOT NULL,
		sanctioned INTEGER NOT NULL)`,
	`CREATE INDEX IF NOT EXISTS tags_address ON tags(address)`,
	`CREATE INDEX IF NOT EXISTS tags_tx_hash ON tags(tx_hash)`,
	`CREATE INDEX IF NOT EXISTS tags_pack ON tags(pack_id, line)`,
	`CREATE TABLE IF NOT EXISTS actors (
		pack_id INTEGER NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
		id TEXT NOT NULL,
		line INTEGER NOT NULL,
		label TEXT NOT NULL,
		uri TEXT NOT NULL,
		categories TEXT NOT NULL,
		jurisdictions TEXT NOT NULL,
		aliases TEXT NOT NULL,
		context TEXT NOT NULL,
		PRIMARY KEY (pack_id, id))`,
	`CREATE INDEX IF NOT EXISTS actors_id ON actors(id)`,
	`CREATE TABLE IF NOT EXISTS ofac_names (
		pack_id INTEGER NOT NULL REFERENCES packs(id) ON DELETE CASCADE,
		ent_num INTEGER NOT NULL,
		name TEXT NOT NULL,
		PRIMARY KEY (pack_id, ent_num))`,
}

// Store is the tag store: one SQLite database file.
type Store struct {
	db  *sql.DB
	opt Options
	log *slog.Logger
	mu  sync.Mutex // serialises writers (Import, AddUserTag)
}

// Open opens (creating if needed) the tag store at path, in WAL mode.
func Open(path string, opt Options) (*Store, error) {
	opt = opt.withDefaults()
	if path == "" {
		return nil, invalid("empty store path")
	}
	// A SQLite URI: escape what URIs give a meaning to.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := "file:" + esc + "?_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("tags: open %s: %w", path, err)
	}
	s := &Store{db: db, opt: opt, log: opt.Logger}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("tags: open %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) init() error {
	ctx := context.Background()
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
func (s *Store) Close() error { return s.db.Close() }

// Import imports the file or folder at path. format "" detects each file's
// format (see DetectFormat); a format given for a folder imports only the
// files detected as that format. A folder is walked in lexical order,
// hidden files and folders skipped, and every recognised file imported; an
// OFAC SDN.CSV and SDN_COMMENTS.CSV in the same folder are read together.
//
// Each file is imported in one SQL transaction, all or nothing: a file with
// any error stores nothing, and the other files still import. A file whose
// name and content (SHA-256) equal a stored pack's is not read again
// (StatusUnchanged); a changed file of a stored name replaces that pack's
// tags in the same transaction. The results list every file; the error
// joins the errors of the files that failed (nil if none did), or reports
// what stopped the whole import (a missing path, a cancelled context, a
// database failure).
func (s *Store) Import(ctx context.Context, path string, format Format, now time.Time) ([]FileResult, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("tags: import: %w", err)
	}
	if !st.IsDir() {
		return s.ImportFiles(ctx, []string{path}, format, now)
	}
	var files []string
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != path && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.Type().IsRegular() {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("tags: import: %w", err)
	}
	return s.importFiles(ctx, files, format, now, true)
}

// ImportFiles imports the given files as Import imports a folder's: in
// particular an OFAC SDN.CSV and SDN_COMMENTS.CSV given together are read
// together. Files of an unrecognised format are errors here.
func (s *Store) ImportFiles(ctx context.Context, paths []string, format Format, now time.Time) ([]FileResult, error) {
	return s.importFiles(ctx, paths, format, now, false)
}

// job is one file of an import.
type job struct {
	res       *FileResult
	format    Format
	data      []byte
	role      string // ofac-csv: "sdn" or "comments"
	companion *job   // ofac-csv: the other file of a pair
	detected  bool   // the format was detected, not given
	done      bool
}

func (s *Store) importFiles(ctx context.Context, paths []string, format Format, now time.Time, folder bool) ([]FileResult, error) {
	if format != "" && !knownFormat(format) {
		return nil, invalid("unknown format %q", format)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	results := make([]FileResult, len(paths))
	jobs := make([]*job, len(paths))
	names := make(map[string]string)
	for i, p := range paths {
		results[i] = FileResult{Path: p, Name: filepath.Base(p)}
		j := &job{res: &results[i]}
		jobs[i] = j
		if err := ctx.Err(); err != nil {
			return results, err
		}
		if prev, dup := names[j.res.Name]; dup {
			s.fail(j, invalid("%s: another file of this import (%s) has the same name; a pack is known by its file name", p, prev))
			continue
		}
		names[j.res.Name] = p
		if err := s.load(j, format, folder); err != nil {
			s.fail(j, err)
		}
	}
	pairOFAC(jobs)
	for _, j := range jobs {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		// run does an OFAC pair at once; a database failure or a
		// cancelled context stops the import.
		if err := s.run(ctx, j, now); err != nil && !IsInvalid(err) && !errors.Is(err, errTooLarge) {
			return results, err
		}
	}
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, r.Err)
		}
	}
	return results, errors.Join(errs...)
}

var errTooLarge = errors.New("file too large")

// maxProblemNotes caps the notes about flagged addresses of one file.
const maxProblemNotes = 50

func knownFormat(f Format) bool {
	for _, k := range Formats() {
		if f == k {
			return true
		}
	}
	return false
}

func (s *Store) fail(j *job, err error) {
	j.res.Status = StatusFailed
	j.res.Err = err
	j.res.Error = err.Error()
	j.done = true
	s.log.Warn("tags: import failed", "file", j.res.Path, "err", err)
}

// load reads a file (refusing one above MaxFileBytes before reading),
// hashes it and decides its format.
func (s *Store) load(j *job, format Format, folder bool) error {
	p := j.res.Path
	f, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	if !st.Mode().IsRegular() {
		return invalid("%s: not a regular file", p)
	}
	skip := func() error {
		if !folder {
			return invalid("%s: unrecognised format (give one of %v)", p, Formats())
		}
		j.res.Status = StatusSkipped
		j.done = true
		return nil
	}
	// Files whose name no format has are skipped (or refused) unread, and
	// a file above the limit is refused before it is read.
	if format == "" && !candidateName(j.res.Name) || folder && format != "" && !candidateName(j.res.Name) {
		return skip()
	}
	if st.Size() > s.opt.MaxFileBytes {
		return fmt.Errorf("tags: %s: %w: %d bytes, the limit is %d", p, errTooLarge, st.Size(), s.opt.MaxFileBytes)
	}
	data, err := io.ReadAll(io.LimitReader(f, s.opt.MaxFileBytes+1))
	if err != nil {
		return fmt.Errorf("tags: %s: %w", p, err)
	}
	if int64(len(data)) > s.opt.MaxFileBytes {
		return fmt.Errorf("tags: %s: %w: more than %d bytes", p, errTooLarge, s.opt.MaxFileBytes)
	}
	head := data[:min(len(data), detectHead)]
	detected := detect(j.res.Name, head)
	switch {
	case format == "" && detected == "":
		return skip()
	case format == "":
		j.format = detected
		j.detected = true
	case folder && detected != format && !(format == FormatActorPack && detected == FormatTagPack):
		return skip()
	default:
		j.format = format
	}
	j.res.Format = j.format
	sum := sha256.Sum256(data)
	j.res.SHA256 = hex.EncodeToString(sum[:])
	j.data = data
	if j.format == FormatOFACCSV {
		j.role = ofacCSVRole(j.res.Name, head)
		if j.role == "" {
			// Given as ofac-csv: two columns are SDN_COMMENTS.CSV whatever
			// the name; anything else is read as SDN.CSV, whose reader says
			// what is wrong.
			j.role = "sdn"
			if ofacCSVRole("comments", head) == "comments" {
				j.role = "comments"
			}
		}
	}
	return nil
}

// pairOFAC pairs one SDN.CSV with one SDN_COMMENTS.CSV: in a folder import
// per directory, in an import of files across the files given.
func pairOFAC(jobs []*job) {
	groups := make(map[string][]*job)
	var dirs []string
	for _, j := range jobs {
		if j.done || j.format != FormatOFACCSV {
			continue
		}
		d := filepath.Dir(j.res.Path)
		if groups[d] == nil {
			dirs = append(dirs, d)
		}
		groups[d] = append(groups[d], j)
	}
	pair := func(js []*job) bool {
		var sdn, com []*job
		for _, j := range js {
			if j.role == "comments" {
				com = append(com, j)
			} else {
				sdn = append(sdn, j)
			}
		}
		if len(sdn) == 1 && len(com) == 1 {
			sdn[0].companion, com[0].companion = com[0], sdn[0]
			return true
		}
		return false
	}
	paired := false
	for _, d := range dirs {
		paired = pair(groups[d]) || paired
	}
	if !paired && len(dirs) > 1 {
		var all []*job
		for _, d := range dirs {
			all = append(all, groups[d]...)
		}
		pair(all)
	}
}

// run parses and stores one job (and its OFAC companion). Errors are
// recorded in the results; the one returned tells the caller whether to go
// on.
func (s *Store) run(ctx context.Context, j *job, now time.Time) error {
	if j.done {
		return nil
	}
	if j.format == FormatOFACCSV {
		return s.runOFACCSV(ctx, j, now)
	}
	if same, err := s.unchanged(ctx, j, ""); err != nil {
		return err
	} else if same {
		return nil
	}
	var p *parsed
	var err error
	lim := s.opt.limits()
	switch j.format {
	case FormatTagPack:
		if j.detected {
			p, err = parseYAMLPack(j.res.Path, j.data, lim) // detected by name: the content decides
		} else {
			p, err = parseTagPack(j.res.Path, j.data, lim)
		}
	case FormatActorPack:
		p, err = parseActorPack(j.res.Path, j.data, lim)
	case FormatOFACXML:
		p, err = parseOFACXML(j.res.Path, bytes.NewReader(j.data))
	case FormatOFACList:
		p, err = parseOFACList(j.res.Path, j.data)
	case FormatCSV:
		p, err = parseCSV(j.res.Path, j.data)
	case FormatEtherscanCSV:
		p, err = parseEtherscanCSV(j.res.Path, j.data)
	default:
		err = invalid("%s: unknown format %q", j.res.Path, j.format)
	}
	j.data = nil
	if err != nil {
		s.fail(j, err)
		return err
	}
	return s.store(ctx, j, p, "", now)
}

func (s *Store) runOFACCSV(ctx context.Context, j *job, now time.Time) error {
	sdn, com := j, j.companion
	if j.role == "comments" {
		sdn, com = j.companion, j
	}
	sha := func(x *job) string {
		if x == nil {
			return ""
		}
		return x.res.SHA256
	}
	// Both unchanged (each with the same companion as before): nothing to do.
	allSame := true
	for _, x := range []*job{sdn, com} {
		if x == nil {
			continue
		}
		other := sdn
		if x == sdn {
			other = com
		}
		same, err := s.unchanged(ctx, x, sha(other))
		if err != nil {
			return err
		}
		allSame = allSame && same
	}
	if allSame {
		return nil
	}
	for _, x := range []*job{sdn, com} {
		if x != nil && x.res.Err == nil {
			x.res.Status, x.res.Format = "", FormatOFACCSV
			x.res.Tags, x.res.Notes = 0, nil
			x.done = false
		}
	}
	var in [2]*ofacCSVInput
	for i, x := range []*job{sdn, com} {
		if x != nil {
			in[i] = &ofacCSVInput{file: x.res.Path, data: x.data}
		}
	}
	sp, cp, serr, cerr := parseOFACCSV(in[0], in[1], func(ent int64) string { return s.ofacName(ctx, ent) })
	var first error
	for _, r := range []struct {
		x        *job
		p        *parsed
		err      error
		other    *job
		otherErr error
	}{{sdn, sp, serr, com, cerr}, {com, cp, cerr, sdn, serr}} {
		if r.x == nil || r.x.res.Err != nil {
			continue
		}
		r.x.data = nil
		if r.err != nil {
			s.fail(r.x, r.err)
			if first == nil {
				first = r.err
			}
			continue
		}
		companion := sha(r.other)
		if r.otherErr != nil {
			companion = "" // the other file failed: this one was read alone
		}
		if err := s.store(ctx, r.x, r.p, companion, now); err != nil {
			if !IsInvalid(err) {
				return err
			}
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// ofacName returns the SDN name of ent_num from stored SDN.CSV packs.
func (s *Store) ofacName(ctx context.Context, ent int64) string {
	var name string
	err := s.db.QueryRowContext(ctx, `SELECT n.name FROM ofac_names n JOIN packs p ON p.id = n.pack_id
		WHERE n.ent_num = ? AND n.name <> '' ORDER BY p.imported_at DESC, p.name LIMIT 1`, ent).Scan(&name)
	if err != nil {
		return ""
	}
	return name
}

// unchanged reports (and records in the result) whether the job's file is
// stored under the same name with the same content and companion.
func (s *Store) unchanged(ctx context.Context, j *job, companion string) (bool, error) {
	var sha, comp string
	var format Format
	var id int64
	err := s.db.QueryRowContext(ctx, `SELECT id, sha256, companion_sha256, format FROM packs WHERE name = ?`, j.res.Name).Scan(&id, &sha, &comp, &format)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tags: %w", err)
	}
	if format == FormatUser {
		err := invalid("%s: the pack name %q is reserved for user tags", j.res.Path, UserPack)
		s.fail(j, err)
		return true, nil
	}
	if sha != j.res.SHA256 || comp != companion {
		return false, nil
	}
	j.res.Status = StatusUnchanged
	j.res.Format = format
	if err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM tags WHERE pack_id = ?), (SELECT COUNT(*) FROM actors WHERE pack_id = ?)`, id, id).Scan(&j.res.Tags, &j.res.Actors); err != nil {
		return false, fmt.Errorf("tags: %w", err)
	}
	j.res.Notes = append(j.res.Notes, "same name and content as the stored pack: not read again")
	j.done = true
	return true, nil
}

const tagColumns = `line, address, address_problem, currency, network, tx_hash, label, category, abuse, concepts, tag_type,
	source, confidence, confidence_level, creator, lastmod, actor, context, is_public, is_cluster_definer, sanctioned`

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// store writes a parsed file as a pack, in one transaction: a pack of the
// same name is replaced.
func (s *Store) store(ctx context.Context, j *job, p *parsed, companion string, now time.Time) (err error) {
	defer func() {
		if err != nil {
			s.fail(j, err)
		}
	}()
	problems := 0
	for i := range p.tags {
		t := &p.tags[i]
		t.Sanctioned = isSanctioned(p.format, t)
		if t.AddressProblem != "" {
			problems++
			if problems <= maxProblemNotes {
				p.notes = append(p.notes, fmt.Sprintf("%s:%d: %s (flagged in address_problem)", j.res.Name, t.Line, t.AddressProblem))
			}
		}
	}
	if problems > maxProblemNotes {
		p.notes = append(p.notes, fmt.Sprintf("%s: %d more addresses that do not validate, flagged in address_problem", j.res.Name, problems-maxProblemNotes))
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	defer tx.Rollback()
	var id int64
	status := StatusImported
	switch err := tx.QueryRowContext(ctx, `SELECT id FROM packs WHERE name = ?`, j.res.Name).Scan(&id); {
	case errors.Is(err, sql.ErrNoRows):
		res, err := tx.ExecContext(ctx, `INSERT INTO packs(name, format, sha256, companion_sha256, title, creator, path, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			j.res.Name, string(p.format), j.res.SHA256, companion, p.title, p.creator, j.res.Path, now.UTC().Format(time.RFC3339))
		if err != nil {
			return fmt.Errorf("tags: %w", err)
		}
		if id, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
	case err != nil:
		return fmt.Errorf("tags: %w", err)
	default:
		status = StatusReplaced
		for _, q := range []string{`DELETE FROM tags WHERE pack_id = ?`, `DELETE FROM actors WHERE pack_id = ?`, `DELETE FROM ofac_names WHERE pack_id = ?`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("tags: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE packs SET format = ?, sha256 = ?, companion_sha256 = ?, title = ?, creator = ?, path = ?, imported_at = ? WHERE id = ?`,
			string(p.format), j.res.SHA256, companion, p.title, p.creator, j.res.Path, now.UTC().Format(time.RFC3339), id); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
	}
	if err := insertTags(ctx, tx, id, p.tags); err != nil {
		return err
	}
	if len(p.actors) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO actors(pack_id, id, line, label, uri, categories, jurisdictions, aliases, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("tags: %w", err)
		}
		defer st.Close()
		for _, a := range p.actors {
			if _, err := st.ExecContext(ctx, id, a.ID, a.Line, a.Label, a.URI, strings.Join(a.Categories, ","),
				strings.Join(a.Jurisdictions, ","), joinList(a.Aliases), a.Context); err != nil {
				return fmt.Errorf("tags: %w", err)
			}
		}
	}
	if len(p.names) > 0 {
		st, err := tx.PrepareContext(ctx, `INSERT INTO ofac_names(pack_id, ent_num, name) VALUES (?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("tags: %w", err)
		}
		defer st.Close()
		for ent, name := range p.names {
			if _, err := st.ExecContext(ctx, id, ent, name); err != nil {
				return fmt.Errorf("tags: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	j.res.Status = status
	j.res.Format = p.format
	j.res.Tags = len(p.tags)
	j.res.Actors = len(p.actors)
	j.res.Notes = append(j.res.Notes, p.notes...)
	j.done = true
	s.log.Info("tags: imported", "file", j.res.Path, "format", p.format, "status", status, "tags", len(p.tags), "actors", len(p.actors))
	return nil
}

func insertTags(ctx context.Context, tx *sql.Tx, packID int64, tags []Tag) error {
	if len(tags) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO tags(pack_id, `+tagColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	defer st.Close()
	for i, t := range tags {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if _, err := st.ExecContext(ctx, packID, t.Line, t.Address, t.AddressProblem, t.Currency, t.Network, t.TxHash, t.Label, t.Category, t.Abuse,
			strings.Join(t.Concepts, ","), t.TagType, t.Source, t.Confidence, t.ConfidenceLevel, t.Creator, t.LastMod, t.Actor,
			t.Context, b2i(t.IsPublic), b2i(t.IsClusterDefiner), b2i(t.Sanctioned)); err != nil {
			return fmt.Errorf("tags: %w", err)
		}
	}
	return nil
}

// joinList stores a list of free text as a JSON array.
func joinList(l []string) string {
	if len(l) == 0 {
		return ""
	}
	b := []byte{'['}
	for i, s := range l {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return string(append(b, ']'))
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

const selectTags = `SELECT p.id, p.name, p.format, p.sha256, p.title, t.` + `line, t.address, t.address_problem, t.currency, t.network, t.tx_hash, t.label,
	t.category, t.abuse, t.concepts, t.tag_type, t.source, t.confidence, t.confidence_level, t.creator, t.lastmod, t.actor,
	t.context, t.is_public, t.is_cluster_definer, t.sanctioned
	FROM tags t JOIN packs p ON p.id = t.pack_id`

func scanTag(rows *sql.Rows) (Tag, error) {
	var t Tag
	var concepts string
	var format string
	var pub, def, sanc int
	err := rows.Scan(&t.Pack.ID, &t.Pack.Name, &format, &t.Pack.SHA256, &t.Pack.Title, &t.Line, &t.Address, &t.AddressProblem, &t.Currency,
		&t.Network, &t.TxHash, &t.Label, &t.Category, &t.Abuse, &concepts, &t.TagType, &t.Source, &t.Confidence,
		&t.ConfidenceLevel, &t.Creator, &t.LastMod, &t.Actor, &t.Context, &pub, &def, &sanc)
	t.Pack.Format = Format(format)
	t.Concepts = splitList(concepts)
	t.IsPublic, t.IsClusterDefiner, t.Sanctioned = pub != 0, def != 0, sanc != 0
	return t, err
}

// ByAddress returns every tag of each address, keyed by the address as
// given; addresses without tags are absent. Query addresses are normalised
// as stored ones (CheckQueryAddress): an ETH address in lower case, upper
// case or EIP-55's mixed case finds the same tags. A 0x address in mixed
// case with a wrong EIP-55 checksum finds only the tags of a published list
// that gives exactly that text (kept as given and flagged in
// AddressProblem); when there are none, the whole query is refused with an
// error wrapping chain.ErrInvalid that names the address, so that a typing
// error never screens clean. Tags come in the order pack name, line.
func (s *Store) ByAddress(ctx context.Context, addrs []string) (map[string][]Tag, error) {
	verbatim := map[string]bool{}
	for _, a := range addrs {
		if _, err := CheckQueryAddress(a); err != nil {
			t := strings.TrimSpace(a)
			var one int
			switch qerr := s.db.QueryRowContext(ctx, `SELECT 1 FROM tags WHERE address = ? AND address_problem != '' LIMIT 1`, t).Scan(&one); {
			case errors.Is(qerr, sql.ErrNoRows):
				return nil, err
			case qerr != nil:
				return nil, fmt.Errorf("tags: %w", qerr)
			}
			verbatim[t] = true
		}
	}
	return s.by(ctx, "address", addrs, func(a string) string {
		if t := strings.TrimSpace(a); verbatim[t] {
			return t
		}
		return NormalizeAddress(a)
	})
}

// ByTx returns every tag of each transaction hash, keyed as given.
func (s *Store) ByTx(ctx context.Context, hashes []string) (map[string][]Tag, error) {
	return s.by(ctx, "tx_hash", hashes, func(h string) string {
		if n, ok := normTxHash(h); ok {
			return n
		}
		return strings.TrimSpace(h)
	})
}

func (s *Store) by(ctx context.Context, column string, keys []string, norm func(string) string) (map[string][]Tag, error) {
	out := make(map[string][]Tag)
	want := make(map[string][]string) // normalised → keys as given
	var list []string
	for _, k := range keys {
		n := norm(k)
		if n == "" {
			continue
		}
		if _, ok := want[n]; !ok {
			list = append(list, n)
		}
		want[n] = append(want[n], k)
	}
	const chunk = 500
	var actorIDs []string
	seenActor := make(map[string]bool)
	for i := 0; i < len(list); i += chunk {
		part := list[i:min(i+chunk, len(list))]
		args := make([]any, len(part))
		for k, v := range part {
			args[k] = v
		}
		q := selectTags + ` WHERE t.` + column + ` IN (?` + strings.Repeat(",?", len(part)-1) + `) ORDER BY p.name, t.line, t.id`
		rows, err := s.db.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		for rows.Next() {
			t, err := scanTag(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("tags: %w", err)
			}
			key := t.Address
			if column == "tx_hash" {
				key = t.TxHash
			}
			for _, k := range uniq(want[key]) {
				out[k] = append(out[k], t)
			}
			if t.Actor != "" && !seenActor[t.Actor] {
				seenActor[t.Actor] = true
				actorIDs = append(actorIDs, t.Actor)
			}
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
	}
	if len(actorIDs) > 0 {
		actors, err := s.Actors(ctx, actorIDs)
		if err != nil {
			return nil, err
		}
		for k, ts := range out {
			for i := range ts {
				if a, ok := actors[ts[i].Actor]; ok {
					ts[i].ActorLabel = a.Label
				}
			}
			out[k] = ts
		}
	}
	return out, nil
}

func uniq(l []string) []string {
	if len(l) < 2 {
		return l
	}
	seen := make(map[string]bool, len(l))
	out := l[:0:0]
	for _, s := range l {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// Actors returns the actors of the given ids that any stored ActorPack
// defines. When several packs define an id, the pack first by name wins.
func (s *Store) Actors(ctx context.Context, ids []string) (map[string]Actor, error) {
	out := make(map[string]Actor)
	const chunk = 500
	for i := 0; i < len(ids); i += chunk {
		part := ids[i:min(i+chunk, len(ids))]
		args := make([]any, len(part))
		for k, v := range part {
			args[k] = v
		}
		rows, err := s.db.QueryContext(ctx, `SELECT p.id, p.name, p.format, p.sha256, p.title, a.id, a.line, a.label, a.uri,
			a.categories, a.jurisdictions, a.aliases, a.context
			FROM actors a JOIN packs p ON p.id = a.pack_id WHERE a.id IN (?`+strings.Repeat(",?", len(part)-1)+`) ORDER BY p.name DESC`, args...)
		if err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		for rows.Next() {
			var a Actor
			var format, cats, jur, aliases string
			if err := rows.Scan(&a.Pack.ID, &a.Pack.Name, &format, &a.Pack.SHA256, &a.Pack.Title, &a.ID, &a.Line, &a.Label, &a.URI,
				&cats, &jur, &aliases, &a.Context); err != nil {
				rows.Close()
				return nil, fmt.Errorf("tags: %w", err)
			}
			a.Pack.Format = Format(format)
			a.Categories, a.Jurisdictions = splitList(cats), splitList(jur)
			a.Aliases = parseJSONList(aliases)
			out[a.ID] = a // later rows (earlier pack names) win
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
	}
	return out, nil
}

// Count returns the number of stored tags.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM tags`).Scan(&n); err != nil {
		return 0, fmt.Errorf("tags: %w", err)
	}
	return n, nil
}

// Addresses returns every distinct tagged address of a currency (as
// stored: normalised), sorted.
func (s *Store) Addresses(ctx context.Context, currency string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT address FROM tags WHERE currency = ? AND address != '' ORDER BY address`, currency)
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var a string
		if err := rows.Scan(&a); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	return out, nil
}

// Packs lists the stored packs by name.
func (s *Store) Packs(ctx context.Context) ([]PackInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT p.id, p.name, p.format, p.sha256, p.title, p.creator, p.path, p.imported_at,
		(SELECT COUNT(*) FROM tags t WHERE t.pack_id = p.id), (SELECT COUNT(*) FROM actors a WHERE a.pack_id = p.id)
		FROM packs p ORDER BY p.name`)
	if err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	defer rows.Close()
	var out []PackInfo
	for rows.Next() {
		var p PackInfo
		var format string
		if err := rows.Scan(&p.ID, &p.Name, &format, &p.SHA256, &p.Title, &p.Creator, &p.Path, &p.ImportedAt, &p.Tags, &p.Actors); err != nil {
			return nil, fmt.Errorf("tags: %w", err)
		}
		p.Format = Format(format)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tags: %w", err)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func parseJSONList(s string) []string {
	if s == "" {
		return nil
	}
	var l []string
	if json.Unmarshal([]byte(s), &l) != nil {
		return nil
	}
	return l
}

// Version returns a string that changes whenever the tags change (an
// import, a re-import, a user tag), so that callers can cache what they
// derive from them.
func (s *Store) Version(ctx context.Context) (string, error) {
	var n, maxID int64
	var packs string
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(MAX(rowid), 0),
		(SELECT COALESCE(group_concat(id || ':' || sha256 || ':' || imported_at, ','), '') FROM packs) FROM tags`).Scan(&n, &maxID, &packs)
	if err != nil {
		return "", fmt.Errorf("tags: %w", err)
	}
	return fmt.Sprintf("%d/%d/%s", n, maxID, packs), nil
}

// SearchLabels returns up to limit tags whose label contains text (ASCII
// letters compared without case), ordered by label, then address and
// transaction: the tag-label suggestions of the workspace's search box.
func (s *Store) SearchLabels(ctx context.Context, text string, limit int) ([]Tag, error) {
	text = strings.TrimSpace(text)
	if text == "" || limit <= 0 {
		return nil, nil
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
	rows, err := s.db.QueryContext(ctx, selectTags+` WHERE t.label LIKE ? ESCAPE '\' ORDER BY t.label, t.address, t.tx_hash, p.name, t.line LIMIT ?`,
		"%"+esc+"%", limit)
	if err != nil {
		return nil, fmt.Errorf("tags: search labels: %w", err)
	}
	defer rows.Close()
	var out []Tag
	for rows.Next() {
		t, err := scanTag(rows)
		if err != nil {
			return nil, fmt.Errorf("tags: search labels: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("tags: search labels: %w", err)
	}
	return out, nil
}
