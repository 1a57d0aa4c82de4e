-- Per-(owner, tag key, tag value) job counts, so that a job list filtered by one tag is
-- counted from one row instead of reading and parsing the tags of every job of the owner
-- (PostgreSQL's 0010 says more). Kept in the transaction of every change: the store adds
-- a create's pairs and moves the pairs of the jobs a PATCH retags; deletes, which also
-- cascade from users, Sites and Apps inside the database, are counted by a trigger. One
-- writer at a time on SQLite: one shard.
CREATE TABLE job_tag_counts (
    owner_id INTEGER NOT NULL,
    key      TEXT NOT NULL,
    value    TEXT NOT NULL,
    shard    INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    PRIMARY KEY (owner_id, key, value, shard)
) WITHOUT ROWID;

INSERT INTO job_tag_counts (owner_id, key, value, shard, count)
SELECT j.owner_id, t.key, t.value, 0, count(*)
FROM jobs j, json_each(j.tags) t
GROUP BY 1, 2, 3;

CREATE TRIGGER jobs_tag_counts_delete AFTER DELETE ON jobs
BEGIN
    INSERT INTO job_tag_counts (owner_id, key, value, shard, count)
        SELECT OLD.owner_id, t.key, t.value, 0, -1 FROM json_each(OLD.tags) t WHERE true
    ON CONFLICT (owner_id, key, value, shard) DO UPDATE SET count = count + excluded.count;
END;
