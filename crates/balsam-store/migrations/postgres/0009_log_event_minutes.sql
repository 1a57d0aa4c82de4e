-- The dashboard's charts (GET /aggregates/throughput and /aggregates/utilization) read a
-- per-minute rollup of the LogEvents they need instead of every LogEvent of the window
-- joined to its job: on a million-job table a busy hour was ~1 M events and 1-2 s, a week
-- 9-30 s. A window now reads at most (minutes x Sites x writer shards) small rows.
--
-- One row per (owner, minute, Site, writer shard):
--   finished  LogEvents into JOB_FINISHED
--   moved     the sum of node weights (num_nodes / node_packing_count) moved into RUNNING
--             (+) and out of RUNNING (-)
--   moved_s   the same weights times the seconds into the minute of each move
-- Written by the store in the transaction that inserts the LogEvents (and taken back when
-- their jobs are deleted), so it is as exact as the LogEvents themselves. The shard is the
-- writer's process id mod 16, as for job_state_counts: concurrent writers in the same
-- minute seldom wait on each other's row.
CREATE TABLE log_event_minutes (
    owner_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    minute   BIGINT NOT NULL,
    site_id  BIGINT NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    shard    SMALLINT NOT NULL,
    finished BIGINT NOT NULL,
    moved    DOUBLE PRECISION NOT NULL,
    moved_s  DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (owner_id, minute, site_id, shard)
);

INSERT INTO log_event_minutes (owner_id, minute, site_id, shard, finished, moved, moved_s)
SELECT e.owner_id, m.minute, j.site_id, 0,
       count(*) FILTER (WHERE e.to_state = 'JOB_FINISHED'),
       COALESCE(sum(m.sign * w.w), 0),
       COALESCE(sum(m.sign * w.w * (m.epoch - m.minute * 60)), 0)
FROM log_events e
JOIN jobs j ON j.id = e.job_id
CROSS JOIN LATERAL (SELECT j.num_nodes::float8 / greatest(1, j.node_packing_count) AS w) w
CROSS JOIN LATERAL (
    SELECT EXTRACT(EPOCH FROM e.timestamp)::float8 AS epoch,
           floor(EXTRACT(EPOCH FROM e.timestamp)::float8 / 60)::int8 AS minute,
           CASE WHEN e.to_state = 'RUNNING' AND e.from_state <> 'RUNNING' THEN 1
                WHEN e.from_state = 'RUNNING' AND e.to_state <> 'RUNNING' THEN -1
                ELSE 0 END AS sign
) m
WHERE e.to_state IN ('JOB_FINISHED', 'RUNNING') OR e.from_state = 'RUNNING'
GROUP BY e.owner_id, m.minute, j.site_id;
