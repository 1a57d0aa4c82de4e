"""Jobs (balsam-api.md §3.3, §4.3; balsam-semantics.md §2, §3) through the official SDK.

Creation (Job(...).save(), Job.objects.create, bulk_create, AppClass.submit) with
parents and transfer slots; every JobQuery filter the SDK exposes, ordering,
count/slicing/get; updates through job.save(), query update() and bulk_update()
with the server's state rewrites, LogEvents and parent->child propagation;
deletes; the error paths (atomic bulk create, foreign ids, PATCH with an unknown id).

Note on the SDK: job.save() sends `PUT /jobs/{id}`, which answers an integer, so the
local object keeps the *requested* state. The tests re-read jobs to see what the
server stored (e.g. the READY -> STAGED_IN rewrite).
"""

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


# =====================================================================================
# Creation
# =====================================================================================
def test_save_creates_staged_in_job_with_defaults_and_creation_event(wf: Workflow) -> None:
    before = utcnow()
    job = wf.Job("crt/one", wf.Plain, tags={"k": "v"}, data={"x": [1, 2]})
    job.save()
    after = utcnow()
    assert isinstance(job.id, int)
    assert job.state == "STAGED_IN"  # no parents, no stage-in items (semantics §2.3)

    raw = wf.raw_job(job.id)
    assert JOB_READ_KEYS <= set(raw), f"missing keys: {JOB_READ_KEYS - set(raw)}"
    assert strip_volatile(raw, ("last_update", "session_id", "id", "serialized_parameters")) == {
        "workdir": "crt/one",
        "tags": {"k": "v"},
        "app_id": wf.plain_id,
        "serialized_return_value": "",
        "serialized_exception": "",
        "batch_job_id": None,
        "state": "STAGED_IN",
        "data": {"x": [1, 2]},
        "return_code": None,
        "pending_file_cleanup": True,
        "parent_ids": [],
        "num_nodes": 1,
        "ranks_per_node": 1,
        "threads_per_rank": 1,
        "threads_per_core": 1,
        "gpus_per_rank": 0.0,
        "node_packing_count": 1,
        "wall_time_min": 0,
        "launch_params": {},
    }
    # GET shows last_update aware with +00:00 (balsam-api.md §1.3.1).
    assert raw["last_update"].endswith("+00:00"), raw["last_update"]
    last_update = parse_dt(raw["last_update"])
    assert_naive_recent(naive_utc(last_update), before, after, "last_update")

    events = wf.events(job.id)
    assert [(e.from_state, e.to_state, e.data) for e in events] == [("CREATED", "STAGED_IN", {})]
    assert events[0].timestamp.tzinfo is None, "LogEvent.timestamp must be naive UTC"
    assert_naive_recent(events[0].timestamp, before, after, "creation event timestamp")


def test_objects_create_with_transfers_builds_transfer_items(wf: Workflow) -> None:
    job = wf.Job.objects.create(
        workdir="xfer/1",
        app_id=wf.echo_id,
        parameters={"msg": "hello"},
        # the SDK expands "alias:/path" client-side; the dict form is sent as is
        transfers={"inp": "laptop:/data//in.dat", "out": {"location_alias": "dtn", "path": "/results/run1/"}},
    )
    assert job.state == "READY"  # a stage-in item exists (semantics §2.3)
    items = sorted(wf.TransferItem.objects.filter(job_id=job.id), key=lambda t: t.direction.value)
    assert len(items) == 2
    inp, out = items
    assert (inp.direction.value, inp.state.value, str(inp.local_path), str(inp.remote_path)) == (
        "in",
        "pending",
        "in.dat",
        "/data/in.dat",
    )
    assert (inp.location_alias, inp.recursive, inp.task_id, inp.transfer_info) == ("laptop", False, "", {})
    assert (out.direction.value, out.state.value, str(out.local_path), str(out.remote_path)) == (
        "out",
        "awaiting_job",
        "results",
        "/results/run1",
    )
    assert (out.location_alias, out.recursive, out.task_id, out.transfer_info) == ("dtn", True, "", {})
    assert {i.job_id for i in items} == {job.id}
    assert wf.transitions(job.id) == [("CREATED", "READY")]
    assert job.get_parameters() == {"msg": "hello"}


def test_stage_out_only_job_starts_staged_in(wf: Workflow) -> None:
    job = wf.Job.objects.create(
        workdir="xfer/2", app_id=wf.echo_id, parameters={"msg": "x"}, transfers={"out": "dtn:/results/2"}
    )
    assert job.state == "STAGED_IN"
    (item,) = list(wf.TransferItem.objects.filter(job_id=job.id))
    assert (item.direction.value, item.state.value) == ("out", "awaiting_job")


def test_initial_state_depends_on_parents(wf: Workflow) -> None:
    running = wf.job("par/running")
    wf.set_state(running, "RUNNING")
    finished = wf.job("par/finished")
    wf.set_state(finished, "JOB_FINISHED")

    waiting = wf.job("par/c1", parent_ids={running.id, finished.id})
    assert waiting.state == "AWAITING_PARENTS"
    assert sorted(waiting.parent_ids) == sorted([running.id, finished.id])

    # all parents already finished: the parent does not hold the child back
    ready_plain = wf.job("par/c2", parent_ids={finished.id})
    assert ready_plain.state == "STAGED_IN"
    ready_echo = wf.job("par/c3", app=wf.Echo, parent_ids={finished.id}, transfers={"inp": "laptop:/in"})
    assert ready_echo.state == "READY"

    # stage-ins of an AWAITING_PARENTS job are still "pending" (semantics §2.3 note)
    waiting_echo = wf.job("par/c4", app=wf.Echo, parent_ids={running.id}, transfers={"inp": "laptop:/in"})
    assert waiting_echo.state == "AWAITING_PARENTS"
    assert [t.state.value for t in wf.TransferItem.objects.filter(job_id=waiting_echo.id)] == ["pending"]
    assert wf.transitions(waiting_echo.id) == [("CREATED", "AWAITING_PARENTS")]
    assert sorted(wf.raw_job(waiting.id)["parent_ids"]) == sorted([running.id, finished.id])


def test_bulk_create_keeps_request_order_and_matches_read_back(wf: Workflow) -> None:
    Job = wf.Job
    workdirs = ["bulk/z", "bulk/a", "bulk/m", "bulk/b", "bulk/y"]
    objs = [
        Job(wd, wf.Plain, tags={"pos": str(i)}, num_nodes=i + 1, wall_time_min=10 * i, node_packing_count=2)
        for i, wd in enumerate(workdirs)
    ]
    created = Job.objects.bulk_create(objs)
    assert [str(j.workdir) for j in created] == workdirs
    assert [j.tags["pos"] for j in created] == ["0", "1", "2", "3", "4"]
    assert len(set(ids(created))) == 5
    assert all(j.state == "STAGED_IN" for j in created)

    # the POST response equals what a later read returns (balsam-api.md §1.3)
    by_id = {j.id: j for j in Job.objects.filter(id=ids(created))}
    for c in created:
        r = by_id[c.id]
        assert (r.workdir, r.tags, r.num_nodes, r.wall_time_min, r.node_packing_count, r.app_id, r.state) == (
            c.workdir,
            c.tags,
            c.num_nodes,
            c.wall_time_min,
            c.node_packing_count,
            c.app_id,
            c.state,
        )
        assert aware(r.last_update) == aware(c.last_update), "POST and GET disagree on last_update"
    # one request: the same `now` for the whole batch (semantics §2.3)
    assert len({aware(j.last_update) for j in by_id.values()}) == 1


