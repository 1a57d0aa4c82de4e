-- Per-(owner, tag key, tag value) job counts, so that a job list filtered by one tag
-- (`tags=experiment:XPCS`, the SDK's Job.objects.filter(tags={...})) is counted from a
-- handful of rows instead of a bitmap heap scan of every matching job: a tag that half
-- of a million jobs carry took 1.3 s warm (4.7 s cold) to count, slower than upstream's
-- sequential scan. Kept exact in the same transaction as every insert, tag change and
-- delete (below); sharded by writer (process id mod 16) like job_state_counts, summed on
-- read.
CREATE TABLE job_tag_counts (
    owner_id BIGINT NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    shard    SMALLINT NOT NULL,
    count    BIGINT NOT NULL,
    PRIMARY KEY (owner_id, key, value, shard)
);

INSERT INTO job_tag_counts (owner_id, key, value, shard, count)
SELECT j.owner_id, t.key, t.value, 0, count(*)
FROM jobs j CROSS JOIN LATERAL jsonb_each_text(j.tags) t
GROUP BY j.owner_id, t.key, t.value;

-- Kept in the transaction of every change: the store adds a create's pairs in one upsert
-- (counted in the server, `insert_jobs`) and moves the pairs of the jobs a PATCH retags
-- (`write_jobs`: old pairs out before the UPDATE, new pairs in after), so a state change,
-- the common UPDATE, costs nothing here. Deletes, which also cascade from users, Sites and
-- Apps inside the database, are counted by a statement trigger.
CREATE FUNCTION jobs_tag_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO job_tag_counts AS c (owner_id, key, value, shard, count)
        SELECT r.owner_id, t.key, t.value, pg_backend_pid() % 16, -count(*)
        FROM old_rows r CROSS JOIN LATERAL jsonb_each_text(r.tags) t
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (owner_id, key, value, shard) DO UPDATE SET count = c.count + EXCLUDED.count;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_tag_counts_delete AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_tag_counts_delete();
