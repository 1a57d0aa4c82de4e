-- Job counts per (Site, state), maintained by statement-level triggers (transition
-- tables: one grouped upsert per statement, however many rows it touched) in the same
-- transaction as every job insert, state or Site change and delete (cascades included),
-- so that `GET /jobs/state-counts` reads a handful of rows instead of counting a million
-- jobs. No foreign key to sites: rows of a deleted Site drain to zero as its jobs go.

CREATE TABLE job_state_counts (
    site_id BIGINT NOT NULL,
    state   VARCHAR(32) NOT NULL,
    count   BIGINT NOT NULL,
    PRIMARY KEY (site_id, state)
);

INSERT INTO job_state_counts (site_id, state, count)
    SELECT site_id, state, count(*) FROM jobs GROUP BY site_id, state;

CREATE FUNCTION jobs_counts_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO job_state_counts AS c (site_id, state, count)
            SELECT site_id, state, count(*) FROM new_rows
            GROUP BY site_id, state ORDER BY site_id, state
        ON CONFLICT (site_id, state) DO UPDATE SET count = c.count + EXCLUDED.count;
    ELSIF TG_OP = 'DELETE' THEN
        UPDATE job_state_counts AS c SET count = c.count - d.n
        FROM (SELECT site_id, state, count(*) AS n FROM old_rows GROUP BY site_id, state) AS d
        WHERE c.site_id = d.site_id AND c.state = d.state;
    ELSE
        INSERT INTO job_state_counts AS c (site_id, state, count)
            SELECT site_id, state, sum(n) FROM (
                SELECT o.site_id, o.state, -1 AS n
                FROM old_rows o JOIN new_rows w ON w.id = o.id
                WHERE o.state <> w.state OR o.site_id <> w.site_id
                UNION ALL
                SELECT w.site_id, w.state, 1 AS n
                FROM old_rows o JOIN new_rows w ON w.id = o.id
                WHERE o.state <> w.state OR o.site_id <> w.site_id
            ) AS delta
            GROUP BY site_id, state HAVING sum(n) <> 0 ORDER BY site_id, state
        ON CONFLICT (site_id, state) DO UPDATE SET count = c.count + EXCLUDED.count;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_counts_insert AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_counts_apply();
CREATE TRIGGER jobs_counts_update AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_counts_apply();
CREATE TRIGGER jobs_counts_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_counts_apply();
