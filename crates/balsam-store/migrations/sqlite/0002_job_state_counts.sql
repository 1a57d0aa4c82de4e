-- Job counts per (Site, state), maintained by triggers in the same transaction as every
-- job insert, state or Site change and delete (cascades included), so that
-- `GET /jobs/state-counts` reads a handful of rows instead of counting a million jobs.
-- No foreign key to sites: rows of a deleted Site drain to zero as its jobs go.

CREATE TABLE job_state_counts (
    site_id INTEGER NOT NULL,
    state   TEXT NOT NULL,
    count   INTEGER NOT NULL,
    PRIMARY KEY (site_id, state)
) WITHOUT ROWID;

INSERT INTO job_state_counts (site_id, state, count)
    SELECT site_id, state, count(*) FROM jobs GROUP BY site_id, state;

CREATE TRIGGER jobs_counts_insert AFTER INSERT ON jobs
BEGIN
    INSERT OR IGNORE INTO job_state_counts (site_id, state, count) VALUES (NEW.site_id, NEW.state, 0);
    UPDATE job_state_counts SET count = count + 1 WHERE site_id = NEW.site_id AND state = NEW.state;
END;

CREATE TRIGGER jobs_counts_update AFTER UPDATE OF state, site_id ON jobs
WHEN OLD.state IS NOT NEW.state OR OLD.site_id IS NOT NEW.site_id
BEGIN
    UPDATE job_state_counts SET count = count - 1 WHERE site_id = OLD.site_id AND state = OLD.state;
    INSERT OR IGNORE INTO job_state_counts (site_id, state, count) VALUES (NEW.site_id, NEW.state, 0);
    UPDATE job_state_counts SET count = count + 1 WHERE site_id = NEW.site_id AND state = NEW.state;
END;

CREATE TRIGGER jobs_counts_delete AFTER DELETE ON jobs
BEGIN
    UPDATE job_state_counts SET count = count - 1 WHERE site_id = OLD.site_id AND state = OLD.state;
END;
