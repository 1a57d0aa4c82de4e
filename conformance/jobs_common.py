"""What the job conformance modules (test_jobs*.py) share: imports, upstream's error
bodies for jobs, the keys of a job as read, and datetime helpers."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Dict, List

import pytest
import requests

from helpers import (
    NO_RETRY,
    RawAPI,
    assert_422,
    assert_naive_recent,
    assert_status,
    describe,
    expect_http_error,
    unique,
    utcnow,
)
from jobkit import (
    ALL_PARENTS_FINISHED,
    ALL_STATES,
    SKIPPED_STAGE_IN,
    SKIPPED_STAGE_OUT,
    Workflow,
    aware,
    build_workflow,
    ids,
    sorted_ids,
    strip_volatile,
)

NOT_FOUND = {"error": "Not found"}
NO_APPS = {"detail": "Could not find one or more Apps. Double check app_id fields."}
NO_PARENTS = {"detail": "Could not find one or more Jobs set as parents. Double check parent_ids fields."}
DUP_WORKDIRS = {"detail": "Workdirs must be unique for each call to bulk-create Jobs."}
MISSING_IDS = {"detail": "Could not find some Job IDs"}
DUP_IDS = {"detail": "Duplicate Job ID keys provided"}

JOB_READ_KEYS = {
    "id",
    "workdir",
    "tags",
    "app_id",
    "serialized_parameters",
    "serialized_return_value",
    "serialized_exception",
    "batch_job_id",
    "state",
    "last_update",
    "data",
    "return_code",
    "pending_file_cleanup",
    "parent_ids",
    "num_nodes",
    "ranks_per_node",
    "threads_per_rank",
    "threads_per_core",
    "gpus_per_rank",
    "node_packing_count",
    "wall_time_min",
    "launch_params",
}


def parse_dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def naive_utc(dt: datetime) -> datetime:
    return dt.astimezone(timezone.utc).replace(tzinfo=None) if dt.tzinfo is not None else dt
