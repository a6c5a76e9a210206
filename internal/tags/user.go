package tags

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/vestigo-forensics/vestigo/internal/chain"
)

// AddUserTag stores a tag an analyst makes, in the pack "user". It is
// validated like an imported TagPack tag: Creator, Label, Source and
// Currency are required, the address (or tx_hash) must be valid for the
// currency, Category, Abuse and Concepts must be taxonomy concepts, and
// Confidence a taxonomy id (DefaultConfidence if empty; ConfidenceLevel
// follows from it). LastMod defaults to now's date. Pack, Line, ActorLabel
// and Sanctioned are set by the store.
func (s *Store) AddUserTag(ctx context.Context, t Tag, now time.Time) error {
	const file = "user tag"
	t.Creator = strings.TrimSpace(t.Creator)
	if t.Creator == "" {
		return invalid("user tag: creator required")
	}
	if strings.TrimSpace(t.Label) == "" {
		return invalid("user tag: label required")
	}
	if strings.TrimSpace(t.Source) == "" {
		return invalid("user tag: source required (where does the attribution come from?)")
	}
	if strings.TrimSpace(t.Currency) == "" {
		return invalid("user tag: currency required")
	}
	if t.Confidence == "" {
		t.Confidence = DefaultConfidence
	}
	if t.LastMod == "" {
		t.LastMod = now.UTC().Format("2006-01-02")
	}
	for _, c := range t.Concepts {
		if !IsConcept(c) {
			return invalid("user tag: unknown concept %q (not in the GraphSense concepts taxonomy)", truncate(c, 64))
		}
	}
	t.Line = 0
	t.ActorLabel = ""
	t.AddressProblem = ""
	if err := checkTag(file, &t, func(string) int { return 0 }, true); err != nil {
		return err
	}
	t.Sanctioned = isSanctioned(FormatUser, &t)
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	defer tx.Rollback()
	id, err := userPack(ctx, tx, now)
	if err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(line), 0) + 1 FROM tags WHERE pack_id = ?`, id).Scan(&t.Line); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	if err := insertTags(ctx, tx, id, []Tag{t}); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE packs SET imported_at = ? WHERE id = ?`, now.UTC().Format(time.RFC3339), id); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	return nil
}

func userPack(ctx context.Context, tx *sql.Tx, now time.Time) (int64, error) {
	var id int64
	var format string
	err := tx.QueryRowContext(ctx, `SELECT id, format FROM packs WHERE name = ?`, UserPack).Scan(&id, &format)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		res, err := tx.ExecContext(ctx, `INSERT INTO packs(name, format, sha256, title, creator, imported_at) VALUES (?, ?, '', 'User tags', '', ?)`,
			UserPack, string(FormatUser), now.UTC().Format(time.RFC3339))
		if err != nil {
			return 0, fmt.Errorf("tags: %w", err)
		}
		return res.LastInsertId()
	case err != nil:
		return 0, fmt.Errorf("tags: %w", err)
	case Format(format) != FormatUser:
		return 0, invalid("an imported file named %q holds the pack name reserved for user tags", UserPack)
	}
	return id, nil
}

// ExportUserPack writes the user tags of creator as a GraphSense TagPack
// (YAML) that imports back to the same tags. Every text is written quoted,
// so no value changes type on the way back. is_public is a header field in
// TagPacks: it is written true only when every exported tag is public.
func (s *Store) ExportUserPack(ctx context.Context, w io.Writer, creator string) error {
	creator = strings.TrimSpace(creator)
	if creator == "" {
		return invalid("export: creator required")
	}
	rows, err := s.db.QueryContext(ctx, selectTags+` WHERE p.name = ? AND p.format = ? AND t.creator = ? ORDER BY t.line, t.id`,
		UserPack, string(FormatUser), creator)
	if err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	var ts []Tag
	for rows.Next() {
		t, err := scanTag(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("tags: %w", err)
		}
		ts = append(ts, t)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("tags: %w", err)
	}
	if len(ts) == 0 {
		return fmt.Errorf("tags: %w: no user tags of creator %q", chain.ErrNotFound, creator)
	}
	public := true
	for _, t := range ts {
		public = public && t.IsPublic
	}
	str := func(v string) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v, Style: yaml.DoubleQuotedStyle}
	}
	boolean := func(v bool) *yaml.Node {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(v)}
	}
	root := &yaml.Node{Kind: yaml.MappingNode}
	add := func(m *yaml.Node, k string, v *yaml.Node) {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: k}, v)
	}
	add(root, "title", str("Vestigo user tags of "+creator))
	add(root, "creator", str(creator))
	add(root, "description", str("Attribution tags added by analysts in Vestigo"))
	if public {
		add(root, "is_public", boolean(true))
	}
	list := &yaml.Node{Kind: yaml.SequenceNode}
	for _, t := range ts {
		m := &yaml.Node{Kind: yaml.MappingNode}
		opt := func(k, v string) {
			if v != "" {
				add(m, k, str(v))
			}
		}
		opt("address", t.Address)
		opt("tx_hash", t.TxHash)
		add(m, "currency", str(t.Currency))
		if t.Network != t.Currency {
			opt("network", t.Network)
		}
		add(m, "label", str(t.Label))
		add(m, "source", str(t.Source))
		opt("category", t.Category)
		opt("abuse", t.Abuse)
		if len(t.Concepts) > 0 {
			seq := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
			for _, c := range t.Concepts {
				seq.Content = append(seq.Content, str(c))
			}
			add(m, "concepts", seq)
		}
		opt("tag_type", t.TagType)
		opt("confidence", t.Confidence)
		opt("lastmod", t.LastMod)
		opt("actor", t.Actor)
		opt("context", t.Context)
		if t.IsClusterDefiner {
			add(m, "is_cluster_definer", boolean(true))
		}
		list.Content = append(list.Content, m)
	}
	add(root, "tags", list)
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return fmt.Errorf("tags: export: %w", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("tags: export: %w", err)
	}
	return nil
}
