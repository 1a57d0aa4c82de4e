-- PostgreSQL's 0014 replaces the per-row foreign-key check of jobs.app_id with one lock
-- per App and a statement trigger for the delete cascade. On SQLite a foreign-key check
-- is an in-process index probe under the single writer's lock: nothing changes here. The
-- version exists so both backends list the same migrations.
SELECT 1;
