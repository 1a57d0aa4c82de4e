"""BatchJobs (balsam-api.md §3.4, §4.4; balsam-semantics.md §5) through client.BatchJob.*"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, List

import pytest

from helpers import NAIVE_ISO_RE, assert_422, assert_status, describe, expect_http_error, unique
from jobkit import Workflow, ids, sorted_ids

NOT_FOUND = {"error": "Not found"}
MISSING_IDS = {"detail": "Could not find some Batch Job IDs"}
BJ_KEYS = {
    "id",
    "site_id",
    "project",
    "queue",
    "num_nodes",
    "wall_time_min",
    "job_mode",
    "optional_params",
    "filter_tags",
    "partitions",
    "scheduler_id",
    "state",
    "status_info",
    "start_time",
    "end_time",
}


def make_bj(wf: Workflow, **kw: Any):
    kw.setdefault("site_id", wf.site.id)
    kw.setdefault("project", "proj")
    kw.setdefault("queue", "default")
    kw.setdefault("num_nodes", 2)
    kw.setdefault("wall_time_min", 30)
    kw.setdefault("job_mode", "mpi")
    return wf.BatchJob.objects.create(**kw)


def test_create_defaults(wf: Workflow) -> None:
    bj = make_bj(wf, filter_tags={"system": "H2O"}, optional_params={"shout": "yes"})
    assert isinstance(bj.id, int)
    assert (bj.state, bj.scheduler_id, bj.status_info, bj.start_time, bj.end_time) == (
        "pending_submission",
        None,
        {},
        None,
        None,
    )
    assert (bj.site_id, bj.project, bj.queue, bj.num_nodes, bj.wall_time_min, bj.job_mode) == (
        wf.site.id,
        "proj",
        "default",
        2,
        30,
        "mpi",
    )
    assert (bj.filter_tags, bj.optional_params) == ({"system": "H2O"}, {"shout": "yes"})
    got = wf.BatchJob.objects.get(id=bj.id)
    assert got.display_dict() == bj.display_dict()

    resp = wf.raw.get(f"batch-jobs/{bj.id}")
    assert_status(resp, 200)
    assert set(resp.json()) == BJ_KEYS
    assert wf.raw.get("batch-jobs/", params={"id": bj.id}).json()["results"] == [resp.json()]


def test_create_what_queue_submit_sends(wf: Workflow) -> None:
    """`balsam queue submit` sends partitions [] (client-usage.md (a)); a `state` at create is ignored."""
    body = {
        "num_nodes": 1,
        "wall_time_min": 10,
        "job_mode": "serial",
        "optional_params": {},
        "filter_tags": {"n": 1, "b": True},
        "partitions": [],
        "site_id": wf.site.id,
        "project": "local",
        "queue": "local",
        "state": "running",
        "scheduler_id": 5,
    }
    resp = wf.raw.post("batch-jobs/", json=body)
    assert_status(resp, 201)
    out = resp.json()
    assert out["state"] == "pending_submission"
    assert out["scheduler_id"] is None
    assert out["filter_tags"] == {"n": "1", "b": "True"}
    assert out["partitions"] in ([], None)
    parts = [{"job_mode": "mpi", "num_nodes": 1, "filter_tags": {"a": "1"}}, {"job_mode": "serial", "num_nodes": 3}]
    resp = wf.raw.post("batch-jobs/", json={**body, "num_nodes": 4, "partitions": parts})
    assert_status(resp, 201)
    assert resp.json()["partitions"] == [
        {"job_mode": "mpi", "num_nodes": 1, "filter_tags": {"a": "1"}},
        {"job_mode": "serial", "num_nodes": 3, "filter_tags": {}},
    ]


def test_create_errors(wf: Workflow, wf2: Workflow) -> None:
    with expect_http_error(400, {"detail": f"No site with ID {wf2.site.id}"}):
        make_bj(wf, site_id=wf2.site.id)
    body = {"site_id": wf.site.id, "project": "p", "queue": "q", "num_nodes": 1, "wall_time_min": 1, "job_mode": "bogus"}
    assert_422(wf.raw.post("batch-jobs/", json=body), ["body", "job_mode"])
    del body["job_mode"]
    assert_422(wf.raw.post("batch-jobs/", json=body), ["body", "job_mode"], type_="value_error.missing")
    assert wf.BatchJob.objects.count() == 0


def test_save_updates_and_returns_full_object(wf: Workflow) -> None:
    bj = make_bj(wf)
    bj.state = "queued"
    bj.scheduler_id = 16274
    bj.status_info = {"submit_script": "/x/y.sh", "submit_time": "now"}
    bj.save()  # PUT answers the full object; the SDK refreshes from it
    assert (bj.state, bj.scheduler_id) == ("queued", 16274)
    got = wf.BatchJob.objects.get(id=bj.id)
    assert (got.state, got.scheduler_id, got.status_info) == (
        "queued",
        16274,
        {"submit_script": "/x/y.sh", "submit_time": "now"},
    )
    start = datetime(2026, 1, 2, 3, 4, 5, 123456)
    got.state = "running"
    got.start_time = start
    got.status_info = {"replaced": "yes"}
    got.save()
    again = wf.BatchJob.objects.get(id=bj.id)
    assert (again.state, again.start_time, again.status_info, again.end_time) == (
        "running",
        start,
        {"replaced": "yes"},
        None,
    )
    raw = wf.raw.get(f"batch-jobs/{bj.id}").json()
    assert NAIVE_ISO_RE.match(raw["start_time"]), f"start_time must be naive on GET: {raw['start_time']}"
    # an aware time is stored as UTC and read back naive
    resp = wf.raw.put(f"batch-jobs/{bj.id}", json={"end_time": "2026-01-02T05:00:00+02:00"})
    assert_status(resp, 200)
    assert wf.raw.get(f"batch-jobs/{bj.id}").json()["end_time"] == "2026-01-02T03:00:00"


def test_pending_deletion_rule(wf: Workflow) -> None:
    """A pending_deletion BatchJob only leaves that state for `finished` (semantics §5.2)."""
    bj = make_bj(wf)
    resp = wf.raw.put(f"batch-jobs/{bj.id}", json={"state": "queued", "scheduler_id": 10})
    assert resp.json()["state"] == "queued"
    resp = wf.raw.put(f"batch-jobs/{bj.id}", json={"state": "pending_deletion"})  # `balsam queue term`
    assert resp.json()["state"] == "pending_deletion"

    resp = wf.raw.put(f"batch-jobs/{bj.id}", json={"state": "running", "scheduler_id": 77})
    assert_status(resp, 200)
    assert (resp.json()["state"], resp.json()["scheduler_id"]) == ("pending_deletion", 77)
    got = wf.BatchJob.objects.get(id=bj.id)
    assert (got.state, got.scheduler_id) == ("pending_deletion", 77)

    # through PATCH too (what the scheduler service sends)
    resp = wf.raw.request("PATCH", "batch-jobs/", json=[{"id": bj.id, "state": "queued", "status_info": {"a": "b"}}])
    assert_status(resp, 200)
    assert [(b["state"], b["status_info"]) for b in resp.json()] == [("pending_deletion", {"a": "b"})]

    got.state = "finished"
    got.save()
    assert wf.BatchJob.objects.get(id=bj.id).state == "finished"
    # no other transition validation
    resp = wf.raw.put(f"batch-jobs/{bj.id}", json={"state": "pending_submission"})
    assert resp.json()["state"] == "pending_submission"


def test_bulk_update_patch(wf: Workflow) -> None:
    a, b, c = make_bj(wf), make_bj(wf), make_bj(wf)
    objs = list(wf.BatchJob.objects.filter(id=[c.id, a.id]))
    for o in objs:
        o.state = "queued"
        o.scheduler_id = 1000 + o.id
    wf.BatchJob.objects.bulk_update(objs)  # PATCH answers the updated objects; refreshed in place
    assert {o.id: (o.state, o.scheduler_id) for o in objs} == {
        a.id: ("queued", 1000 + a.id),
        c.id: ("queued", 1000 + c.id),
    }
    assert wf.BatchJob.objects.get(id=b.id).state == "pending_submission"

    resp = wf.raw.request("PATCH", "batch-jobs/", json=[{"id": c.id, "state": "running"}, {"id": a.id, "state": "finished", "end_time": "2026-05-05T00:00:00"}])
    assert_status(resp, 200)
    body = resp.json()
    assert [x["id"] for x in body] == sorted([a.id, c.id]), "PATCH answers the BatchJobs ordered by id"
    assert {x["id"]: x["state"] for x in body} == {a.id: "finished", c.id: "running"}
    assert all(set(x) == BJ_KEYS for x in body)
    # duplicate ids collapse, the last one wins
    resp = wf.raw.request("PATCH", "batch-jobs/", json=[{"id": b.id, "state": "queued"}, {"id": b.id, "state": "running"}])
    assert_status(resp, 200)
    assert wf.BatchJob.objects.get(id=b.id).state == "running"


def test_patch_with_unknown_id_changes_nothing(wf: Workflow, wf2: Workflow) -> None:
    mine = make_bj(wf)
    theirs = make_bj(wf2)
    for bad in (2**31 - 31, theirs.id):
        resp = wf.raw.request("PATCH", "batch-jobs/", json=[{"id": mine.id, "state": "queued"}, {"id": bad, "state": "queued"}])
        assert_status(resp, 400)
        assert resp.json() == MISSING_IDS
    assert wf.BatchJob.objects.get(id=mine.id).state == "pending_submission"
    assert wf2.BatchJob.objects.get(id=theirs.id).state == "pending_submission"


def test_update_validation_and_404(wf: Workflow, wf2: Workflow) -> None:
    bj = make_bj(wf)
    assert_422(wf.raw.put(f"batch-jobs/{bj.id}", json={"state": "bogus"}), ["body", "state"])
    resp = wf.raw.put(f"batch-jobs/{2**31 - 32}", json={"state": "queued"})
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND
    theirs = make_bj(wf2)
    assert_status(wf.raw.put(f"batch-jobs/{theirs.id}", json={"state": "queued"}), 404)
    assert wf.raw.get(f"batch-jobs/{theirs.id}").json() == NOT_FOUND
    assert wf.BatchJob.objects.filter(id=[theirs.id]).count() == 0


@pytest.mark.upstream_differs("null status_info / state give 500s upstream")
def test_update_nulls(wf: Workflow) -> None:
    bj = make_bj(wf)
    # status_info null: rejected, or treated as {}, but never stored as NULL (balsam-api.md §3.4)
    resp = wf.raw.put(f"batch-jobs/{bj.id}", json={"status_info": None})
    assert resp.status_code in (200, 422), describe(resp)
    got = wf.raw.get(f"batch-jobs/{bj.id}")
    assert_status(got, 200)
    assert got.json()["status_info"] == {}
    # state null: treated as not given
    resp = wf.raw.put(f"batch-jobs/{bj.id}", json={"state": None, "scheduler_id": 5})
    assert resp.status_code in (200, 422), describe(resp)
    assert wf.raw.get(f"batch-jobs/{bj.id}").json()["state"] == "pending_submission"


class BJPop:
    pass


@pytest.fixture
def bjpop(wf: Workflow) -> BJPop:
    p = BJPop()
    p.wf = wf
    p.site2 = wf.client.Site.objects.create(name=unique("bj2"), path="/sites/bj2")
    T = datetime(2026, 3, 1, 12, 0, 0)
    p.T = T
    p.a = make_bj(wf, queue="default", filter_tags={"sys": "H2O", "calc": "e"})
    p.b = make_bj(wf, queue="debug", filter_tags={"sys": "H2O"})
    p.c = make_bj(wf, queue="default")
    p.d = make_bj(wf, site_id=p.site2.id, queue="default")
    patches = [
        {"id": p.a.id, "state": "finished", "scheduler_id": 11, "start_time": str(T), "end_time": str(T + timedelta(hours=1))},
        {"id": p.b.id, "state": "running", "scheduler_id": 12, "start_time": str(T + timedelta(minutes=30))},
        {"id": p.d.id, "state": "queued", "scheduler_id": 11},
    ]
    for patch in patches:  # one PATCH per key set
        assert_status(wf.raw.request("PATCH", "batch-jobs/", json=[patch]), 200)
    return p


def test_batch_job_filters(bjpop: BJPop) -> None:
    p, BJ, T = bjpop, bjpop.wf.BatchJob, bjpop.T
    allids = sorted([p.a.id, p.b.id, p.c.id, p.d.id])
    assert sorted_ids(BJ.objects.all()) == allids
    assert ids(BJ.objects.all()) == allids, "ascending id"
    assert sorted_ids(BJ.objects.filter(id=[p.a.id, p.d.id])) == sorted([p.a.id, p.d.id])
    assert sorted_ids(BJ.objects.filter(site_id=p.wf.site.id)) == sorted([p.a.id, p.b.id, p.c.id])
    assert sorted_ids(BJ.objects.filter(site_id=[p.wf.site.id, p.site2.id])) == allids
    assert sorted_ids(BJ.objects.filter(state="finished")) == [p.a.id]
    assert sorted_ids(BJ.objects.filter(state=["pending_submission", "queued", "running", "pending_deletion"])) == sorted(
        [p.b.id, p.c.id, p.d.id]
    )
    assert BJ.objects.filter(state="bogus").count() == 0, "state is not validated: matches nothing"
    assert sorted_ids(BJ.objects.filter(scheduler_id=11)) == sorted([p.a.id, p.d.id])
    assert sorted_ids(BJ.objects.filter(scheduler_id=11, site_id=p.site2.id)) == [p.d.id]
    assert sorted_ids(BJ.objects.filter(queue="debug")) == [p.b.id]
    assert sorted_ids(BJ.objects.filter(queue="default", site_id=p.wf.site.id)) == sorted([p.a.id, p.c.id])
    assert sorted_ids(BJ.objects.filter(filter_tags={"sys": "H2O"})) == sorted([p.a.id, p.b.id])
    assert sorted_ids(BJ.objects.filter(filter_tags={"sys": "H2O", "calc": "e"})) == [p.a.id]
    # time windows, inclusive
    assert sorted_ids(BJ.objects.filter(start_time_after=T)) == sorted([p.a.id, p.b.id])
    assert sorted_ids(BJ.objects.filter(start_time_after=T + timedelta(microseconds=1))) == [p.b.id]
    assert sorted_ids(BJ.objects.filter(start_time_before=T)) == [p.a.id]
    assert sorted_ids(BJ.objects.filter(end_time_before=T + timedelta(hours=2))) == [p.a.id]
    assert sorted_ids(BJ.objects.filter(end_time_after=T + timedelta(hours=1))) == [p.a.id]
    assert BJ.objects.filter(end_time_after=T + timedelta(hours=1, microseconds=1)).count() == 0
    aware_T = T.replace(tzinfo=timezone.utc).astimezone(timezone(timedelta(hours=-5)))
    assert sorted_ids(BJ.objects.filter(start_time_after=aware_T)) == sorted([p.a.id, p.b.id])
    # ordering by start_time (jobs without one are left out here: NULL placement is backend-specific)
    with_start = [p.a.id, p.b.id]
    assert [x for x in ids(BJ.objects.all().order_by("start_time")) if x in with_start] == [p.a.id, p.b.id]
    assert [x for x in ids(BJ.objects.all().order_by("-start_time")) if x in with_start] == [p.b.id, p.a.id]
    assert_422(p.wf.raw.get("batch-jobs/", params={"ordering": "queue"}), ["query", "ordering"])
    # get / DoesNotExist
    assert BJ.objects.get(scheduler_id=12).id == p.b.id
    with pytest.raises(BJ.DoesNotExist):
        BJ.objects.get(scheduler_id=999)
    with pytest.raises(BJ.MultipleObjectsReturned):
        BJ.objects.get(scheduler_id=11)
    # what `balsam queue ls` sends
    resp = p.wf.raw.get(
        "batch-jobs/",
        params={"site_id": p.wf.site.id, "state": ["pending_submission", "queued", "running", "pending_deletion"]},
    )
    assert sorted(x["id"] for x in resp.json()["results"]) == sorted([p.b.id, p.c.id])


def test_bulk_delete_is_refused_by_the_client(wf: Workflow) -> None:
    make_bj(wf)
    with pytest.raises(NotImplementedError):
        wf.BatchJob.objects.all().delete()
    assert wf.BatchJob.objects.count() == 1


def test_delete_nulls_job_and_session_references(wf: Workflow) -> None:
    bj = make_bj(wf)
    job = wf.job("bjdel/1")
    wf.Job.objects.filter(id=[job.id]).update(batch_job_id=bj.id)
    sess = wf.Session.objects.create(site_id=wf.site.id, batch_job_id=bj.id)
    resp = wf.raw.delete(f"batch-jobs/{bj.id}")
    assert_status(resp, 204)
    assert resp.content == b""
    assert wf.BatchJob.objects.filter(id=[bj.id]).count() == 0
    assert wf.raw_job(job.id)["batch_job_id"] is None
    assert wf.Session.objects.get(id=sess.id).batch_job_id is None
    resp = wf.raw.delete(f"batch-jobs/{bj.id}")
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND
    # through the SDK
    bj2 = make_bj(wf)
    bj2.delete()
    assert wf.BatchJob.objects.count() == 0


@pytest.mark.upstream_differs("job batch_job_id writes are not ownership-checked upstream (quirk 10)")
def test_job_batch_job_id_must_be_owned(wf: Workflow, wf2: Workflow) -> None:
    job = wf.job("bjown/1")
    theirs = make_bj(wf2)
    for bad in (theirs.id, 2**31 - 33):
        resp = wf.raw.put(f"jobs/{job.id}", json={"batch_job_id": bad})
        assert resp.status_code in (400, 404, 422), describe(resp)
        assert wf.raw_job(job.id)["batch_job_id"] is None