def test_submit_python_app_serializes_parameters(wf: Workflow) -> None:
    _ = wf.Job  # binds ApplicationDefinition to this client
    job = wf.Adder.submit("py/add", x=3, y=4, tags={"kind": "py"})
    assert job.id is not None and job.app_id == wf.adder_id
    assert job.state == "STAGED_IN"
    fetched = wf.fetch(job.id)
    assert fetched.get_parameters() == {"x": 3, "y": 4}
    # save=False + bulk_create, the documented bulk path
    pending = [wf.Adder.submit(f"py/many/{i}", x=i, save=False) for i in range(3)]
    made = wf.Job.objects.bulk_create(pending)
    assert [wf.fetch(j.id).get_parameters() for j in made] == [{"x": 0}, {"x": 1}, {"x": 2}]


def test_job_app_given_by_name(wf: Workflow) -> None:
    job = wf.Job("byname/1", "Plain", site_name=wf.site.name)
    job.save()
    assert job.app_id == wf.plain_id


def test_create_wire_normalisation_and_coercion(wf: Workflow) -> None:
    body = [
        {
            "workdir": "./norm//x/y/",
            "app_id": wf.plain_id,
            "tags": {"n": 1, "f": 2.0, "b": True, "s": "x"},
            "max_wall_time_min_bogus": 1,  # unknown keys are ignored
            "parameters": {"ignored": 1},
        }
    ]
    resp = wf.raw.post("jobs/", json=body)
    assert_status(resp, 201)
    (created,) = resp.json()
    assert created["workdir"] == "norm/x/y"
    assert created["tags"] == {"n": "1", "f": "2.0", "b": "True", "s": "x"}
    # tags are then filterable by their string form (balsam-api.md §1.2)
    assert ids(wf.Job.objects.filter(tags={"n": "1", "f": "2.0"})) == [created["id"]]
    assert ids(wf.Job.objects.filter(tags=["b:True"])) == [created["id"]]


def test_create_absolute_workdir_422(wf: Workflow) -> None:
    resp = wf.raw.post("jobs/", json=[{"workdir": "/abs/path", "app_id": wf.plain_id}])
    assert_422(resp, ["body", 0, "workdir"])


def test_create_body_must_be_a_list(wf: Workflow) -> None:
    resp = wf.raw.post("jobs/", json={"workdir": "x", "app_id": wf.plain_id})
    assert_422(resp, ["body"], type_="type_error.list")


@pytest.mark.upstream_differs("an empty list gives a 500 upstream; the spec asks for 201 []")
def test_create_empty_list(wf: Workflow) -> None:
    resp = wf.raw.post("jobs/", json=[])
    assert_status(resp, 201)
    assert resp.json() == []


# =====================================================================================
# Creation errors: one bad item rejects the whole batch
# =====================================================================================
def count_workdirs(wf: Workflow, prefix: str) -> int:
    return wf.Job.objects.filter(workdir__contains=prefix).count()


def test_bulk_create_with_one_bad_app_changes_nothing(wf: Workflow, wf2: Workflow) -> None:
    prefix = unique("atomic")
    Job = wf.Job
    good = [Job(f"{prefix}/{i}", wf.plain_id) for i in range(3)]
    bad = Job(f"{prefix}/bad", 2**31 - 7)
    with expect_http_error(404, NO_APPS):
        wf.Job.objects.bulk_create(good[:2] + [bad] + good[2:])
    assert count_workdirs(wf, prefix) == 0

    # someone else's app looks exactly like a missing one
    foreign = Job(f"{prefix}/foreign", wf2.plain_id)
    with expect_http_error(404, NO_APPS):
        wf.Job.objects.bulk_create(good + [foreign])
    assert count_workdirs(wf, prefix) == 0
    assert wf2.Job.objects.filter(workdir__contains=prefix).count() == 0


def test_bulk_create_with_bad_parent_changes_nothing(wf: Workflow, wf2: Workflow) -> None:
    prefix = unique("atomicp")
    other = wf2.job("theirs")
    mine = wf.job("mine")
    Job = wf.Job
    for bad_parent in (2**31 - 9, other.id):
        batch = [Job(f"{prefix}/ok", wf.plain_id, parent_ids={mine.id}), Job(f"{prefix}/bad", wf.plain_id, parent_ids={bad_parent})]
        with expect_http_error(404, NO_PARENTS):
            Job.objects.bulk_create(batch)
        assert count_workdirs(wf, prefix) == 0


def test_bulk_create_duplicate_workdirs_400(wf: Workflow) -> None:
    prefix = unique("dupwd")
    Job = wf.Job
    with expect_http_error(400, DUP_WORKDIRS):
        Job.objects.bulk_create([Job(f"{prefix}/a", wf.plain_id), Job(f"{prefix}/b", wf.plain_id), Job(f"{prefix}/a", wf.plain_id)])
    assert count_workdirs(wf, prefix) == 0
    # normalised paths are compared
    resp = wf.raw.post(
        "jobs/", json=[{"workdir": f"{prefix}/c", "app_id": wf.plain_id}, {"workdir": f"./{prefix}//c/", "app_id": wf.plain_id}]
    )
    assert_status(resp, 400)
    assert resp.json() == DUP_WORKDIRS
    # the same workdir in two separate requests is fine
    wf.job(f"{prefix}/same")
    wf.job(f"{prefix}/same")
    assert count_workdirs(wf, prefix) == 2


def test_bulk_create_bad_transfer_slot_or_alias_400(wf: Workflow) -> None:
    prefix = unique("badxfer")
    Job = wf.Job
    ok = Job(f"{prefix}/ok", wf.echo_id, parameters={"msg": "a"}, transfers={"inp": "laptop:/a"})
    bad_slot = Job(f"{prefix}/slot", wf.echo_id, parameters={"msg": "a"}, transfers={"nope": "laptop:/a"})
    with expect_http_error(400, {"detail": "App Echo has no Transfer slot named nope"}):
        Job.objects.bulk_create([ok, bad_slot])
    bad_alias = Job(f"{prefix}/alias", wf.echo_id, parameters={"msg": "a"}, transfers={"inp": "nowhere:/a"})
    with expect_http_error(400, {"detail": "Site has no Transfer URL named nowhere"}):
        Job.objects.bulk_create([ok, bad_alias])
    assert count_workdirs(wf, prefix) == 0


def test_required_transfer_slots_and_parameters_not_checked_by_server(wf: Workflow) -> None:
    resp = wf.raw.post("jobs/", json=[{"workdir": "noparams", "app_id": wf.echo_id}])
    assert_status(resp, 201)
    assert resp.json()[0]["state"] == "STAGED_IN"


# =====================================================================================
# Filters (every JobQuery parameter), ordering, count, slicing, get
# =====================================================================================
class Population:
    """A fixed set of jobs on two Sites with known tags/states/parents/batch jobs."""

    def __init__(self, wf: Workflow, site_b: Any, app_b: type) -> None:
        self.wf = wf
        self.site_b = site_b
        self.app_b = app_b
        self.jobs: Dict[str, int] = {}
        self.bj_a = None
        self.bj_b = None
        self.t_mid = None

    def all_raw(self) -> List[Dict[str, Any]]:
        return self.wf.raw_jobs()

    def select(self, pred: Callable[[Dict[str, Any]], bool]) -> List[int]:
        return sorted(j["id"] for j in self.all_raw() if pred(j))


