-- PostgreSQL's 0015 replaces the per-row foreign-key checks of jobs.session_id and
-- jobs.batch_job_id with locks the writers take once and statement triggers for their
-- ON DELETE SET NULL. On SQLite a foreign-key check is an in-process index probe under
-- the single writer's lock: nothing changes here. The version exists so both backends
-- list the same migrations.
SELECT 1;
