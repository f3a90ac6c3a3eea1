-- Times are microseconds since the Unix epoch (UTC): one integer that sorts, compares
-- and reads the same in SQLite, MySQL and PostgreSQL.

-- The databases dbsync reads and writes. `url` holds the password: the state file is
-- created readable by its owner only, and the store never returns the URL unmasked.
CREATE TABLE connections (
    name        TEXT PRIMARY KEY,
    url         TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Sync pairs: the dbsync-config `Pair` as JSON. `source` and `target` repeat its
-- connection names so that a connection still in use cannot be deleted.
CREATE TABLE pairs (
    name        TEXT PRIMARY KEY,
    source      TEXT NOT NULL REFERENCES connections (name),
    target      TEXT NOT NULL REFERENCES connections (name),
    definition  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- Runs of pairs: their history. A run is running until it ends, and then it is
-- completed, failed or stopped for good.
CREATE TABLE runs (
    id          TEXT PRIMARY KEY,
    pair        TEXT NOT NULL REFERENCES pairs (name) ON DELETE CASCADE,
    state       TEXT NOT NULL CHECK (state IN ('running', 'completed', 'failed', 'stopped')),
    started_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    rows        INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    CHECK ((state = 'running') = (ended_at IS NULL)),
    CHECK ((state = 'failed') = (error IS NOT NULL))
);
-- Never two runs of one pair, whichever process starts them.
CREATE UNIQUE INDEX runs_one_running_per_pair ON runs (pair) WHERE state = 'running';
CREATE INDEX runs_by_pair ON runs (pair, started_at);
CREATE INDEX runs_by_end ON runs (ended_at);

CREATE TABLE run_logs (
    id          INTEGER PRIMARY KEY,
    run         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    at          INTEGER NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('error', 'warn', 'info', 'debug', 'trace')),
    message     TEXT NOT NULL
);
CREATE INDEX run_logs_by_run ON run_logs (run, id);

-- Per-table state, for display: the position mirrors the target's checkpoint, which
-- stays the truth (ARCHITECTURE.md §4).
CREATE TABLE table_state (
    pair        TEXT NOT NULL REFERENCES pairs (name) ON DELETE CASCADE,
    table_name  TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'copying', 'streaming', 'completed', 'failed', 'stopped')),
    position    TEXT,
    rows_synced INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (pair, table_name)
);

-- Rows a pair with `on_error: skip` could not apply: listed, never silently dropped.
CREATE TABLE dead_letters (
    id          INTEGER PRIMARY KEY,
    pair        TEXT NOT NULL REFERENCES pairs (name) ON DELETE CASCADE,
    table_name  TEXT NOT NULL,
    key         TEXT NOT NULL,
    row_image   TEXT,
    error       TEXT NOT NULL,
    at          INTEGER NOT NULL
);
CREATE INDEX dead_letters_by_pair ON dead_letters (pair, id);

-- Rows changed on both sides of a bidirectional pair since they were last in step.
CREATE TABLE conflicts (
    id            TEXT PRIMARY KEY,
    pair          TEXT NOT NULL REFERENCES pairs (name) ON DELETE CASCADE,
    table_name    TEXT NOT NULL,
    key           TEXT NOT NULL,
    source_row    TEXT,
    target_row    TEXT,
    detected_at   INTEGER NOT NULL,
    resolution    TEXT CHECK (resolution IN ('source', 'target', 'custom')),
    resolved_row  TEXT,
    resolved_at   INTEGER,
    CHECK ((resolution IS NULL) = (resolved_at IS NULL))
);
CREATE INDEX conflicts_unresolved ON conflicts (pair, detected_at) WHERE resolved_at IS NULL;