@pytest.fixture(scope="module")
def pop(api_root: str, auth_canary: None) -> Population:
    from balsam.client import BasicAuthRequestsClient

    from conftest import register_raw
    from jobkit import plain_app

    user = register_raw(api_root, unique("pop"), "pw-" + unique("pw"))
    client = BasicAuthRequestsClient(api_root, username=user.username, password=user.password, retry_count=NO_RETRY)
    client.refresh_auth()
    wf = build_workflow(client, RawAPI(api_root, client.token), prefix="pop")
    site_b = client.Site.objects.create(name=unique("popb"), path="/sites/popb")
    AppB = plain_app(site_b.id)
    AppB.sync()
    p = Population(wf, site_b, AppB)
    J = p.jobs
    Job = wf.Job

    # parents and children (site A)
    parents = Job.objects.bulk_create(
        [Job("pop/par/one", wf.Plain, tags={"role": "parent"}), Job("pop/par/two", wf.Plain, tags={"role": "parent"})]
    )
    J["p1"], J["p2"] = ids(parents)
    kids = Job.objects.bulk_create(
        [
            Job("pop/kid/aa", wf.Plain, parent_ids={J["p1"]}, tags={"role": "child"}),
            Job("pop/kid/bb", wf.Plain, parent_ids={J["p1"], J["p2"]}, tags={"role": "child"}),
            Job("pop/kid/cc", wf.Plain, parent_ids={J["p2"]}, tags={"role": "child"}),
        ]
    )
    J["c1"], J["c2"], J["c3"] = ids(kids)
    # echo jobs (site A), the "ord" subset used for ordering checks
    echoes = Job.objects.bulk_create(
        [
            Job("pop/ord/delta", wf.Echo, parameters={"msg": "d"}, tags={"ord": "1", "grp": "x", "msg": "OK: done!"}, transfers={"inp": "laptop:/d"}),
            Job("pop/ord/alpha", wf.Echo, parameters={"msg": "a"}, tags={"ord": "1", "grp": "x", "n": "1"}),
            Job("pop/ord/charlie", wf.Echo, parameters={"msg": "c"}, tags={"ord": "1", "grp": "y"}),
            Job("pop/ord/bravo", wf.Echo, parameters={"msg": "b"}, tags={"ord": "1", "grp": "y", "n": "2"}),
            Job("pop/ord/echo", wf.Echo, parameters={"msg": "e"}, tags={"ord": "1"}),
        ]
    )
    J["e_d"], J["e_a"], J["e_c"], J["e_b"], J["e_e"] = ids(echoes)
    # case-sensitivity of workdir__contains
    J["needle_up"] = wf.job("pop/Needle/1", tags={"case": "up"}).id
    J["needle_lo"] = wf.job("pop/needle/2", tags={"case": "lo"}).id
    # site B
    b_jobs = Job.objects.bulk_create([Job(f"pop/siteb/{i}", AppB.__app_id__, tags={"site": "b"}) for i in range(3)])
    J["b0"], J["b1"], J["b2"] = ids(b_jobs)

    # states (parents RUNNING so children wait); avoid RUN_* next to RUNNING so that any
    # collation orders the "ord" subset like byte order does
    updates = {
        "p1": "RUNNING",
        "p2": "RUNNING",
        "e_a": "RUNNING",
        "e_c": "FAILED",
        "e_b": "PREPROCESSED",
        "e_e": "RESTART_READY",
        "b0": "JOB_FINISHED",
        "b1": "PREPROCESSED",
    }
    to_update = list(Job.objects.filter(id=[J[k] for k in updates]))
    by_id = {j.id: j for j in to_update}
    for key, state in updates.items():
        by_id[J[key]].state = state
    Job.objects.bulk_update(to_update)

    # batch jobs at each site, assigned to some jobs
    BJ = client.BatchJob
    p.bj_a = BJ.objects.create(site_id=wf.site.id, project="p", queue="q", num_nodes=1, wall_time_min=5, job_mode="mpi")
    p.bj_b = BJ.objects.create(site_id=site_b.id, project="p", queue="q", num_nodes=1, wall_time_min=5, job_mode="mpi")
    Job.objects.filter(id=[J["e_a"], J["e_c"]]).update(batch_job_id=p.bj_a.id)
    Job.objects.filter(id=[J["b0"]]).update(batch_job_id=p.bj_b.id)
    # pending_file_cleanup false for two jobs
    Job.objects.filter(id=[J["b0"], J["e_c"]]).update(pending_file_cleanup=False)

    # a later touch: these two get a strictly later last_update than everything else
    time.sleep(0.05)
    p.t_mid = utcnow()
    time.sleep(0.05)
    Job.objects.filter(id=[J["b2"], J["needle_lo"]]).update(data={"touched": True})
    return p


def raw_ids(rows: List[Dict[str, Any]]) -> List[int]:
    return sorted(r["id"] for r in rows)


def test_filter_by_id_parent_app_site(pop: Population) -> None:
    wf, J = pop.wf, pop.jobs
    Job = wf.Job
    assert sorted_ids(Job.objects.filter(id=[J["p1"], J["b2"], 2**31 - 3])) == sorted([J["p1"], J["b2"]])
    assert sorted_ids(Job.objects.filter(id=J["c2"])) == [J["c2"]]

    # parent_id: children of any listed job (array overlap)
    assert sorted_ids(Job.objects.filter(parent_id=J["p1"])) == sorted([J["c1"], J["c2"]])
    assert sorted_ids(Job.objects.filter(parent_id=[J["p1"], J["p2"]])) == sorted([J["c1"], J["c2"], J["c3"]])
    assert sorted_ids(Job.objects.filter(parent_id=[J["p2"]])) == sorted([J["c2"], J["c3"]])

    assert sorted_ids(Job.objects.filter(app_id=wf.echo_id)) == pop.select(lambda j: j["app_id"] == wf.echo_id)
    assert sorted_ids(Job.objects.filter(app_id=pop.app_b.__app_id__)) == sorted([J["b0"], J["b1"], J["b2"]])

    site_a_ids = pop.select(lambda j: j["app_id"] != pop.app_b.__app_id__)
    assert sorted_ids(Job.objects.filter(site_id=wf.site.id)) == site_a_ids
    assert sorted_ids(Job.objects.filter(site_id=pop.site_b.id)) == sorted([J["b0"], J["b1"], J["b2"]])
    assert sorted_ids(Job.objects.filter(site_id=[wf.site.id, pop.site_b.id])) == pop.select(lambda j: True)
    assert Job.objects.filter(site_id=2**31 - 5).count() == 0


def test_filter_by_state_and_state_ne(pop: Population) -> None:
    Job = pop.wf.Job
    for state in ("RUNNING", "AWAITING_PARENTS", "STAGED_IN", "READY", "JOB_FINISHED", "FAILED", "RUN_DONE"):
        assert sorted_ids(Job.objects.filter(state=state)) == pop.select(lambda j, s=state: j["state"] == s), state
    wanted = {"PREPROCESSED", "RESTART_READY"}
    assert sorted_ids(Job.objects.filter(state=wanted)) == pop.select(lambda j: j["state"] in wanted)
    assert sorted_ids(Job.objects.filter(state__ne="RUNNING")) == pop.select(lambda j: j["state"] != "RUNNING")
    assert sorted_ids(Job.objects.filter(state__ne="RUNNING", state={"RUNNING", "FAILED"})) == [pop.jobs["e_c"]]
    # the initial states as computed at creation (semantics §2.3)
    J = pop.jobs
    assert {J["c1"], J["c2"], J["c3"]} <= set(pop.select(lambda j: j["state"] == "AWAITING_PARENTS"))
    assert J["e_d"] in pop.select(lambda j: j["state"] == "READY")


