-- The per-(Site, state) counters also sum the jobs' node weights (num_nodes /
-- node_packing_count), so the utilisation chart's "nodes busy now" is read from the
-- RUNNING counters instead of from every RUNNING job (PostgreSQL's 0011).
ALTER TABLE job_state_counts ADD COLUMN nodes REAL NOT NULL DEFAULT 0;

UPDATE job_state_counts SET nodes = COALESCE((
    SELECT sum(CAST(j.num_nodes AS REAL) / max(1, j.node_packing_count)) FROM jobs j
    WHERE j.site_id = job_state_counts.site_id AND j.state = job_state_counts.state), 0);

DROP TRIGGER jobs_counts_insert;
DROP TRIGGER jobs_counts_update;
DROP TRIGGER jobs_counts_delete;

CREATE TRIGGER jobs_counts_insert AFTER INSERT ON jobs
BEGIN
    INSERT OR IGNORE INTO job_state_counts (site_id, state, count) VALUES (NEW.site_id, NEW.state, 0);
    UPDATE job_state_counts
        SET count = count + 1,
            nodes = nodes + CAST(NEW.num_nodes AS REAL) / max(1, NEW.node_packing_count)
        WHERE site_id = NEW.site_id AND state = NEW.state;
END;

CREATE TRIGGER jobs_counts_update
AFTER UPDATE OF state, site_id, num_nodes, node_packing_count ON jobs
WHEN OLD.state IS NOT NEW.state OR OLD.site_id IS NOT NEW.site_id
  OR OLD.num_nodes IS NOT NEW.num_nodes OR OLD.node_packing_count IS NOT NEW.node_packing_count
BEGIN
    UPDATE job_state_counts
        SET count = count - 1,
            nodes = nodes - CAST(OLD.num_nodes AS REAL) / max(1, OLD.node_packing_count)
        WHERE site_id = OLD.site_id AND state = OLD.state;
    INSERT OR IGNORE INTO job_state_counts (site_id, state, count) VALUES (NEW.site_id, NEW.state, 0);
    UPDATE job_state_counts
        SET count = count + 1,
            nodes = nodes + CAST(NEW.num_nodes AS REAL) / max(1, NEW.node_packing_count)
        WHERE site_id = NEW.site_id AND state = NEW.state;
END;

CREATE TRIGGER jobs_counts_delete AFTER DELETE ON jobs
BEGIN
    UPDATE job_state_counts
        SET count = count - 1,
            nodes = nodes - CAST(OLD.num_nodes AS REAL) / max(1, OLD.node_packing_count)
        WHERE site_id = OLD.site_id AND state = OLD.state;
END;
