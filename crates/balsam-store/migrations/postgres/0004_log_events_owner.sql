-- LogEvents carry their owner, copied from their job (a job never changes owner), so the
-- per-user LogEvent queries read one index instead of joining every event to its job.
-- The dashboard asks "events into JOB_FINISHED / into or out of RUNNING since T" on every
-- load; on a million-job table the join made that take seconds. Each query shape gets an
-- index led by the owner: (state, timestamp) for the state filters, (timestamp) for the rest.

ALTER TABLE log_events ADD COLUMN owner_id BIGINT;
UPDATE log_events e SET owner_id = j.owner_id FROM jobs j WHERE j.id = e.job_id;
ALTER TABLE log_events ALTER COLUMN owner_id SET NOT NULL;

DROP INDEX log_events_timestamp_idx;
CREATE INDEX log_events_owner_timestamp_idx ON log_events (owner_id, timestamp);
CREATE INDEX log_events_owner_to_state_idx ON log_events (owner_id, to_state, timestamp);
CREATE INDEX log_events_owner_from_state_idx ON log_events (owner_id, from_state, timestamp);