def test_filter_invalid_state_422(pop: Population) -> None:
    resp = pop.wf.raw.get("jobs/", params={"state": ["RUNNING", "BOGUS"]})
    assert_422(resp, ["query", "state", 1], type_="type_error.enum")
    resp = pop.wf.raw.get("jobs/", params={"state__ne": "BOGUS"})
    assert_422(resp, ["query", "state__ne"], type_="type_error.enum")


def test_filter_by_tags(pop: Population) -> None:
    Job, J = pop.wf.Job, pop.jobs
    assert sorted_ids(Job.objects.filter(tags={"grp": "x"})) == sorted([J["e_d"], J["e_a"]])
    assert sorted_ids(Job.objects.filter(tags={"ord": "1", "grp": "y"})) == sorted([J["e_c"], J["e_b"]])
    assert sorted_ids(Job.objects.filter(tags=["grp:y", "n:2"])) == [J["e_b"]]
    assert sorted_ids(Job.objects.filter(tags="role:child")) == sorted([J["c1"], J["c2"], J["c3"]])
    # split at the FIRST colon only
    assert sorted_ids(Job.objects.filter(tags={"msg": "OK: done!"})) == [J["e_d"]]
    assert Job.objects.filter(tags={"grp": "z"}).count() == 0
    assert Job.objects.filter(tags={"grp": "x", "role": "child"}).count() == 0


def test_filter_by_workdir_contains_is_case_sensitive(pop: Population) -> None:
    Job, J = pop.wf.Job, pop.jobs
    assert sorted_ids(Job.objects.filter(workdir__contains="Needle")) == [J["needle_up"]]
    assert sorted_ids(Job.objects.filter(workdir__contains="needle")) == [J["needle_lo"]]
    assert sorted_ids(Job.objects.filter(workdir__contains="pop/ord/")) == sorted(
        [J["e_d"], J["e_a"], J["e_c"], J["e_b"], J["e_e"]]
    )
    assert sorted_ids(Job.objects.filter(workdir__contains="kid/b")) == [J["c2"]]


def test_filter_by_pending_file_cleanup(pop: Population) -> None:
    Job, J = pop.wf.Job, pop.jobs
    everything = pop.select(lambda j: True)
    assert sorted_ids(Job.objects.filter(pending_file_cleanup=True)) == pop.select(lambda j: j["pending_file_cleanup"])
    assert J["b0"] not in sorted_ids(Job.objects.filter(pending_file_cleanup=True))
    # false is "no filter" (semantics quirk 15, reproduced)
    assert sorted_ids(Job.objects.filter(pending_file_cleanup=False)) == everything
    # file-cleaner style query
    assert sorted_ids(Job.objects.filter(site_id=pop.site_b.id, state="JOB_FINISHED", pending_file_cleanup=True)) == []


def test_filter_by_last_update(pop: Population) -> None:
    Job, J = pop.wf.Job, pop.jobs
    rows = pop.all_raw()
    touched = sorted([J["b2"], J["needle_lo"]])
    # naive (what the SDK sends for utcnow()) and aware forms mean the same instant
    assert sorted_ids(Job.objects.filter(last_update_after=pop.t_mid)) == touched
    assert sorted_ids(Job.objects.filter(last_update_after=pop.t_mid.replace(tzinfo=timezone.utc))) == touched
    assert sorted_ids(Job.objects.filter(last_update_before=pop.t_mid)) == sorted(
        set(r["id"] for r in rows) - set(touched)
    )
    # inclusive bounds at microsecond precision
    row = next(r for r in rows if r["id"] == J["b2"])
    exact = parse_dt(row["last_update"])
    at_exact = sorted_ids(Job.objects.filter(last_update_after=exact, last_update_before=exact))
    assert at_exact == touched  # both were touched by the same request
    later = exact + timedelta(microseconds=1)
    assert Job.objects.filter(last_update_after=later).count() == 0
    # another offset: the same instant written in +05:00
    plus5 = exact.astimezone(timezone(timedelta(hours=5)))
    assert sorted_ids(Job.objects.filter(last_update_after=plus5)) == touched


@pytest.mark.upstream_differs("GET /jobs/?batch_job_id=X returns every job at X's Site upstream (quirk 2)")
def test_filter_by_batch_job_id(pop: Population) -> None:
    Job, J = pop.wf.Job, pop.jobs
    assert sorted_ids(Job.objects.filter(batch_job_id=pop.bj_a.id)) == sorted([J["e_a"], J["e_c"]])
    assert sorted_ids(Job.objects.filter(batch_job_id=pop.bj_b.id)) == [J["b0"]]
    # 0 means "no filter"
    assert Job.objects.filter(batch_job_id=0).count() == len(pop.all_raw())


def test_batch_job_id_filter_contains_the_batch_jobs_jobs(pop: Population) -> None:
    """What the client relies on with either implementation (balsam-api.md §4.3)."""
    Job, J = pop.wf.Job, pop.jobs
    got = set(ids(Job.objects.filter(batch_job_id=pop.bj_a.id)))
    assert {J["e_a"], J["e_c"]} <= got
    assert {J["b0"], J["b1"], J["b2"]}.isdisjoint(got)
    assert pop.wf.raw_job(J["e_a"])["batch_job_id"] == pop.bj_a.id


ORDERINGS = ["id", "-id", "state", "-state", "workdir", "-workdir", "last_update", "-last_update"]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_ordering(pop: Population, ordering: str) -> None:
    """Primary key as requested, then ascending id (balsam-api.md §1.5, §4.3)."""
    Job = pop.wf.Job
    rows = [r for r in pop.all_raw() if r["tags"].get("ord") == "1"] + [
        r for r in pop.all_raw() if r["tags"].get("role")
    ]
    field = ordering.lstrip("-")
    desc = ordering.startswith("-")

    def key(r):
        v = r[field]
        return parse_dt(v) if field == "last_update" else v

    # id ascending first, then a stable sort on the primary key (Python keeps equal keys in
    # their original order even with reverse=True): ties stay in ascending id order
    expected = sorted(sorted(rows, key=lambda r: r["id"]), key=key, reverse=desc)
    subset_ids = [r["id"] for r in rows]
    got = ids(Job.objects.filter(id=subset_ids).order_by(ordering))
    assert got == [r["id"] for r in expected], f"ordering={ordering}"


def test_ordering_invalid_422(pop: Population) -> None:
    resp = pop.wf.raw.get("jobs/", params={"ordering": "tags"})
    assert_422(resp, ["query", "ordering"], type_="type_error.enum")


