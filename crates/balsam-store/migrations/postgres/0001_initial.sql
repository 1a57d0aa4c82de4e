-- The full Balsam schema (upstream 0.7.0a24 data model) for PostgreSQL.
-- Timestamps are naive UTC `timestamp` (microsecond precision); JSON is jsonb.
-- Never edit this file after it has landed: add a new migration instead.

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        VARCHAR(100) NOT NULL UNIQUE,
    hashed_password TEXT,
    created_at      TIMESTAMP NOT NULL
);

CREATE TABLE sites (
    id                        BIGSERIAL PRIMARY KEY,
    owner_id                  BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name                      VARCHAR(100) NOT NULL,
    path                      VARCHAR(512) NOT NULL,
    globus_endpoint_id        UUID,
    backfill_windows          JSONB NOT NULL DEFAULT '{}',
    queued_jobs               JSONB NOT NULL DEFAULT '{}',
    optional_batch_job_params JSONB NOT NULL DEFAULT '{}',
    allowed_projects          JSONB NOT NULL DEFAULT '[]',
    allowed_queues            JSONB NOT NULL DEFAULT '{}',
    transfer_locations        JSONB NOT NULL DEFAULT '{}',
    last_refresh              TIMESTAMP NOT NULL,
    creation_date             TIMESTAMP NOT NULL,
    CONSTRAINT sites_owner_name_key UNIQUE (owner_id, name)
);

CREATE TABLE apps (
    id               BIGSERIAL PRIMARY KEY,
    site_id          BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    name             VARCHAR(200) NOT NULL,
    serialized_class TEXT NOT NULL,
    source_code      TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    parameters       JSONB NOT NULL DEFAULT '{}',
    transfers        JSONB NOT NULL DEFAULT '{}',
    CONSTRAINT apps_site_name_key UNIQUE (site_id, name)
);

CREATE TABLE batch_jobs (
    id              BIGSERIAL PRIMARY KEY,
    site_id         BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    scheduler_id    BIGINT,
    project         VARCHAR(64) NOT NULL,
    queue           VARCHAR(64) NOT NULL,
    optional_params JSONB NOT NULL DEFAULT '{}',
    num_nodes       INTEGER NOT NULL,
    wall_time_min   INTEGER NOT NULL,
    job_mode        VARCHAR(16) NOT NULL,
    filter_tags     JSONB NOT NULL DEFAULT '{}',
    partitions      JSONB,
    state           VARCHAR(32) NOT NULL DEFAULT 'pending_submission',
    status_info     JSONB NOT NULL DEFAULT '{}',
    start_time      TIMESTAMP,
    end_time        TIMESTAMP
);
CREATE INDEX batch_jobs_site_state_idx ON batch_jobs (site_id, state);
CREATE INDEX batch_jobs_site_scheduler_idx ON batch_jobs (site_id, scheduler_id);
CREATE INDEX batch_jobs_start_time_idx ON batch_jobs (start_time);

CREATE TABLE sessions (
    id           BIGSERIAL PRIMARY KEY,
    site_id      BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    batch_job_id BIGINT REFERENCES batch_jobs (id) ON DELETE SET NULL,
    heartbeat    TIMESTAMP NOT NULL
);
CREATE INDEX sessions_site_idx ON sessions (site_id);
CREATE INDEX sessions_batch_job_idx ON sessions (batch_job_id);
CREATE INDEX sessions_heartbeat_idx ON sessions (heartbeat);

-- `owner_id` and `site_id` are denormalised from App → Site so that the hot queries
-- (acquire, per-site listings, state counts) never join; an App moving Site updates them.
CREATE TABLE jobs (
    id                      BIGSERIAL PRIMARY KEY,
    owner_id                BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    site_id                 BIGINT NOT NULL,
    app_id                  BIGINT NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    workdir                 VARCHAR(256) NOT NULL,
    tags                    JSONB NOT NULL DEFAULT '{}',
    session_id              BIGINT REFERENCES sessions (id) ON DELETE SET NULL,
    serialized_parameters   TEXT NOT NULL DEFAULT '',
    serialized_return_value TEXT NOT NULL DEFAULT '',
    serialized_exception    TEXT NOT NULL DEFAULT '',
    batch_job_id            BIGINT REFERENCES batch_jobs (id) ON DELETE SET NULL,
    state                   VARCHAR(32) NOT NULL,
    last_update             TIMESTAMP NOT NULL,
    data                    JSONB NOT NULL DEFAULT '{}',
    return_code             INTEGER,
    pending_file_cleanup    BOOLEAN NOT NULL DEFAULT TRUE,
    parent_ids              JSONB NOT NULL DEFAULT '[]',
    num_nodes               INTEGER NOT NULL DEFAULT 1,
    ranks_per_node          INTEGER NOT NULL DEFAULT 1,
    threads_per_rank        INTEGER NOT NULL DEFAULT 1,
    threads_per_core        INTEGER NOT NULL DEFAULT 1,
    launch_params           JSONB NOT NULL DEFAULT '{}',
    gpus_per_rank           DOUBLE PRECISION NOT NULL DEFAULT 0,
    node_packing_count      INTEGER NOT NULL DEFAULT 1,
    wall_time_min           INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_site_state_idx ON jobs (site_id, state, id);
CREATE INDEX jobs_owner_state_idx ON jobs (owner_id, state);
CREATE INDEX jobs_owner_last_update_idx ON jobs (owner_id, last_update);
CREATE INDEX jobs_app_idx ON jobs (app_id);
CREATE INDEX jobs_session_idx ON jobs (session_id) WHERE session_id IS NOT NULL;
CREATE INDEX jobs_batch_job_idx ON jobs (batch_job_id) WHERE batch_job_id IS NOT NULL;
CREATE INDEX jobs_tags_idx ON jobs USING GIN (tags jsonb_path_ops);

-- Reverse index of `jobs.parent_ids` (no foreign key on the parent: a deleted parent's id
-- stays in its children's `parent_ids`, as upstream).
CREATE TABLE job_parents (
    job_id    BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    parent_id BIGINT NOT NULL,
    PRIMARY KEY (job_id, parent_id)
);
CREATE INDEX job_parents_parent_idx ON job_parents (parent_id);

CREATE TABLE transfer_items (
    id             BIGSERIAL PRIMARY KEY,
    job_id         BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    direction      VARCHAR(3) NOT NULL,
    local_path     VARCHAR(256) NOT NULL,
    remote_path    VARCHAR(256) NOT NULL,
    recursive      BOOLEAN NOT NULL DEFAULT FALSE,
    location_alias VARCHAR(256) NOT NULL,
    state          VARCHAR(32) NOT NULL,
    task_id        VARCHAR(100) NOT NULL DEFAULT '',
    transfer_info  JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX transfer_items_job_idx ON transfer_items (job_id);
CREATE INDEX transfer_items_state_idx ON transfer_items (state);

CREATE TABLE log_events (
    id         BIGSERIAL PRIMARY KEY,
    job_id     BIGINT NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    timestamp  TIMESTAMP NOT NULL,
    from_state VARCHAR(32) NOT NULL,
    to_state   VARCHAR(32) NOT NULL,
    data       JSONB NOT NULL DEFAULT '{}'
);
CREATE INDEX log_events_job_idx ON log_events (job_id);
CREATE INDEX log_events_timestamp_idx ON log_events (timestamp);
