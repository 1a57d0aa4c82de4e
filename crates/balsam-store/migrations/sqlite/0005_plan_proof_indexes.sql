-- Indexes that match each hot query's filter AND its order (docs/store-performance.md;
-- pinned by crates/balsam-store/tests/plans.rs). SQLite appends the rowid (`jobs.id`) to
-- every index, so `(owner_id, state)` already reads in id order within a state, and
-- `jobs_owner_id_idx (owner_id)` is `(owner_id, id)`.

-- Unfiltered (or non-indexed filters) lists of one owner in id order, either direction.
CREATE INDEX jobs_owner_id_idx ON jobs (owner_id);

-- Acquire: only unlocked jobs, in the acquire's own orders (by id: serial launcher and
-- processing service; upstream's node-packing order: MPI launcher).
CREATE INDEX jobs_acquire_idx ON jobs (site_id, state) WHERE session_id IS NULL;
CREATE INDEX jobs_acquire_packing_idx
    ON jobs (site_id, state, num_nodes, node_packing_count DESC, wall_time_min DESC)
    WHERE session_id IS NULL;
