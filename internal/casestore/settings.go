package casestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
)

// Languages are the languages of the web workspace, as BCP 47 tags: a
// user's language is one of them. English is the default.
var Languages = []string{"en", "sq", "mk", "sr-Latn", "sr-Cyrl"}

// Language returns the principal's language, "" when the user has not
// chosen one.
func (s *Store) Language(ctx context.Context, p Principal) (string, error) {
	var lang string
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT language FROM user_settings WHERE user_id = ?`), p.UserID).Scan(&lang)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("casestore: language of user %d: %w", p.UserID, err)
	}
	return lang, nil
}

// SetLanguage keeps the principal's language (one of Languages). It is a
// setting of the user's own, not evidence: it is not audited.
func (s *Store) SetLanguage(ctx context.Context, p Principal, lang string) error {
	if !slices.Contains(Languages, lang) {
		return fmt.Errorf("casestore: language %q is not one of %v: %w", lang, Languages, ErrInvalid)
	}
	// A write transaction from the start (as every write of the store):
	// SQLite cannot upgrade a reader that others write beside.
	return s.write(ctx, p, func(o *op) error {
		if _, err := s.activeUser(ctx, o.tx, p.UserID); err != nil {
			return err
		}
		_, err := o.tx.ExecContext(ctx, s.d.q(`INSERT INTO user_settings (user_id, language, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET language = excluded.language, updated_at = excluded.updated_at`),
			p.UserID, lang, micros(o.now))
		if err != nil {
			return fmt.Errorf("casestore: set the language of user %d: %w", p.UserID, err)
		}
		return nil
	})
}
