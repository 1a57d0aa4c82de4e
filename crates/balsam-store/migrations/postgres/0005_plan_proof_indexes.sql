-- Indexes that match each hot query's filter AND its order, so that the cheapest plan is
-- the right one even when the planner has no statistics (a fresh bulk load, autovacuum
-- behind). Which query uses which index: docs/store-performance.md; the plans are pinned
-- by crates/balsam-store/tests/plans.rs.

-- Lists of one owner's jobs, by state, in id order (the default ordering) or by state.
DROP INDEX jobs_owner_state_idx;
CREATE INDEX jobs_owner_state_idx ON jobs (owner_id, state, id);
-- `ordering=[-]last_update`: the tie-break on id follows the key's direction, so one
-- index serves both directions without a sort.
DROP INDEX jobs_owner_last_update_idx;
CREATE INDEX jobs_owner_last_update_idx ON jobs (owner_id, last_update, id);
-- Unfiltered (or non-indexed filters) lists of one owner in id order, either direction:
-- without it a small user's page scans the primary key past every other user's jobs.
CREATE INDEX jobs_owner_id_idx ON jobs (owner_id, id);

-- Acquire: only unlocked jobs in the states a launcher or the processing service asks
-- for. Small (running and finished jobs are not in it) and in the acquire's own orders:
-- by id (serial launcher, processing service), and upstream's node-packing order (MPI
-- launcher with max_aggregate_nodes). The acquire query names each state as a literal,
-- which is what lets the planner prove the predicate.
CREATE INDEX jobs_acquire_idx ON jobs (site_id, state, id)
    WHERE session_id IS NULL
      AND state IN ('STAGED_IN', 'PREPROCESSED', 'RESTART_READY', 'RUN_DONE', 'RUN_ERROR', 'RUN_TIMEOUT');
CREATE INDEX jobs_acquire_packing_idx
    ON jobs (site_id, state, num_nodes, node_packing_count DESC, wall_time_min DESC, id)
    WHERE session_id IS NULL
      AND state IN ('STAGED_IN', 'PREPROCESSED', 'RESTART_READY', 'RUN_DONE', 'RUN_ERROR', 'RUN_TIMEOUT');

-- LogEvent pages order by (timestamp, id) in one direction: with id in the key the
-- owner-led indexes give that order read forwards or backwards, with no sort of every
-- event since T (the dashboard's windows) when the planner has no statistics.
DROP INDEX log_events_owner_timestamp_idx;
DROP INDEX log_events_owner_to_state_idx;
DROP INDEX log_events_owner_from_state_idx;
CREATE INDEX log_events_owner_timestamp_idx ON log_events (owner_id, timestamp, id);
CREATE INDEX log_events_owner_to_state_idx ON log_events (owner_id, to_state, timestamp, id);
CREATE INDEX log_events_owner_from_state_idx ON log_events (owner_id, from_state, timestamp, id);

-- The per-(Site, state) counters are sharded by writer. One counter row per (Site,
-- state) made every concurrent job write of a Site (four launchers PATCHing RUNNING and
-- RUN_DONE, the processing service, a bulk create) wait for the others' commits: the
-- statement trigger's upsert locks the row until commit. Each backend now adds its
-- deltas to its own shard (its process id mod 16), so concurrent writers seldom meet;
-- readers sum the shards (a handful of rows per Site and state). A shard may go
-- negative; the sum is exact.
ALTER TABLE job_state_counts ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE job_state_counts DROP CONSTRAINT job_state_counts_pkey;
ALTER TABLE job_state_counts ADD PRIMARY KEY (site_id, state, shard);

CREATE OR REPLACE FUNCTION jobs_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard SMALLINT := pg_backend_pid() % 16;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_state_counts AS c (site_id, state, shard, count)
            SELECT site_id, state, my_shard, count(*) FROM new_rows
            GROUP BY site_id, state ORDER BY site_id, state
        ON CONFLICT (site_id, state, shard) DO UPDATE SET count = c.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO job_state_counts AS c (site_id, state, shard, count)
            SELECT site_id, state, my_shard, -count(*) FROM old_rows
            GROUP BY site_id, state ORDER BY site_id, state
        ON CONFLICT (site_id, state, shard) DO UPDATE SET count = c.count + EXCLUDED.count;
    ELSE
        INSERT INTO job_state_counts AS c (site_id, state, shard, count)
            SELECT site_id, state, my_shard, sum(n) FROM (
                SELECT o.site_id, o.state, -1 AS n
                FROM old_rows o JOIN new_rows w ON w.id = o.id
                WHERE o.state <> w.state OR o.site_id <> w.site_id
                UNION ALL
                SELECT w.site_id, w.state, 1 AS n
                FROM old_rows o JOIN new_rows w ON w.id = o.id
                WHERE o.state <> w.state OR o.site_id <> w.site_id
            ) AS delta
            GROUP BY site_id, state HAVING sum(n) <> 0 ORDER BY site_id, state
        ON CONFLICT (site_id, state, shard) DO UPDATE SET count = c.count + EXCLUDED.count;
    END IF;
    RETURN NULL;
END
$$;
