-- The per-tag counters (0010) kept a row per (owner, key, value) after the last job with
-- that tag was gone: a workflow that tags every job with its own run id left a zero row
-- per job it ever created, forever (PostgreSQL's 0012 says more). Deleting jobs (the
-- trigger below) and retagging them (the store's `shift_tag_counts`) now drop the rows
-- they bring to zero. One writer, one shard: a zero row is an empty pair.
DROP TRIGGER jobs_tag_counts_delete;

CREATE TRIGGER jobs_tag_counts_delete AFTER DELETE ON jobs
BEGIN
    INSERT INTO job_tag_counts (owner_id, key, value, shard, count)
        SELECT OLD.owner_id, t.key, t.value, 0, -1 FROM json_each(OLD.tags) t WHERE true
    ON CONFLICT (owner_id, key, value, shard) DO UPDATE SET count = count + excluded.count;
    DELETE FROM job_tag_counts
    WHERE owner_id = OLD.owner_id AND count = 0
      AND (key, value) IN (SELECT t.key, t.value FROM json_each(OLD.tags) t);
END;

DELETE FROM job_tag_counts WHERE count = 0;
