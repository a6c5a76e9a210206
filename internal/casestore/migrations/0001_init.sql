-- Vestigo case store, schema version 1. The same schema on SQLite and
-- PostgreSQL: {{id}} is the identity primary key and {{int}} a 64-bit
-- integer of the dialect (see dialect.go). Times are microseconds since
-- 1970-01-01 UTC (0: none); JSON is kept as text exactly as written;
-- booleans are 0 or 1; hashes, signatures and tokens are lower-case hex.
-- Optional references (lead user, assignee, the item of a note) are 0 when
-- absent and therefore not foreign keys.

CREATE TABLE agencies (
	id {{id}},
	code TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	created_at {{int}} NOT NULL
);

CREATE TABLE users (
	id {{id}},
	agency_id {{int}} NOT NULL REFERENCES agencies(id),
	username TEXT NOT NULL UNIQUE,
	role TEXT NOT NULL,
	password_hash TEXT NOT NULL,
	disabled {{int}} NOT NULL,
	created_at {{int}} NOT NULL
);

CREATE TABLE api_tokens (
	id {{id}},
	user_id {{int}} NOT NULL REFERENCES users(id),
	name TEXT NOT NULL,
	secret_sha256 TEXT NOT NULL UNIQUE,
	prefix TEXT NOT NULL,
	created_at {{int}} NOT NULL,
	last_used_at {{int}} NOT NULL,
	revoked {{int}} NOT NULL
);

CREATE TABLE sessions (
	id {{id}},
	user_id {{int}} NOT NULL REFERENCES users(id),
	secret_sha256 TEXT NOT NULL UNIQUE,
	csrf TEXT NOT NULL,
	created_at {{int}} NOT NULL,
	expires_at {{int}} NOT NULL
);

CREATE TABLE cases (
	id {{id}},
	agency_id {{int}} NOT NULL REFERENCES agencies(id),
	reference TEXT NOT NULL,
	title TEXT NOT NULL,
	status TEXT NOT NULL,
	legal_basis TEXT NOT NULL,
	lead_user_id {{int}} NOT NULL,
	opened_at {{int}} NOT NULL,
	closed_at {{int}} NOT NULL,
	origin_agency TEXT NOT NULL,
	origin_package_digest TEXT NOT NULL,
	origin_sender_key_id TEXT NOT NULL,
	imported_at {{int}} NOT NULL,
	version {{int}} NOT NULL,
	created_by {{int}} NOT NULL,
	created_at {{int}} NOT NULL,
	updated_at {{int}} NOT NULL,
	UNIQUE (agency_id, reference)
);

CREATE TABLE subjects (
	id {{id}},
	case_id {{int}} NOT NULL REFERENCES cases(id),
	name TEXT NOT NULL,
	kind TEXT NOT NULL,
	notes TEXT NOT NULL,
	version {{int}} NOT NULL,
	created_by {{int}} NOT NULL,
	created_at {{int}} NOT NULL,
	updated_at {{int}} NOT NULL
);
CREATE INDEX subjects_case ON subjects(case_id);

CREATE TABLE items (
	id {{id}},
	case_id {{int}} NOT NULL REFERENCES cases(id),
	kind TEXT NOT NULL,
	chain TEXT NOT NULL,
	network TEXT NOT NULL,
	ref TEXT NOT NULL,
	label TEXT NOT NULL,
	provenance TEXT NOT NULL,
	version {{int}} NOT NULL,
	created_by {{int}} NOT NULL,
	created_at {{int}} NOT NULL,
	updated_at {{int}} NOT NULL
);
CREATE INDEX items_case ON items(case_id);
CREATE INDEX items_ref ON items(ref, kind, chain, network);

CREATE TABLE notes (
	id {{id}},
	case_id {{int}} NOT NULL REFERENCES cases(id),
	item_id {{int}} NOT NULL,
	text TEXT NOT NULL,
	version {{int}} NOT NULL,
	created_by {{int}} NOT NULL,
	created_at {{int}} NOT NULL,
	updated_at {{int}} NOT NULL
);
CREATE INDEX notes_case ON notes(case_id);

CREATE TABLE item_tags (
	id {{id}},
	case_id {{int}} NOT NULL REFERENCES cases(id),
	item_id {{int}} NOT NULL REFERENCES items(id),
	label TEXT NOT NULL,
	category TEXT NOT NULL,
	created_by {{int}} NOT NULL,
	created_at {{int}} NOT NULL
);
CREATE INDEX item_tags_case ON item_tags(case_id);

CREATE TABLE findings (
	id {{id}},
	case_id {{int}} NOT NULL REFERENCES cases(id),
	kind TEXT NOT NULL,
	title TEXT NOT NULL,
	params TEXT NOT NULL,
	result TEXT NOT NULL,
	provenance TEXT NOT NULL,
	created_by {{int}} NOT NULL,
	created_at {{int}} NOT NULL
);
CREATE INDEX findings_case ON findings(case_id);

CREATE TABLE exhibits (
	id {{id}},
	case_id {{int}} NOT NULL REFERENCES cases(id),
	name TEXT NOT NULL,
	media_type TEXT NOT NULL,
	size {{int}} NOT NULL,
	sha256 TEXT NOT NULL,
	provenance TEXT NOT NULL,
	tsa_token TEXT NOT NULL,
	created_by {{int}} NOT NULL,
	created_at {{int}} NOT NULL
);
CREATE INDEX exhibits_case ON exhibits(case_id);

CREATE TABLE tasks (
	id {{id}},
	case_id {{int}} NOT NULL REFERENCES cases(id),
	title TEXT NOT NULL,
	assignee_id {{int}} NOT NULL,
	status TEXT NOT NULL,
	due_at {{int}} NOT NULL,
	version {{int}} NOT NULL,
	created_by {{int}} NOT NULL,
	created_at {{int}} NOT NULL,
	updated_at {{int}} NOT NULL
);
CREATE INDEX tasks_case ON tasks(case_id);

CREATE TABLE checkpoints (
	id {{id}},
	seq {{int}} NOT NULL,
	head_hash TEXT NOT NULL,
	key_id TEXT NOT NULL,
	public_key TEXT NOT NULL,
	signature TEXT NOT NULL,
	tsa_token TEXT NOT NULL,
	created_at {{int}} NOT NULL
);

CREATE TABLE audit_log (
	seq {{int}} PRIMARY KEY,
	at {{int}} NOT NULL,
	actor_id {{int}} NOT NULL,
	actor TEXT NOT NULL,
	agency_id {{int}} NOT NULL,
	action TEXT NOT NULL,
	object_type TEXT NOT NULL,
	object_id {{int}} NOT NULL,
	case_id {{int}} NOT NULL,
	detail TEXT NOT NULL,
	object_hash TEXT NOT NULL,
	prev_hash TEXT NOT NULL,
	hash TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_log(object_type, object_id);
CREATE INDEX audit_case ON audit_log(case_id);
CREATE INDEX audit_agency ON audit_log(agency_id, seq);

-- The head of the audit log: one row, locked by every append.
CREATE TABLE audit_head (
	id {{int}} PRIMARY KEY,
	seq {{int}} NOT NULL,
	hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
