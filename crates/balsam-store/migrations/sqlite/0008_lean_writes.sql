-- PostgreSQL's 0008 drops two per-row foreign-key checks from the write path and moves
-- event payloads to lz4. On SQLite a foreign-key check is an in-process index probe, and
-- dropping a constraint would mean rebuilding the table: nothing changes here. The
-- version exists so both backends list the same migrations.
SELECT 1;
