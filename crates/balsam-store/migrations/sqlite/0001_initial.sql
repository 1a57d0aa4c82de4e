-- The full Balsam schema (upstream 0.7.0a24 data model) for SQLite.
-- Timestamps are INTEGER microseconds since the Unix epoch (UTC); JSON is TEXT.
-- AUTOINCREMENT keeps ids from being reused after deletes, as PostgreSQL sequences do.
-- Never edit this file after it has landed: add a new migration instead.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT NOT NULL UNIQUE,
    hashed_password TEXT,
    created_at      INTEGER NOT NULL
);

CREATE TABLE sites (
    id                        INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id                  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    path                      TEXT NOT NULL,
    globus_endpoint_id        TEXT,
    backfill_windows          TEXT NOT NULL DEFAULT '{}',
    queued_jobs               TEXT NOT NULL DEFAULT '{}',
    optional_batch_job_params TEXT NOT NULL DEFAULT '{}',
    allowed_projects          TEXT NOT NULL DEFAULT '[]',
    allowed_queues            TEXT NOT NULL DEFAULT '{}',
    transfer_locations        TEXT NOT NULL DEFAULT '{}',
    last_refresh              INTEGER NOT NULL,
    creation_date             INTEGER NOT NULL,
    CONSTRAINT sites_owner_name_key UNIQUE (owner_id, name)
);

CREATE TABLE apps (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id          INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    serialized_class TEXT NOT NULL,
    source_code      TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    parameters       TEXT NOT NULL DEFAULT '{}',
    transfers        TEXT NOT NULL DEFAULT '{}',
    CONSTRAINT apps_site_name_key UNIQUE (site_id, name)
);

CREATE TABLE batch_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id         INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    scheduler_id    INTEGER,
    project         TEXT NOT NULL,
    queue           TEXT NOT NULL,
    optional_params TEXT NOT NULL DEFAULT '{}',
    num_nodes       INTEGER NOT NULL,
    wall_time_min   INTEGER NOT NULL,
    job_mode        TEXT NOT NULL,
    filter_tags     TEXT NOT NULL DEFAULT '{}',
    partitions      TEXT,
    state           TEXT NOT NULL DEFAULT 'pending_submission',
    status_info     TEXT NOT NULL DEFAULT '{}',
    start_time      INTEGER,
    end_time        INTEGER
);
CREATE INDEX batch_jobs_site_state_idx ON batch_jobs (site_id, state);
CREATE INDEX batch_jobs_site_scheduler_idx ON batch_jobs (site_id, scheduler_id);
CREATE INDEX batch_jobs_start_time_idx ON batch_jobs (start_time);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    site_id      INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    batch_job_id INTEGER REFERENCES batch_jobs (id) ON DELETE SET NULL,
    heartbeat    INTEGER NOT NULL
);
CREATE INDEX sessions_site_idx ON sessions (site_id);
CREATE INDEX sessions_batch_job_idx ON sessions (batch_job_id);
CREATE INDEX sessions_heartbeat_idx ON sessions (heartbeat);

-- `owner_id` and `site_id` are denormalised from App → Site so that the hot queries
-- (acquire, per-site listings, state counts) never join; an App moving Site updates them.
CREATE TABLE jobs (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id                INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site_id                 INTEGER NOT NULL,
    app_id                  INTEGER NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    workdir                 TEXT NOT NULL,
    tags                    TEXT NOT NULL DEFAULT '{}',
    session_id              INTEGER REFERENCES sessions (id) ON DELETE SET NULL,
    serialized_parameters   TEXT NOT NULL DEFAULT '',
    serialized_return_value TEXT NOT NULL DEFAULT '',
    serialized_exception    TEXT NOT NULL DEFAULT '',
    batch_job_id            INTEGER REFERENCES batch_jobs (id) ON DELETE SET NULL,
    state                   TEXT NOT NULL,
    last_update             INTEGER NOT NULL,
    data                    TEXT NOT NULL DEFAULT '{}',
    return_code             INTEGER,
    pending_file_cleanup    INTEGER NOT NULL DEFAULT 1,
    parent_ids              TEXT NOT NULL DEFAULT '[]',
    num_nodes               INTEGER NOT NULL DEFAULT 1,
    ranks_per_node          INTEGER NOT NULL DEFAULT 1,
    threads_per_rank        INTEGER NOT NULL DEFAULT 1,
    threads_per_core        INTEGER NOT NULL DEFAULT 1,
    launch_params           TEXT NOT NULL DEFAULT '{}',
    gpus_per_rank           REAL NOT NULL DEFAULT 0,
    node_packing_count      INTEGER NOT NULL DEFAULT 1,
    wall_time_min           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_site_state_idx ON jobs (site_id, state, id);
CREATE INDEX jobs_owner_state_idx ON jobs (owner_id, state);
CREATE INDEX jobs_owner_last_update_idx ON jobs (owner_id, last_update);
CREATE INDEX jobs_app_idx ON jobs (app_id);
CREATE INDEX jobs_session_idx ON jobs (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX jobs_batch_job_idx ON jobs (batch_job_id) WHERE batch_job_id IS NOT NULL;

-- Reverse index of `jobs.parent_ids` (no foreign key on the parent: a deleted parent's id
-- stays in its children's `parent_ids`, as upstream).
CREATE TABLE job_parents (
    job_id    INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    parent_id INTEGER NOT NULL,
    PRIMARY KEY (job_id, parent_id)
) WITHOUT ROWID;
CREATE INDEX job_parents_parent_idx ON job_parents (parent_id);

CREATE TABLE transfer_items (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id         INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    direction      TEXT NOT NULL,
    local_path     TEXT NOT NULL,
    remote_path    TEXT NOT NULL,
    recursive      INTEGER NOT NULL DEFAULT 0,
    location_alias TEXT NOT NULL,
    state          TEXT NOT NULL,
    task_id        TEXT NOT NULL DEFAULT '',
    transfer_info  TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX transfer_items_job_idx ON transfer_items (job_id);
CREATE INDEX transfer_items_state_idx ON transfer_items (state);

CREATE TABLE log_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    timestamp  INTEGER NOT NULL,
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    data       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX log_events_job_idx ON log_events (job_id);
CREATE INDEX log_events_timestamp_idx ON log_events (timestamp);
