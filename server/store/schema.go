package store

// migrations are the schema steps, in order; PRAGMA user_version counts
// how many a database has had. Never edit a released step: append a new
// one, so that every existing database reaches the same schema.
//
// Conventions: times are INTEGER Unix nanoseconds in UTC, 0 when unknown
// (see toNS); statuses are their wire names ("FAIL"), so that the file
// reads the same as the API; severities are checks.Severity numbers
// (1 info … 5 critical, 0 unset), so that SQL can order and MAX them.
var migrations = []string{
	// 1: initial schema.
	`
CREATE TABLE hosts (
	id                TEXT PRIMARY KEY,
	identity          TEXT NOT NULL,            -- JSON report.Identity
	facts             TEXT NOT NULL,            -- JSON report.Facts
	baseline          TEXT NOT NULL,            -- JSON report.BaselineRef
	plugins           TEXT NOT NULL,            -- JSON []report.PluginRef
	hostname          TEXT NOT NULL DEFAULT '', -- copies of identity/facts fields the fleet view lists,
	os                TEXT NOT NULL DEFAULT '', -- so that listing hosts decodes no JSON
	platform          TEXT NOT NULL DEFAULT '',
	grp               TEXT NOT NULL DEFAULT '', -- agent group ("group" is an SQL keyword)
	agent_version     TEXT NOT NULL DEFAULT '',
	first_seen        INTEGER NOT NULL,
	last_report_at    INTEGER NOT NULL,         -- server clock: staleness must not trust agent clocks
	last_heartbeat_at INTEGER NOT NULL DEFAULT 0,
	last_sequence     INTEGER NOT NULL,
	last_scan_id      TEXT NOT NULL,
	interval_seconds  INTEGER NOT NULL DEFAULT 0, -- 0: the agent never said; Options.DefaultInterval applies
	stale             INTEGER NOT NULL DEFAULT 0,
	n_pass            INTEGER NOT NULL DEFAULT 0,
	n_fail            INTEGER NOT NULL DEFAULT 0,
	n_error           INTEGER NOT NULL DEFAULT 0,
	n_not_applicable  INTEGER NOT NULL DEFAULT 0,
	n_skipped         INTEGER NOT NULL DEFAULT 0,
	results_digest    BLOB NOT NULL             -- resultsDigest of the stored results; equal digest: nothing to rewrite
);
CREATE INDEX hosts_grp ON hosts(grp);

CREATE TABLE results (
	host_id      TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
	check_id     TEXT NOT NULL,
	title        TEXT NOT NULL,
	status       TEXT NOT NULL,
	severity     INTEGER NOT NULL,
	message      TEXT NOT NULL,
	evidence     TEXT NOT NULL,   -- JSON []checks.Evidence, "[]" when none
	fingerprint  TEXT NOT NULL,   -- drift.Fingerprint
	status_since INTEGER NOT NULL,
	PRIMARY KEY (host_id, check_id)
);
-- Deviations, failing hosts per check and scores read only failing rows.
CREATE INDEX results_failing ON results(check_id, host_id) WHERE status = 'FAIL';

-- check_stats counts results per check across the fleet. Apply keeps it in
-- the same transaction as results, from the rows it writes, so that the
-- fleet's check view reads one row per check instead of every host's
-- results (a GROUP BY over 150k rows takes 0.3 s; an index to speed it up
-- costs a third of first-report ingest).
CREATE TABLE check_stats (
	check_id         TEXT PRIMARY KEY,
	title            TEXT NOT NULL, -- as most recently written
	severity         INTEGER NOT NULL,
	hosts            INTEGER NOT NULL,
	n_pass           INTEGER NOT NULL,
	n_fail           INTEGER NOT NULL,
	n_error          INTEGER NOT NULL,
	n_not_applicable INTEGER NOT NULL,
	n_skipped        INTEGER NOT NULL
);

CREATE TABLE scans (
	id               INTEGER PRIMARY KEY,
	scan_id          TEXT NOT NULL UNIQUE,
	host_id          TEXT NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
	sequence         INTEGER NOT NULL,
	started_at       INTEGER NOT NULL,
	finished_at      INTEGER NOT NULL,
	received_at      INTEGER NOT NULL,
	baseline_sha256  TEXT NOT NULL,
	n_pass           INTEGER NOT NULL,
	n_fail           INTEGER NOT NULL,
	n_error          INTEGER NOT NULL,
	n_not_applicable INTEGER NOT NULL,
	n_skipped        INTEGER NOT NULL,
	outcome          TEXT NOT NULL   -- Outcome.String(): applied or out_of_order
);
CREATE INDEX scans_host ON scans(host_id, sequence);

-- drift_events is the audit trail: rows are only ever appended. No foreign
-- key to hosts, so that no host deletion can take its history with it.
CREATE TABLE drift_events (
	id            INTEGER PRIMARY KEY,
	host_id       TEXT NOT NULL,
	kind          TEXT NOT NULL,
	check_id      TEXT NOT NULL DEFAULT '',
	severity      INTEGER NOT NULL DEFAULT 0,
	from_status   TEXT NOT NULL DEFAULT '',
	to_status     TEXT NOT NULL DEFAULT '',
	from_evidence TEXT,            -- JSON, NULL when none
	to_evidence   TEXT,
	message       TEXT NOT NULL DEFAULT '',
	scan_id       TEXT NOT NULL DEFAULT '',
	sequence      INTEGER NOT NULL DEFAULT 0,
	at            INTEGER NOT NULL
);
CREATE INDEX drift_events_host ON drift_events(host_id, id);
CREATE INDEX drift_events_check ON drift_events(check_id, id);
CREATE INDEX drift_events_kind ON drift_events(kind, id);
CREATE INDEX drift_events_at ON drift_events(at);
CREATE TRIGGER drift_events_no_update BEFORE UPDATE ON drift_events
BEGIN SELECT RAISE(ABORT, 'drift_events is append-only'); END;
CREATE TRIGGER drift_events_no_delete BEFORE DELETE ON drift_events
BEGIN SELECT RAISE(ABORT, 'drift_events is append-only'); END;

CREATE TABLE waivers (
	host_id  TEXT NOT NULL,  -- a host id, or '*' for every host
	check_id TEXT NOT NULL,
	owner    TEXT NOT NULL,
	reason   TEXT NOT NULL,
	expires  INTEGER NOT NULL,
	created  INTEGER NOT NULL,
	PRIMARY KEY (host_id, check_id)
);

CREATE TABLE rejected (
	id      INTEGER PRIMARY KEY,
	subject TEXT NOT NULL,
	reason  TEXT NOT NULL,
	at      INTEGER NOT NULL,
	size    INTEGER NOT NULL,
	data    BLOB
);
`,
	// 2: what agents say about themselves in heartbeats.
	`
ALTER TABLE hosts ADD COLUMN agent_error TEXT NOT NULL DEFAULT '';
ALTER TABLE hosts ADD COLUMN agent_spooled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN agent_spool_dropped INTEGER NOT NULL DEFAULT 0;
`,
}
