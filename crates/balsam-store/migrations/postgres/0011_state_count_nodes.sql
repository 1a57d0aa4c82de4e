-- The per-(Site, state) counters also sum the jobs' node weights (num_nodes /
-- node_packing_count), so the utilisation chart's "nodes busy now" is read from the
-- RUNNING counters instead of from every RUNNING job (50 000 RUNNING jobs of a million:
-- 25 000 heap pages, 0.1-0.2 s per dashboard load). Same triggers, one more sum.
ALTER TABLE job_state_counts ADD COLUMN nodes DOUBLE PRECISION NOT NULL DEFAULT 0;

INSERT INTO job_state_counts AS c (site_id, state, shard, count, nodes)
    SELECT site_id, state, 0, 0, sum(num_nodes::float8 / greatest(1, node_packing_count))
    FROM jobs GROUP BY site_id, state
ON CONFLICT (site_id, state, shard) DO UPDATE SET nodes = EXCLUDED.nodes;

-- UPDATE: old rows count -1 and new rows +1 (and their weights), summed per (Site,
-- state); unchanged rows cancel out.
CREATE OR REPLACE FUNCTION jobs_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    my_shard SMALLINT := pg_backend_pid() % 16;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_state_counts AS c (site_id, state, shard, count, nodes)
            SELECT site_id, state, my_shard, count(*),
                   sum(num_nodes::float8 / greatest(1, node_packing_count))
            FROM new_rows
            GROUP BY site_id, state ORDER BY site_id, state
        ON CONFLICT (site_id, state, shard) DO UPDATE
            SET count = c.count + EXCLUDED.count, nodes = c.nodes + EXCLUDED.nodes;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO job_state_counts AS c (site_id, state, shard, count, nodes)
            SELECT site_id, state, my_shard, -count(*),
                   -sum(num_nodes::float8 / greatest(1, node_packing_count))
            FROM old_rows
            GROUP BY site_id, state ORDER BY site_id, state
        ON CONFLICT (site_id, state, shard) DO UPDATE
            SET count = c.count + EXCLUDED.count, nodes = c.nodes + EXCLUDED.nodes;
    ELSE
        INSERT INTO job_state_counts AS c (site_id, state, shard, count, nodes)
            SELECT site_id, state, my_shard, sum(n), sum(n * w) FROM (
                SELECT site_id, state, -1 AS n,
                       num_nodes::float8 / greatest(1, node_packing_count) AS w
                FROM old_rows
                UNION ALL
                SELECT site_id, state, 1 AS n,
                       num_nodes::float8 / greatest(1, node_packing_count) AS w
                FROM new_rows
            ) AS delta
            GROUP BY site_id, state HAVING sum(n) <> 0 OR sum(n * w) <> 0
            ORDER BY site_id, state
        ON CONFLICT (site_id, state, shard) DO UPDATE
            SET count = c.count + EXCLUDED.count, nodes = c.nodes + EXCLUDED.nodes;
    END IF;
    RETURN NULL;
END
$$;
