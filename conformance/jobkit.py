"""Shared building blocks for the Job / BatchJob / Session / EventLog tests.

A `Workflow` is one user's logged-in SDK client plus a Site (with transfer
locations) and three registered Apps:

* `Echo`  – shell app with a stage-in slot `inp` and a stage-out slot `out`;
* `Plain` – shell app without transfer slots;
* `Adder` – Python `run` app.

ApplicationDefinition classes are built by factories so that every test gets
fresh classes (the SDK caches the app id on the class).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from balsam.api import ApplicationDefinition

from helpers import RawAPI, describe, unique

ALL_STATES = [
    "CREATED",
    "AWAITING_PARENTS",
    "READY",
    "STAGED_IN",
    "PREPROCESSED",
    "RUNNING",
    "RUN_DONE",
    "RUN_ERROR",
    "RUN_TIMEOUT",
    "RESTART_READY",
    "POSTPROCESSED",
    "STAGED_OUT",
    "JOB_FINISHED",
    "FAILED",
]

TRANSFER_LOCATIONS = {"laptop": "rsync://user@laptop.example.org", "dtn": "globus://08925f04-569f-11e7-bef8-22000b9a448b"}

SKIPPED_STAGE_IN = "Skipped stage in"
SKIPPED_STAGE_OUT = "Skipped stage out"
ALL_PARENTS_FINISHED = "All parents finished"
SESSION_EXPIRED = "Session expired: job was stuck in RUNNING state"


def echo_app(site_ref: Any) -> type:
    class Echo(ApplicationDefinition):
        """Echoes a message"""

        site = site_ref
        command_template = "echo {{ msg }}"
        transfers = {
            "inp": {"required": False, "direction": "in", "local_path": "in.dat", "description": "input"},
            "out": {"required": False, "direction": "out", "local_path": "results", "recursive": True},
        }

    return Echo


def plain_app(site_ref: Any) -> type:
    class Plain(ApplicationDefinition):
        """No transfer slots"""

        site = site_ref
        command_template = "true"

    return Plain


def adder_app(site_ref: Any) -> type:
    class Adder(ApplicationDefinition):
        """Adds two numbers"""

        site = site_ref

        def run(self, x, y=2):  # noqa: ANN001, ANN201
            return x + y

    return Adder


@dataclass
class Workflow:
    client: Any
    raw: RawAPI
    site: Any
    Echo: type
    Plain: type
    Adder: type
    extra: Dict[str, Any] = field(default_factory=dict)

    # The SDK's model classes are global; `client.Job` re-binds Job.objects to this
    # client, so always go through these properties when acting as this user.
    @property
    def Job(self):  # noqa: N802
        ApplicationDefinition._set_client(self.client)
        return self.client.Job

    @property
    def EventLog(self):  # noqa: N802
        return self.client.EventLog

    @property
    def BatchJob(self):  # noqa: N802
        return self.client.BatchJob

    @property
    def Session(self):  # noqa: N802
        return self.client.Session

    @property
    def TransferItem(self):  # noqa: N802
        return self.client.TransferItem

    @property
    def echo_id(self) -> int:
        return int(self.Echo.__app_id__)

    @property
    def plain_id(self) -> int:
        return int(self.Plain.__app_id__)

    @property
    def adder_id(self) -> int:
        return int(self.Adder.__app_id__)

    def job(self, workdir: Optional[str] = None, app: Optional[type] = None, **kw: Any):
        """Create one job through Job.objects.create (a one-element POST /jobs/)."""
        app = app or self.Plain
        params = kw.pop("parameters", {"msg": "hi"} if app is self.Echo else {})
        return self.Job.objects.create(workdir=workdir or unique("wd"), app_id=app.__app_id__, parameters=params, **kw)

    def jobs(self, n: int, prefix: Optional[str] = None, app: Optional[type] = None, **kw: Any) -> List[Any]:
        prefix = prefix or unique("bulk")
        app = app or self.Plain
        Job = self.Job
        objs = [Job(f"{prefix}/{i}", app.__app_id__, **kw) for i in range(n)]
        return Job.objects.bulk_create(objs)

    def set_state(self, job_or_id: Any, state: str, **kw: Any) -> None:
        """job.save()-style single update through the SDK (PUT /jobs/{id})."""
        job_id = job_or_id if isinstance(job_or_id, int) else job_or_id.id
        job = self.Job.objects.get(id=job_id)
        job.state = state
        for k, v in kw.items():
            setattr(job, k, v)
        job.save()

    def fetch(self, job_id: int):
        return self.Job.objects.get(id=job_id)

    def state_of(self, job_id: int) -> str:
        return str(self.fetch(job_id).state.value)

    def events(self, job_id: int) -> List[Any]:
        """The job's events, oldest first (by id)."""
        return sorted(self.EventLog.objects.filter(job_id=job_id), key=lambda e: e.id)

    def transitions(self, job_id: int) -> List[tuple]:
        return [(e.from_state, e.to_state) for e in self.events(job_id)]

    def raw_job(self, job_id: int) -> Dict[str, Any]:
        resp = self.raw.get("jobs/", params={"id": job_id})
        assert resp.status_code == 200, describe(resp)
        results = resp.json()["results"]
        assert len(results) == 1, describe(resp)
        return results[0]

    def raw_jobs(self, **params: Any) -> List[Dict[str, Any]]:
        resp = self.raw.get("jobs/", params=params)
        assert resp.status_code == 200, describe(resp)
        return resp.json()["results"]


def build_workflow(client: Any, raw: RawAPI, prefix: str = "wf") -> Workflow:
    site = client.Site.objects.create(
        name=unique(prefix), path=f"/sites/{unique('p')}", transfer_locations=dict(TRANSFER_LOCATIONS)
    )
    ApplicationDefinition._set_client(client)
    Echo, Plain, Adder = echo_app(site.id), plain_app(site.id), adder_app(site.id)
    for app in (Echo, Plain, Adder):
        app.sync()
    return Workflow(client=client, raw=raw, site=site, Echo=Echo, Plain=Plain, Adder=Adder)


def ids(objs: Iterable[Any]) -> List[int]:
    return [o.id for o in objs]


def sorted_ids(objs: Iterable[Any]) -> List[int]:
    return sorted(o.id for o in objs)


def aware(dt: datetime) -> datetime:
    """Treat a naive datetime as UTC."""
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def strip_volatile(d: Dict[str, Any], keys: Iterable[str] = ("last_update", "session_id")) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if k not in set(keys)}
