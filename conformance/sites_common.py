"""What the Site conformance modules share: imports, upstream's error bodies, a Site with
every field set (as sent and as read), and `new_site`."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID

import pytest

from helpers import (
    NAIVE_ISO_RE,
    RawAPI,
    assert_422,
    assert_json_content_type,
    assert_naive_recent,
    assert_status,
    describe,
    expect_http_error,
    http_error_of,
    unique,
    utcnow,
)

NOT_FOUND = {"error": "Not found"}
DUP_SITE = {"detail": "A site with this name already exists"}

FULL_SITE_FIELDS = dict(
    globus_endpoint_id=UUID("ddb59aef-6d04-11e5-ba46-22000b92c6ec"),
    backfill_windows={"default": [{"num_nodes": 31, "wall_time_min": 45}], "debug": []},
    queued_jobs={
        123: {
            "scheduler_id": 123,
            "state": "queued",
            "queue": "default",
            "num_nodes": 2,
            "wall_time_min": 30,
            "project": "p",
            "time_remaining_min": 30,
            "queued_time_min": 3,
        }
    },
    optional_batch_job_params={"singularity_prime_cache": "no", "enable_ssh": "1"},
    allowed_projects=["datascience", "materials-adsp"],
    allowed_queues={"debug-cache-quad": {"max_nodes": 8, "max_walltime": 60, "max_queued_jobs": 1}},
    transfer_locations={
        "APS-DTN": "globus://ddb59aef-6d04-11e5-ba46-22000b92c6ec",
        "MyCluster": "rsync://user@hostname.mycluster",
    },
)

# The same values as they appear on the wire / in display_dict().
FULL_SITE_JSON = {
    "globus_endpoint_id": "ddb59aef-6d04-11e5-ba46-22000b92c6ec",
    "backfill_windows": {"default": [{"num_nodes": 31, "wall_time_min": 45}], "debug": []},
    "queued_jobs": {
        "123": {
            "scheduler_id": 123,
            "state": "queued",
            "queue": "default",
            "num_nodes": 2,
            "wall_time_min": 30,
            "project": "p",
            "time_remaining_min": 30,
            "queued_time_min": 3,
        }
    },
    "optional_batch_job_params": {"singularity_prime_cache": "no", "enable_ssh": "1"},
    "allowed_projects": ["datascience", "materials-adsp"],
    "allowed_queues": {"debug-cache-quad": {"max_nodes": 8, "max_walltime": 60, "max_queued_jobs": 1}},
    "transfer_locations": {
        "APS-DTN": "globus://ddb59aef-6d04-11e5-ba46-22000b92c6ec",
        "MyCluster": "rsync://user@hostname.mycluster",
    },
}

SITE_KEYS = {
    "id",
    "name",
    "path",
    "globus_endpoint_id",
    "backfill_windows",
    "queued_jobs",
    "optional_batch_job_params",
    "allowed_projects",
    "allowed_queues",
    "transfer_locations",
    "last_refresh",
    "creation_date",
}


def new_site(client, **kw):
    kw.setdefault("name", unique("site"))
    kw.setdefault("path", f"/projects/{unique('p')}")
    return client.Site.objects.create(**kw)


def ids(query) -> list:
    return [s.id for s in query]
