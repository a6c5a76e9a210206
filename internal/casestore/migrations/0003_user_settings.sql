-- Schema version 3: each user's settings of the web workspace (its
-- language). Settings are not evidence and not audited; dumps and backups
-- keep them.
CREATE TABLE user_settings (
	user_id {{int}} PRIMARY KEY REFERENCES users(id),
	language TEXT NOT NULL,
	updated_at {{int}} NOT NULL
);
