-- The per-tag counters (0010) kept a row per (owner, key, value, writer shard) after the
-- last job with that tag was gone: a workflow that tags every job with its own run id
-- left one or more zero-sum rows per job it ever created, forever. Deleting jobs (the
-- statement trigger below) and retagging them (the store's `shift_tag_counts`) now drop
-- the counter rows of the pairs they emptied.
--
-- Which rows may go: any set of one pair's rows whose counts sum to zero, since dropping
-- it leaves every sum unchanged. The rows are locked first (`FOR UPDATE`, so their counts
-- are the latest and stay so until commit) and rows another writer holds are skipped
-- (`SKIP LOCKED`: no waiting, no deadlock); a pair left behind that way is compacted by
-- its next delete.
CREATE FUNCTION job_tag_counts_compact(owners BIGINT[], keys TEXT[], vals TEXT[])
RETURNS VOID LANGUAGE sql AS $$
    WITH locked AS (
        SELECT c.owner_id, c.key, c.value, c.shard, c.count
        FROM job_tag_counts c
        JOIN (SELECT DISTINCT * FROM unnest(owners, keys, vals)) AS p (owner_id, key, value)
            ON c.owner_id = p.owner_id AND c.key = p.key AND c.value = p.value
        ORDER BY c.owner_id, c.key, c.value, c.shard
        FOR UPDATE OF c SKIP LOCKED
    ), emptied AS (
        SELECT owner_id, key, value FROM locked GROUP BY 1, 2, 3 HAVING sum(count) = 0
    )
    DELETE FROM job_tag_counts d
    USING locked l JOIN emptied e
        ON l.owner_id = e.owner_id AND l.key = e.key AND l.value = e.value
    WHERE d.owner_id = l.owner_id AND d.key = l.key AND d.value = l.value AND d.shard = l.shard
$$;

CREATE OR REPLACE FUNCTION jobs_tag_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    owners BIGINT[];
    keys   TEXT[];
    vals   TEXT[];
BEGIN
    SELECT array_agg(owner_id), array_agg(key), array_agg(value) INTO owners, keys, vals
    FROM (
        SELECT DISTINCT r.owner_id, t.key, t.value
        FROM old_rows r CROSS JOIN LATERAL jsonb_each_text(r.tags) t
    ) AS pairs;
    INSERT INTO job_tag_counts AS c (owner_id, key, value, shard, count)
        SELECT r.owner_id, t.key, t.value, pg_backend_pid() % 16, -count(*)
        FROM old_rows r CROSS JOIN LATERAL jsonb_each_text(r.tags) t
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (owner_id, key, value, shard) DO UPDATE SET count = c.count + EXCLUDED.count;
    IF owners IS NOT NULL THEN
        PERFORM job_tag_counts_compact(owners, keys, vals);
    END IF;
    RETURN NULL;
END
$$;

-- The rows already emptied before this version, the same way.
SELECT job_tag_counts_compact(array_agg(owner_id), array_agg(key), array_agg(value))
FROM (
    SELECT owner_id, key, value FROM job_tag_counts GROUP BY 1, 2, 3 HAVING sum(count) = 0
) AS emptied;
