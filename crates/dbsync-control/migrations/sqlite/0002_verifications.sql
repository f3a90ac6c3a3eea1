-- Verify results (issue 5): one row per pair checked, with its tables' counts, so that
-- `status` shows the last verify of each pair and the history keeps the earlier ones.
CREATE TABLE verifications (
    id           INTEGER PRIMARY KEY,
    pair         TEXT NOT NULL REFERENCES pairs (name) ON DELETE CASCADE,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER NOT NULL,
    -- Repeats what the tables say (every count 0), so that a listing need not join them.
    equal        INTEGER NOT NULL CHECK (equal IN (0, 1)),
    -- The whole report as `dbsync verify --json` prints it, first keys included.
    report       TEXT NOT NULL
);
CREATE INDEX verifications_by_pair ON verifications (pair, finished_at);
CREATE INDEX verifications_by_end ON verifications (finished_at);

CREATE TABLE verification_tables (
    verification  INTEGER NOT NULL REFERENCES verifications (id) ON DELETE CASCADE,
    table_name    TEXT NOT NULL,
    source_rows   INTEGER NOT NULL,
    target_rows   INTEGER NOT NULL,
    missing       INTEGER NOT NULL,
    extra         INTEGER NOT NULL,
    different     INTEGER NOT NULL,
    PRIMARY KEY (verification, table_name)
);