def test_count_slicing_get(pop: Population) -> None:
    Job, J = pop.wf.Job, pop.jobs
    everything = pop.select(lambda j: True)
    assert Job.objects.count() == len(everything)
    assert Job.objects.filter(tags={"ord": "1"}).count() == 5
    assert len(Job.objects.filter(tags={"ord": "1"})) == 5

    ordered = ids(Job.objects.all())
    assert ordered == everything, "default order is ascending id"
    assert ids(Job.objects.all()[2:6]) == everything[2:6]
    assert ids(Job.objects.all()[5:]) == everything[5:]
    assert Job.objects.all()[3].id == everything[3]
    assert ids(Job.objects.filter(tags={"ord": "1"}).order_by("-id")[1:3]) == sorted(
        [J["e_d"], J["e_a"], J["e_c"], J["e_b"], J["e_e"]], reverse=True
    )[1:3]
    assert Job.objects.filter(tags={"ord": "1"}).first().id == min(J["e_d"], J["e_a"], J["e_c"], J["e_b"], J["e_e"])

    assert Job.objects.get(workdir__contains="kid/cc").id == J["c3"]
    assert Job.objects.get(tags={"grp": "x"}, state="RUNNING").id == J["e_a"]
    with pytest.raises(Job.DoesNotExist):
        Job.objects.get(tags={"grp": "nope"})
    with pytest.raises(Job.MultipleObjectsReturned):
        Job.objects.get(tags={"role": "child"})
    job = Job.objects.get(id=J["c2"])
    assert job.parent_query().count() == 2
    assert sorted_ids(job.parent_query()) == sorted([J["p1"], J["p2"]])


def test_list_pagination_wire(pop: Population) -> None:
    raw = pop.wf.raw
    total = len(pop.all_raw())
    resp = raw.get("jobs/", params={"limit": 0})
    assert_status(resp, 200)
    assert resp.json() == {"count": total, "results": []}
    resp = raw.get("jobs/", params={"limit": 2, "offset": 1, "ordering": "-id"})
    body = resp.json()
    assert body["count"] == total
    assert [r["id"] for r in body["results"]] == sorted((r["id"] for r in pop.all_raw()), reverse=True)[1:3]
    assert_422(raw.get("jobs/", params={"limit": 100001}), ["query", "limit"])
    assert_422(raw.get("jobs/", params={"offset": -1}), ["query", "offset"])
    # unknown query parameters are ignored (upstream tests send `ids=`)
    assert raw.get("jobs/", params={"ids": 5, "bogus": "x"}).json()["count"] == total
    # GET /jobs/{id}
    one = raw.get(f"jobs/{pop.jobs['c1']}")
    assert_status(one, 200)
    assert one.json() == next(r for r in pop.all_raw() if r["id"] == pop.jobs["c1"])
    assert raw.get(f"jobs/{2**31 - 2}").json() == NOT_FOUND


def test_more_than_500_ids_are_chunked(wf: Workflow) -> None:
    """The SDK splits >500-value list filters into several GETs (and PUTs) (balsam-api.md §1.4)."""
    made = wf.jobs(620, prefix=unique("chunk"), tags={"chunk": "yes"})
    all_ids = ids(made)
    assert len(set(all_ids)) == 620
    bogus = [2**31 - 1 - i for i in range(100)]
    query = wf.Job.objects.filter(id=bogus + all_ids)
    assert query.count() == 620
    assert sorted_ids(query) == sorted(all_ids)
    # re-sorted client-side across chunks when an ordering is given
    assert ids(wf.Job.objects.filter(id=all_ids).order_by("-id")) == sorted(all_ids, reverse=True)
    # query update: the SDK lists then PUTs ?id=<=500 ids per chunk
    n = wf.Job.objects.filter(tags={"chunk": "yes"}).update(tags={"chunk": "done"})
    assert n == 620
    assert wf.Job.objects.filter(tags={"chunk": "done"}, id=all_ids).count() == 620
    # delete by a query with 620 ids in one request
    wf.Job.objects.filter(id=all_ids).delete()
    assert wf.Job.objects.filter(id=all_ids).count() == 0


# =====================================================================================
# Updates: job.save(), state rewrites, LogEvents
# =====================================================================================
def test_save_state_change_writes_event_with_exact_timestamp(wf: Workflow) -> None:
    job = wf.job("upd/1")
    ts = datetime(2021, 3, 4, 5, 6, 7, 891011)
    job.state = "PREPROCESSED"
    job.state_timestamp = ts
    job.state_data = {"message": "pre", "n": 2}
    job.save()
    assert wf.state_of(job.id) == "PREPROCESSED"
    last = wf.events(job.id)[-1]
    assert (last.from_state, last.to_state, last.data) == ("STAGED_IN", "PREPROCESSED", {"message": "pre", "n": 2})
    assert last.timestamp == ts, "a naive state_timestamp must come back exactly (semantics §2.4)"

    # an aware state_timestamp is converted to naive UTC
    job = wf.fetch(job.id)
    job.state = "RUNNING"
    job.state_timestamp = datetime(2021, 3, 4, 7, 0, 0, 5, tzinfo=timezone(timedelta(hours=2)))
    job.save()
    last = wf.events(job.id)[-1]
    assert last.timestamp == datetime(2021, 3, 4, 5, 0, 0, 5)
    assert last.timestamp.tzinfo is None

    # no state_timestamp: "now"
    before = utcnow()
    wf.set_state(job.id, "RUN_DONE")
    after = utcnow()
    last = wf.events(job.id)[-1]
    assert (last.from_state, last.to_state, last.data) == ("RUNNING", "RUN_DONE", {})
    assert_naive_recent(last.timestamp, before, after, "event timestamp")


def test_update_without_state_change_writes_no_event(wf: Workflow) -> None:
    job = wf.job("upd/2", tags={"a": "1"})
    first = aware(wf.fetch(job.id).last_update)
    time.sleep(0.01)
    job = wf.fetch(job.id)
    job.tags = {"b": "2"}
    job.data = {"new": True}
    job.num_nodes = 4
    job.save()
    got = wf.fetch(job.id)
    assert (got.tags, got.data, got.num_nodes) == ({"b": "2"}, {"new": True}, 4)  # tags/data replaced
    assert aware(got.last_update) > first, "every PATCH/PUT sets last_update to now"
    assert len(wf.events(job.id)) == 1

    # same state as the stored one: no event either
    time.sleep(0.01)
    wf.set_state(job.id, "STAGED_IN")
    assert len(wf.events(job.id)) == 1
    assert aware(wf.fetch(job.id).last_update) > aware(got.last_update)


def test_last_update_is_aware_utc_and_recent(wf: Workflow) -> None:
    job = wf.job("upd/aware")
    got = wf.fetch(job.id)
    assert got.last_update.tzinfo is not None
    now = datetime.now(timezone.utc)
    assert now - timedelta(seconds=10) <= got.last_update <= now + timedelta(seconds=5)


def test_ready_without_pending_stage_in_skips_to_staged_in(wf: Workflow) -> None:
    job = wf.job("skip/in")
    wf.set_state(job, "RUNNING")
    wf.set_state(job, "READY", state_data={"why": "retry"})
    assert wf.state_of(job.id) == "STAGED_IN"
    last = wf.events(job.id)[-1]
    assert (last.from_state, last.to_state) == ("RUNNING", "STAGED_IN")
    assert last.data == {"why": "retry", "message": SKIPPED_STAGE_IN}
    assert len(wf.events(job.id)) == 3, "only one event for the rewritten change"


