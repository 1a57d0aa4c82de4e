-- PostgreSQL's 0010 keeps per-(owner, tag) job counts so a one-tag list is counted without
-- reading its jobs. On SQLite tags are JSON text with no index: a tag filter reads the
-- owner's jobs in id order and filters them, and its count does the same
-- (docs/store-performance.md). Nothing changes here; the version exists so both backends
-- list the same migrations.
SELECT 1;
