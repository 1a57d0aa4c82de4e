-- The dashboard's charts read a per-minute rollup of the LogEvents they need instead of
-- every LogEvent of the window joined to its job (PostgreSQL's 0009 says why and what the
-- columns hold). Timestamps are integer microseconds here; a minute is floor(us / 60e6).
CREATE TABLE log_event_minutes (
    owner_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    minute   INTEGER NOT NULL,
    site_id  INTEGER NOT NULL REFERENCES sites (id) ON DELETE CASCADE,
    shard    INTEGER NOT NULL,
    finished INTEGER NOT NULL,
    moved    REAL NOT NULL,
    moved_s  REAL NOT NULL,
    PRIMARY KEY (owner_id, minute, site_id, shard)
) WITHOUT ROWID;

INSERT INTO log_event_minutes (owner_id, minute, site_id, shard, finished, moved, moved_s)
SELECT owner_id, minute, site_id, 0,
       sum(to_state = 'JOB_FINISHED'),
       sum(sign * w),
       sum(sign * w * (ts - minute * 60000000) / 1000000.0)
FROM (
    SELECT e.owner_id, e.to_state, e.timestamp AS ts, j.site_id,
           (e.timestamp - (((e.timestamp % 60000000) + 60000000) % 60000000)) / 60000000 AS minute,
           CAST(j.num_nodes AS REAL) / max(1, j.node_packing_count) AS w,
           CASE WHEN e.to_state = 'RUNNING' AND e.from_state <> 'RUNNING' THEN 1
                WHEN e.from_state = 'RUNNING' AND e.to_state <> 'RUNNING' THEN -1
                ELSE 0 END AS sign
    FROM log_events e JOIN jobs j ON j.id = e.job_id
    WHERE e.to_state IN ('JOB_FINISHED', 'RUNNING') OR e.from_state = 'RUNNING'
)
GROUP BY owner_id, minute, site_id;