def test_ready_with_pending_stage_in_stays_ready_until_transfer_done(wf: Workflow) -> None:
    job = wf.job("skip/in2", app=wf.Echo, transfers={"inp": "laptop:/x"})
    assert job.state == "READY"
    wf.set_state(job, "RUNNING")
    wf.set_state(job, "READY")
    assert wf.state_of(job.id) == "READY"
    assert wf.events(job.id)[-1].data == {}

    (item,) = list(wf.TransferItem.objects.filter(job_id=job.id))
    item.state = "active"
    item.task_id = "task-1"
    item.save()
    assert wf.state_of(job.id) == "READY"
    item = wf.TransferItem.objects.get(id=item.id)
    assert (item.state.value, item.task_id) == ("active", "task-1")

    before = utcnow()
    item.state = "done"
    item.transfer_info = {"bytes": 10}
    item.save()
    after = utcnow()
    assert wf.state_of(job.id) == "STAGED_IN", "all stage-ins done: READY -> STAGED_IN (semantics §3.3)"
    last = wf.events(job.id)[-1]
    assert (last.from_state, last.to_state, last.data) == ("READY", "STAGED_IN", {})
    assert_naive_recent(last.timestamp, before, after, "transfer-driven event")
    got = wf.TransferItem.objects.get(id=item.id)
    assert (got.state.value, got.task_id, got.transfer_info) == ("done", "task-1", {"bytes": 10})


def test_postprocessed_without_stage_out_skips_to_job_finished(wf: Workflow) -> None:
    job = wf.job("skip/out")
    wf.set_state(job, "RUN_DONE")
    wf.set_state(job, "POSTPROCESSED", state_data={"k": "v"})
    assert wf.state_of(job.id) == "JOB_FINISHED"
    last = wf.events(job.id)[-1]
    assert (last.from_state, last.to_state) == ("RUN_DONE", "JOB_FINISHED")
    assert last.data == {"k": "v", "message": SKIPPED_STAGE_OUT}


def test_postprocessed_with_stage_out_marks_items_pending_then_finishes(wf: Workflow) -> None:
    job = wf.job("skip/out2", app=wf.Echo, transfers={"out": "dtn:/r", "inp": "laptop:/i"})
    in_item = wf.TransferItem.objects.get(job_id=job.id, direction="in")
    in_item.state = "done"
    in_item.save()
    assert wf.state_of(job.id) == "STAGED_IN"
    wf.set_state(job, "RUN_DONE")
    wf.set_state(job, "POSTPROCESSED")
    assert wf.state_of(job.id) == "POSTPROCESSED"
    out_item = wf.TransferItem.objects.get(job_id=job.id, direction="out")
    assert out_item.state.value == "pending", "stage-outs awaiting_job -> pending on POSTPROCESSED"
    assert wf.events(job.id)[-1].data == {}

    # filters on /transfers/ the transfer service uses
    assert ids(wf.TransferItem.objects.filter(site_id=wf.site.id, state="pending", job_id=job.id)) == [out_item.id]
    in_item = wf.TransferItem.objects.get(job_id=job.id, direction="in")
    assert sorted_ids(wf.TransferItem.objects.filter(job_state="POSTPROCESSED", job_id=job.id)) == sorted(
        [in_item.id, out_item.id]
    )
    assert wf.TransferItem.objects.filter(job_state="RUNNING", job_id=job.id).count() == 0
    assert ids(wf.TransferItem.objects.filter(direction="out", job_id=job.id)) == [out_item.id]

    out_item.state = "done"
    wf.TransferItem.objects.bulk_update([out_item])  # PATCH /transfers/
    assert wf.state_of(job.id) == "JOB_FINISHED"
    last = wf.events(job.id)[-1]
    assert (last.from_state, last.to_state, last.data) == ("POSTPROCESSED", "JOB_FINISHED", {})


def test_staged_out_becomes_job_finished(wf: Workflow) -> None:
    job = wf.job("skip/staged_out", app=wf.Echo, transfers={"out": "dtn:/r"})
    wf.set_state(job, "POSTPROCESSED")
    assert wf.state_of(job.id) == "POSTPROCESSED"
    wf.set_state(job, "STAGED_OUT", state_data={"by": "hand"})
    assert wf.state_of(job.id) == "JOB_FINISHED", "STAGED_OUT is never stored (semantics §2.1)"
    last = wf.events(job.id)[-1]
    assert (last.from_state, last.to_state, last.data) == ("POSTPROCESSED", "JOB_FINISHED", {"by": "hand"})


def test_free_transitions_are_allowed(wf: Workflow) -> None:
    """The server does not validate transitions (semantics §2.1)."""
    job = wf.job("free")
    for state in ["JOB_FINISHED", "PREPROCESSED", "CREATED", "FAILED", "RESTART_READY", "AWAITING_PARENTS"]:
        wf.set_state(job, state)
        assert wf.state_of(job.id) == state
    assert [e.to_state for e in wf.events(job.id)] == [
        "STAGED_IN",
        "JOB_FINISHED",
        "PREPROCESSED",
        "CREATED",
        "FAILED",
        "RESTART_READY",
        "AWAITING_PARENTS",
    ]


def test_children_released_when_all_parents_finish(wf: Workflow) -> None:
    p1 = wf.job("fam/p1")
    p2 = wf.job("fam/p2")
    both = wf.job("fam/both", parent_ids={p1.id, p2.id})
    only1 = wf.job("fam/only1", app=wf.Echo, parent_ids={p1.id}, transfers={"inp": "laptop:/in"})
    only1_done_stage_in = wf.job("fam/only1b", app=wf.Echo, parent_ids={p1.id}, transfers={"inp": "laptop:/in"})
    item = wf.TransferItem.objects.get(job_id=only1_done_stage_in.id)
    item.state = "done"
    item.save()
    # transfer completion does not advance an AWAITING_PARENTS job (semantics §3.3)
    assert wf.state_of(only1_done_stage_in.id) == "AWAITING_PARENTS"

    wf.set_state(p1, "JOB_FINISHED")
    assert wf.state_of(only1.id) == "READY"  # stage-in still pending
    assert wf.events(only1.id)[-1].data == {"message": ALL_PARENTS_FINISHED}
    assert wf.transitions(only1.id) == [("CREATED", "AWAITING_PARENTS"), ("AWAITING_PARENTS", "READY")]
    assert wf.state_of(only1_done_stage_in.id) == "STAGED_IN"
    assert wf.events(only1_done_stage_in.id)[-1].data == {"message": SKIPPED_STAGE_IN}
    assert wf.state_of(both.id) == "AWAITING_PARENTS", "one parent is still not finished"

    # the second parent finishes through the POSTPROCESSED -> JOB_FINISHED rewrite
    wf.set_state(p2, "POSTPROCESSED")
    assert wf.state_of(p2.id) == "JOB_FINISHED"
    assert wf.state_of(both.id) == "STAGED_IN"
    assert wf.transitions(both.id) == [("CREATED", "AWAITING_PARENTS"), ("AWAITING_PARENTS", "STAGED_IN")]
    assert wf.events(both.id)[-1].data == {"message": SKIPPED_STAGE_IN}
    # propagation goes one level only, and only once
    assert len(wf.events(only1.id)) == 2


def test_children_released_through_staged_out_and_bulk_paths(wf: Workflow) -> None:
    p = wf.jobs(3, prefix=unique("famb"))
    kid = wf.job("famb/kid", parent_ids=set(ids(p)))
    wf.set_state(p[0], "STAGED_OUT")  # -> JOB_FINISHED
    assert wf.state_of(kid.id) == "AWAITING_PARENTS"
    # the other two through a query update
    n = wf.Job.objects.filter(id=ids(p[1:])).update(state="JOB_FINISHED")
    assert n == 2
    assert wf.state_of(kid.id) == "STAGED_IN"
    assert len(wf.events(kid.id)) == 2


