"""Create the upstream server's tables in BALSAM_DATABASE_URL (the sdist ships no
alembic migrations). The GIN index `ix_jobs_tags` as declared upstream renders as
invalid SQL with create_all(); it only matters for job-tag query speed, so it is
left out here. Nothing else is changed."""

import sys

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import balsam.server
from balsam.server.models import base, tables

url = make_url(balsam.server.settings.database_url)
admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
with admin.connect() as conn:
    conn.execute(text(f'DROP DATABASE IF EXISTS "{url.database}"'))
    conn.execute(text(f'CREATE DATABASE "{url.database}"'))

job_table = tables.Job.__table__
for index in list(job_table.indexes):
    if index.name == "ix_jobs_tags":
        job_table.indexes.discard(index)
base.create_tables()
print(f"created tables in {url.database}", file=sys.stderr)
