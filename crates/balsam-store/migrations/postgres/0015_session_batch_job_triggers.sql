-- jobs.session_id and jobs.batch_job_id lose their foreign keys, as jobs.app_id did in
-- 0014: PostgreSQL checked each on every inserted job (0.4 ms per 1 000 even when NULL)
-- and every acquired one (a lookup and a KEY SHARE lock of the Session per job: 1.3 ms of
-- a 256-job acquire). What the checks guaranteed is kept by locks the writers take once:
--   * an acquire sets `session_id` (and `batch_job_id`, from its Session) in the
--     transaction that has just updated the Session's heartbeat, so the Session row is
--     locked until commit; a Session deleted first makes the acquire answer 404;
--   * a PATCH that sets `batch_job_id` reads the BatchJobs it names `FOR KEY SHARE`
--     (the store's ownership check), held until commit.
-- The `ON DELETE SET NULL` of both is kept, once per DELETE statement: a Session's or
-- BatchJob's deletion unlinks its jobs (after waiting for any writer that holds its row).
ALTER TABLE jobs DROP CONSTRAINT jobs_session_id_fkey;
ALTER TABLE jobs DROP CONSTRAINT jobs_batch_job_id_fkey;

CREATE FUNCTION sessions_unlink_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs SET session_id = NULL WHERE session_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$;
CREATE TRIGGER sessions_unlink_jobs AFTER DELETE ON sessions
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_unlink_jobs();

CREATE FUNCTION batch_jobs_unlink_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs SET batch_job_id = NULL WHERE batch_job_id IN (SELECT id FROM old_rows);
    RETURN NULL;
END
$$;
CREATE TRIGGER batch_jobs_unlink_jobs AFTER DELETE ON batch_jobs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION batch_jobs_unlink_jobs();