def test_failed_or_deleted_parent_leaves_child_waiting(wf: Workflow) -> None:
    p1, p2 = wf.job("dead/p1"), wf.job("dead/p2")
    k1 = wf.job("dead/k1", parent_ids={p1.id})
    k2 = wf.job("dead/k2", parent_ids={p2.id})
    wf.set_state(p1, "FAILED")
    wf.fetch(p2.id).delete()
    time.sleep(0.05)
    assert wf.state_of(k1.id) == "AWAITING_PARENTS"
    assert wf.state_of(k2.id) == "AWAITING_PARENTS"
    assert wf.raw_job(k2.id)["parent_ids"] == [p2.id], "the dead parent id stays in parent_ids"


@pytest.mark.upstream_differs("stage-out completion does not release children upstream (quirk 4)")
def test_parent_finished_by_stage_out_completion_releases_children(wf: Workflow) -> None:
    parent = wf.job("xfam/p", app=wf.Echo, transfers={"out": "dtn:/r"})
    kid = wf.job("xfam/k", parent_ids={parent.id})
    wf.set_state(parent, "POSTPROCESSED")
    out = wf.TransferItem.objects.get(job_id=parent.id)
    out.state = "done"
    out.save()
    assert wf.state_of(parent.id) == "JOB_FINISHED"
    assert wf.state_of(kid.id) == "STAGED_IN"


def test_query_update_applies_patch_and_events_to_every_match(wf: Workflow) -> None:
    tag = unique("qu")
    made = wf.jobs(4, tags={"batch": tag})
    extra = wf.job("qu/other", tags={"batch": "other"})
    ts = datetime(2022, 1, 2, 3, 4, 5, 600000)
    n = wf.Job.objects.filter(tags={"batch": tag}).update(
        state="RUN_DONE", state_data={"by": "query"}, state_timestamp=ts, return_code=0
    )
    assert n == 4
    for j in made:
        got = wf.fetch(j.id)
        assert (got.state.value, got.return_code) == ("RUN_DONE", 0)
        last = wf.events(j.id)[-1]
        assert (last.from_state, last.to_state, last.data, last.timestamp) == ("STAGED_IN", "RUN_DONE", {"by": "query"}, ts)
    assert wf.state_of(extra.id) == "STAGED_IN"
    # raw PUT /jobs/?filters answers the number of matched jobs
    resp = wf.raw.put("jobs/", params={"tags": f"batch:{tag}", "state": "RUN_DONE"}, json={"data": {"x": 1}})
    assert_status(resp, 200)
    assert resp.json() == 4
    resp = wf.raw.put("jobs/", params={"tags": "batch:none"}, json={"data": {"x": 1}})
    assert resp.json() == 0


@pytest.mark.upstream_differs("upstream shares one state_data dict among a PUT /jobs/ request's events")
def test_query_update_messages_are_per_job(wf: Workflow) -> None:
    tag = unique("qmsg")
    plain = wf.job("qmsg/plain", tags={"q": tag})
    echo = wf.job("qmsg/echo", app=wf.Echo, tags={"q": tag}, transfers={"inp": "laptop:/i"})
    wf.Job.objects.filter(tags={"q": tag}).update(state="RUNNING")
    wf.Job.objects.filter(tags={"q": tag}).update(state="READY", state_data={"u": 1})
    assert wf.state_of(plain.id) == "STAGED_IN"
    assert wf.state_of(echo.id) == "READY"
    assert wf.events(plain.id)[-1].data == {"u": 1, "message": SKIPPED_STAGE_IN}
    assert wf.events(echo.id)[-1].data == {"u": 1}


def test_bulk_update_patch(wf: Workflow) -> None:
    made = wf.jobs(3)
    jobs = list(wf.Job.objects.filter(id=ids(made)))
    jobs[0].state = "RUNNING"
    jobs[0].state_data = {"num_nodes": 1.0}
    jobs[1].state = "FAILED"
    jobs[1].state_data = {"message": "boom"}
    jobs[2].state = "PREPROCESSED"
    jobs[2].state_data = {}
    wf.Job.objects.bulk_update(jobs)
    assert wf.state_of(jobs[0].id) == "RUNNING"
    assert wf.state_of(jobs[1].id) == "FAILED"
    assert wf.events(jobs[0].id)[-1].data == {"num_nodes": 1.0}
    assert wf.events(jobs[1].id)[-1].data == {"message": "boom"}
    assert wf.transitions(jobs[2].id)[-1] == ("STAGED_IN", "PREPROCESSED")
    # raw: PATCH answers the number of jobs updated
    resp = wf.raw.request("PATCH", "jobs/", json=[{"id": jobs[2].id, "data": {"a": 1}}, {"id": jobs[0].id, "data": {"b": 2}}])
    assert_status(resp, 200)
    assert resp.json() == 2
    assert (wf.fetch(jobs[2].id).data, wf.fetch(jobs[0].id).data) == ({"a": 1}, {"b": 2})


@pytest.mark.upstream_differs("upstream applies every patch with the FIRST patch's key set (quirk 1)")
def test_bulk_update_mixed_key_sets_apply_independently(wf: Workflow) -> None:
    """The processing service's PATCH mixes shell jobs (no return value) with Python jobs
    (serialized_return_value) in one request (client-usage.md (b))."""
    made = wf.jobs(4)
    a, b, c, d = made
    wf.Job.objects.filter(id=ids(made)).update(state="RUN_DONE")
    body = [
        {"id": a.id, "state": "POSTPROCESSED", "state_timestamp": "2026-01-01T00:00:00.000001", "state_data": {}},
        {
            "id": b.id,
            "state": "POSTPROCESSED",
            "state_timestamp": "2026-01-01T00:00:00.000002",
            "state_data": {},
            "serialized_return_value": "gARLAy4=\n",
            "serialized_exception": "",
        },
        {"id": c.id, "tags": {"late": "key"}, "return_code": 3},
        {"id": d.id, "state": "RUN_DONE", "state_data": {"same": "state"}},  # unchanged: no event
    ]
    resp = wf.raw.request("PATCH", "jobs/", json=body)
    assert_status(resp, 200)
    assert resp.json() == 4
    ra, rb, rc, rd = (wf.raw_job(j.id) for j in made)
    assert ra["state"] == "JOB_FINISHED" and ra["serialized_return_value"] == ""
    assert rb["state"] == "JOB_FINISHED"
    assert rb["serialized_return_value"] == "gARLAy4=\n", "the Python job's return value was lost"
    assert wf.fetch(b.id).result_nowait() == 3
    assert (rc["state"], rc["tags"], rc["return_code"]) == ("RUN_DONE", {"late": "key"}, 3)
    assert rd["state"] == "RUN_DONE" and len(wf.events(d.id)) == 2
    assert wf.transitions(a.id)[-1] == ("RUN_DONE", "JOB_FINISHED")
    assert wf.events(b.id)[-1].data == {"message": SKIPPED_STAGE_OUT}


def test_patch_with_unknown_id_changes_nothing(wf: Workflow, wf2: Workflow) -> None:
    mine = wf.job("patch/mine")
    theirs = wf2.job("patch/theirs")
    for bad in (2**31 - 11, theirs.id):
        resp = wf.raw.request(
            "PATCH", "jobs/", json=[{"id": mine.id, "state": "RUNNING", "tags": {"x": "y"}}, {"id": bad, "state": "RUNNING"}]
        )
        assert_status(resp, 400)
        assert resp.json() == MISSING_IDS
    got = wf.raw_job(mine.id)
    assert (got["state"], got["tags"]) == ("STAGED_IN", {})
    assert len(wf.events(mine.id)) == 1
    assert wf2.state_of(theirs.id) == "STAGED_IN"

    # the SDK path: bulk_update raises after the 400
    jobs = list(wf.Job.objects.filter(id=[mine.id]))
    jobs[0].state = "RUNNING"
    ghost = wf.Job.objects.get(id=mine.id)
    ghost._read_model.id = 2**31 - 12  # an id the server does not know
    ghost.state = "FAILED"
    with expect_http_error(400, MISSING_IDS):
        wf.Job.objects.bulk_update(jobs + [ghost])
    assert wf.state_of(mine.id) == "STAGED_IN"


def test_patch_duplicate_ids_400(wf: Workflow) -> None:
    job = wf.job("patch/dup")
    resp = wf.raw.request("PATCH", "jobs/", json=[{"id": job.id, "state": "RUNNING"}, {"id": job.id, "state": "FAILED"}])
    assert_status(resp, 400)
    assert resp.json() == DUP_IDS
    assert wf.state_of(job.id) == "STAGED_IN"


def test_put_single_missing_or_foreign_job_400(wf: Workflow, wf2: Workflow) -> None:
    theirs = wf2.job("put/theirs")
    for bad in (2**31 - 13, theirs.id):
        resp = wf.raw.put(f"jobs/{bad}", json={"state": "RUNNING"})
        assert_status(resp, 400)
        assert resp.json() == MISSING_IDS
    assert wf2.state_of(theirs.id) == "STAGED_IN"
    resp = wf.raw.put(f"jobs/{wf.job('put/mine').id}", json={"state": "RUNNING"})
    assert_status(resp, 200)
    assert resp.json() == 1


def test_update_validation_422(wf: Workflow) -> None:
    job = wf.job("put/val")
    assert_422(wf.raw.put(f"jobs/{job.id}", json={"state": "BOGUS"}), ["body", "state"])
    assert_422(wf.raw.put(f"jobs/{job.id}", json={"workdir": "/abs"}), ["body", "workdir"])
    assert_422(wf.raw.put(f"jobs/{job.id}", json={"tags": None}), ["body", "tags"])
    assert_422(wf.raw.put(f"jobs/{job.id}", json={"serialized_return_value": "x" * 512001}), ["body", "serialized_return_value"])
    assert wf.state_of(job.id) == "STAGED_IN"


# =====================================================================================
# Deletes
# =====================================================================================
def test_delete_single_job_cascades(wf: Workflow) -> None:
    job = wf.job("del/one", app=wf.Echo, transfers={"inp": "laptop:/i"})
    keep = wf.job("del/keep")
    wf.fetch(job.id).delete()
    assert wf.Job.objects.filter(id=job.id).count() == 0
    assert wf.EventLog.objects.filter(job_id=job.id).count() == 0
    assert wf.TransferItem.objects.filter(job_id=job.id).count() == 0
    assert wf.Job.objects.filter(id=keep.id).count() == 1
    resp = wf.raw.delete(f"jobs/{job.id}")
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND


def test_delete_by_query(wf: Workflow) -> None:
    tag = unique("delq")
    doomed = wf.jobs(4, tags={"d": tag})
    keep = wf.jobs(2, tags={"d": "keep"})
    wf.Job.objects.filter(tags={"d": tag}, state="STAGED_IN").delete()
    assert wf.Job.objects.filter(id=ids(doomed)).count() == 0
    assert wf.Job.objects.filter(id=ids(keep)).count() == 2
    resp = wf.raw.delete("jobs/", params={"tags": "d:nothing"})
    assert_status(resp, 204)
    assert resp.content == b""


def test_delete_other_users_job_404(wf: Workflow, wf2: Workflow) -> None:
    theirs = wf2.job("del/theirs")
    resp = wf.raw.delete(f"jobs/{theirs.id}")
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND
    # query delete never reaches another user's jobs
    assert_status(wf.raw.delete("jobs/", params={"id": theirs.id}), 204)
    assert wf2.Job.objects.filter(id=theirs.id).count() == 1


def test_tenancy_jobs_invisible(wf: Workflow, wf2: Workflow) -> None:
    mine = wf.job("ten/mine")
    assert wf2.Job.objects.filter(id=mine.id).count() == 0
    assert mine.id not in ids(wf2.Job.objects.all())
    assert wf2.raw.get(f"jobs/{mine.id}").json() == NOT_FOUND
    assert wf2.EventLog.objects.filter(job_id=mine.id).count() == 0
    resp = wf2.raw.put("jobs/", params={"id": mine.id}, json={"state": "FAILED"})
    assert resp.json() == 0
    assert wf.state_of(mine.id) == "STAGED_IN"


def test_app_delete_cascades_to_jobs(wf: Workflow) -> None:
    job = wf.job("casc/1", app=wf.Adder, parameters={"x": 1})
    app = wf.client.App.objects.get(id=wf.adder_id)
    app.delete()
    assert wf.Job.objects.filter(id=job.id).count() == 0
    assert wf.EventLog.objects.filter(job_id=job.id).count() == 0


# =====================================================================================
# Extension: GET /jobs/state-counts
# =====================================================================================
@pytest.mark.extension
def test_state_counts_extension(wf: Workflow, wf2: Workflow) -> None:
    site_b = wf.client.Site.objects.create(name=unique("cnt"), path="/sites/cnt")
    from jobkit import plain_app

    wf.Job  # bind the app client
    AppB = plain_app(site_b.id)
    AppB.sync()
    empty_site = wf.client.Site.objects.create(name=unique("cnt0"), path="/sites/cnt0")
    a = wf.jobs(5)
    wf.Job.objects.filter(id=ids(a[:2])).update(state="RUNNING")
    wf.set_state(a[2], "FAILED")
    wf.job("cnt/aw", parent_ids={a[0].id})
    b = wf.jobs(3, app=AppB)
    wf.set_state(b[0], "JOB_FINISHED")
    wf2.jobs(2)  # another user's jobs never show up

    resp = wf.raw.get("jobs/state-counts")
    assert_status(resp, 200)
    body = resp.json()
    assert isinstance(body, list), describe(resp)
    by_site = {}
    for entry in body:
        assert set(entry) >= {"site_id", "counts"}, entry
        assert entry["site_id"] not in by_site, f"site listed twice: {body}"
        by_site[entry["site_id"]] = {k: v for k, v in entry["counts"].items() if v != 0}
        assert set(entry["counts"]) <= set(ALL_STATES), entry
    assert wf2.site.id not in by_site
    assert by_site.get(wf.site.id) == {"STAGED_IN": 2, "RUNNING": 2, "FAILED": 1, "AWAITING_PARENTS": 1}
    assert by_site.get(site_b.id) == {"STAGED_IN": 2, "JOB_FINISHED": 1}
    assert by_site.get(empty_site.id, {}) == {}
    # it agrees with the per-state counts `balsam job ls --by-state` computes (14 requests)
    for site_id, counts in by_site.items():
        for state in ALL_STATES:
            n = wf.Job.objects.filter(site_id=site_id, state=state).count()
            assert counts.get(state, 0) == n, (site_id, state)
    # authentication required
    assert_status(requests.get(wf.raw.url("jobs/state-counts"), timeout=30), 401)
