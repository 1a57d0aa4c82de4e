"""LogEvents (balsam-api.md §3.7, §4.7; balsam-semantics.md §2.7) through client.EventLog.*,
and the `balsam.analytics` helpers over /events/ and /batch-jobs/, checked against values
computed independently from the timeline the test wrote."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Tuple

import pytest
from balsam.analytics import available_nodes, throughput_report, utilization_report

from helpers import NAIVE_ISO_RE, assert_422, assert_status, describe, unique
from jobkit import Workflow, ids, sorted_ids

T0 = datetime(2030, 1, 1, 0, 0, 0, 250000)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


class Timeline:
    """Four jobs with a known history, all tagged {"ana": tag}:

    j1: RUNNING@0 (1.0 node)  RUN_DONE@10  POSTPROCESSED@12 (-> JOB_FINISHED, skipped stage out)
    j2: RUNNING@2 (0.5)  RUN_ERROR@5  RESTART_READY@6  RUNNING@7 (0.5)  RUN_DONE@20  JOB_FINISHED@21
    j3: RUNNING@3 (2.0)  RUN_TIMEOUT@15
    j4: only its creation event
    """

    def __init__(self, wf: Workflow) -> None:
        self.wf = wf
        self.tag = unique("ana")
        made = wf.jobs(4, tags={"ana": self.tag})
        self.j1, self.j2, self.j3, self.j4 = ids(made)
        plan: List[Tuple[int, str, float, Dict[str, Any]]] = [
            (self.j1, "RUNNING", 0, {"num_nodes": 1.0}),
            (self.j2, "RUNNING", 2, {"num_nodes": 0.5}),
            (self.j3, "RUNNING", 3, {"num_nodes": 2.0}),
            (self.j2, "RUN_ERROR", 5, {"returncode": 1, "error": "boom: bad"}),
            (self.j2, "RESTART_READY", 6, {}),
            (self.j2, "RUNNING", 7, {"num_nodes": 0.5}),
            (self.j1, "RUN_DONE", 10, {}),
            (self.j1, "POSTPROCESSED", 12, {}),
            (self.j3, "RUN_TIMEOUT", 15, {"message": "killed"}),
            (self.j2, "RUN_DONE", 20, {}),
            (self.j2, "JOB_FINISHED", 21, {"message": "by hand"}),
        ]
        # like the launcher's status updater: PATCH with state, state_timestamp, state_data
        for job_id, state, minute, data in plan:
            body = [{"id": job_id, "state": state, "state_timestamp": at(minute).isoformat(), "state_data": data}]
            resp = wf.raw.request("PATCH", "jobs/", json=body)
            assert_status(resp, 200)


@pytest.fixture
def tl(wf: Workflow) -> Timeline:
    return Timeline(wf)


def test_events_newest_first_and_exact(tl: Timeline) -> None:
    EL = tl.wf.EventLog
    evs = list(EL.objects.filter(job_id=tl.j2))
    assert [(e.from_state, e.to_state) for e in evs] == [
        ("RUN_DONE", "JOB_FINISHED"),
        ("RUNNING", "RUN_DONE"),
        ("RESTART_READY", "RUNNING"),
        ("RUN_ERROR", "RESTART_READY"),
        ("RUNNING", "RUN_ERROR"),
        ("STAGED_IN", "RUNNING"),
        ("CREATED", "STAGED_IN"),
    ], "default ordering is -timestamp (newest first)"
    assert [e.timestamp for e in evs[:-1]] == [at(m) for m in (21, 20, 7, 6, 5, 2)]
    assert evs[4].data == {"returncode": 1, "error": "boom: bad"}
    # EventLog.objects.filter(job_id=X)[0] is the latest event (the client relies on it)
    latest = EL.objects.filter(job_id=tl.j2)[0]
    assert (latest.to_state, latest.timestamp, latest.data) == ("JOB_FINISHED", at(21), {"message": "by hand"})
    assert all(e.job_id == tl.j2 for e in evs)
    # the rewrite POSTPROCESSED -> JOB_FINISHED is one event
    j1 = [(e.from_state, e.to_state, e.data) for e in EL.objects.filter(job_id=tl.j1)]
    assert j1[0] == ("RUN_DONE", "JOB_FINISHED", {"message": "Skipped stage out"})
    assert len(j1) == 4


def test_event_wire_shape(tl: Timeline) -> None:
    resp = tl.wf.raw.get("events/", params={"job_id": tl.j3})
    assert_status(resp, 200)
    body = resp.json()
    assert body["count"] == 3
    for ev in body["results"]:
        assert set(ev) == {"id", "job_id", "timestamp", "from_state", "to_state", "data"}
        assert NAIVE_ISO_RE.match(ev["timestamp"]), ev["timestamp"]
    assert body["results"][0]["timestamp"] == at(15).isoformat()
    assert body["results"][0]["data"] == {"message": "killed"}


def test_event_ordering_and_paging(tl: Timeline) -> None:
    EL = tl.wf.EventLog
    q = EL.objects.filter(tags={"ana": tl.tag})
    allev = list(q)
    assert len(allev) == 4 + 11
    assert q.count() == 15
    newest = [e.id for e in allev]
    asc = [e.id for e in q.order_by("timestamp")]
    # creation events share one timestamp (one bulk create): ties by ascending id in both orders
    creation = sorted(e.id for e in allev if e.from_state == "CREATED")
    assert asc[:4] == creation
    assert newest[-4:] == creation
    assert [e.timestamp for e in q.order_by("timestamp")] == sorted(e.timestamp for e in allev)
    assert [e.timestamp for e in allev] == sorted((e.timestamp for e in allev), reverse=True)
    assert ids(q[3:7]) == newest[3:7]
    assert ids(q.order_by("timestamp")[10:]) == asc[10:]
    assert_422(tl.wf.raw.get("events/", params={"ordering": "id"}), ["query", "ordering"])


def test_event_filters(tl: Timeline) -> None:
    EL = tl.wf.EventLog
    base = EL.objects.filter(tags={"ana": tl.tag})
    everything = list(base)

    def expect(pred) -> List[int]:
        return sorted(e.id for e in everything if pred(e))

    assert sorted_ids(base.filter(to_state="RUNNING")) == expect(lambda e: e.to_state == "RUNNING")
    assert len(expect(lambda e: e.to_state == "RUNNING")) == 4
    assert sorted_ids(base.filter(from_state="RUNNING")) == expect(lambda e: e.from_state == "RUNNING")
    assert sorted_ids(base.filter(from_state="CREATED")) == expect(lambda e: e.from_state == "CREATED")
    assert base.filter(to_state="NOT_A_STATE").count() == 0  # not validated
    assert sorted_ids(EL.objects.filter(job_id=[tl.j1, tl.j3])) == expect(lambda e: e.job_id in (tl.j1, tl.j3))
    some = [everything[0].id, everything[5].id]
    assert sorted_ids(EL.objects.filter(id=some)) == sorted(some)
    # timestamps, inclusive, naive or aware
    assert sorted_ids(base.filter(timestamp_after=at(7), timestamp_before=at(15))) == expect(
        lambda e: at(7) <= e.timestamp <= at(15)
    )
    assert len(expect(lambda e: at(7) <= e.timestamp <= at(15))) == 4
    aware_7 = at(7).replace(tzinfo=timezone.utc).astimezone(timezone(timedelta(hours=3)))
    assert sorted_ids(base.filter(timestamp_after=aware_7, timestamp_before=at(15))) == expect(
        lambda e: at(7) <= e.timestamp <= at(15)
    )
    assert base.filter(timestamp_after=at(21) + timedelta(microseconds=1)).count() == 0
    # data: string values only; split at the first colon
    assert sorted_ids(base.filter(data={"message": "killed"})) == expect(lambda e: e.data.get("message") == "killed")
    assert sorted_ids(base.filter(data={"error": "boom: bad"})) == expect(lambda e: e.data.get("error") == "boom: bad")
    assert base.filter(data={"returncode": "1"}).count() == 0, "numeric values never match (quirk 14)"
    assert base.filter(data={"num_nodes": "1.0"}).count() == 0
    assert sorted_ids(base.filter(data=["message:Skipped stage out"])) == expect(
        lambda e: e.data.get("message") == "Skipped stage out"
    )
    # tags of the job
    assert EL.objects.filter(tags={"ana": "nothing"}).count() == 0


def test_events_of_batch_job(tl: Timeline) -> None:
    wf = tl.wf
    bj = wf.BatchJob.objects.create(site_id=wf.site.id, project="p", queue="q", num_nodes=1, wall_time_min=5, job_mode="mpi")
    other_bj = wf.BatchJob.objects.create(site_id=wf.site.id, project="p", queue="q", num_nodes=1, wall_time_min=5, job_mode="mpi")
    wf.Job.objects.filter(id=[tl.j1, tl.j3]).update(batch_job_id=bj.id)
    assert_status(wf.raw.put(f"batch-jobs/{bj.id}", json={"scheduler_id": 4242}), 200)
    got = list(wf.EventLog.objects.filter(batch_job_id=bj.id))
    assert {e.job_id for e in got} == {tl.j1, tl.j3}
    assert len(got) == len({e.id for e in got}), "no duplicated rows"
    assert wf.EventLog.objects.filter(batch_job_id=bj.id).count() == 4 + 3
    assert wf.EventLog.objects.filter(batch_job_id=other_bj.id).count() == 0
    got = list(wf.EventLog.objects.filter(scheduler_id=4242))
    assert {e.job_id for e in got} >= {tl.j1, tl.j3}


@pytest.mark.upstream_differs("events ?scheduler_id= matches every job at the Site upstream (quirk 3)")
def test_events_of_scheduler_id_strict(tl: Timeline) -> None:
    wf = tl.wf
    bj = wf.BatchJob.objects.create(site_id=wf.site.id, project="p", queue="q", num_nodes=1, wall_time_min=5, job_mode="mpi")
    wf.Job.objects.filter(id=[tl.j2]).update(batch_job_id=bj.id)
    assert_status(wf.raw.put(f"batch-jobs/{bj.id}", json={"scheduler_id": 5151}), 200)
    got = list(wf.EventLog.objects.filter(scheduler_id=5151))
    assert {e.job_id for e in got} == {tl.j2}
    assert len(got) == 7


def test_events_tenancy(tl: Timeline, wf2: Workflow) -> None:
    assert wf2.EventLog.objects.filter(job_id=[tl.j1, tl.j2]).count() == 0
    assert wf2.EventLog.objects.filter(tags={"ana": tl.tag}).count() == 0
    wf2.job("mine")
    assert {e.job_id for e in wf2.EventLog.objects.all()}.isdisjoint({tl.j1, tl.j2, tl.j3, tl.j4})


def test_events_unknown_route_methods(tl: Timeline) -> None:
    resp = tl.wf.raw.post("events/", json={})
    assert_status(resp, 405)
    assert_status(tl.wf.raw.get("events/1"), 404)


# --------------------------------------------------------------------------------------------
# balsam.analytics
# --------------------------------------------------------------------------------------------
def test_throughput_report(tl: Timeline) -> None:
    times, counts = throughput_report(tl.wf.EventLog.objects.filter(tags={"ana": tl.tag}))
    assert times == [at(12), at(21)]
    assert counts == [1, 2]
    times, counts = throughput_report(tl.wf.EventLog.objects.filter(tags={"ana": tl.tag}), to_state="RUNNING")
    assert times == [at(0), at(2), at(3), at(7)]
    assert counts == [1, 2, 3, 4]


def test_utilization_report(tl: Timeline) -> None:
    times, nodes = utilization_report(tl.wf.EventLog.objects.filter(tags={"ana": tl.tag}))
    # independent computation: +num_nodes at each ->RUNNING, minus it at each RUNNING->
    deltas = [(0, 1.0), (2, 0.5), (3, 2.0), (5, -0.5), (7, 0.5), (10, -1.0), (15, -2.0), (20, -0.5)]
    running = 0.0
    expected = []
    for _, d in deltas:
        running += d
        expected.append(running)
    assert times == [at(m) for m, _ in deltas]
    assert nodes == pytest.approx(expected)
    assert nodes[-1] == pytest.approx(0.0)
    # unweighted: job counts
    _, counts = utilization_report(tl.wf.EventLog.objects.filter(tags={"ana": tl.tag}), node_weighting=False)
    assert counts == pytest.approx([1, 2, 3, 2, 3, 2, 1, 0])


def test_available_nodes(wf: Workflow) -> None:
    site = wf.client.Site.objects.create(name=unique("avail"), path="/sites/avail")
    BJ = wf.BatchJob
    spec = [(2, 0, 30), (1, 10, 20), (4, 5, None), (3, 25, 40)]
    for n, start, end in spec:
        bj = BJ.objects.create(site_id=site.id, project="p", queue="q", num_nodes=n, wall_time_min=60, job_mode="mpi")
        patch = {"id": bj.id, "state": "finished" if end is not None else "running", "start_time": at(start).isoformat()}
        if end is not None:
            patch["end_time"] = at(end).isoformat()
        assert_status(wf.raw.request("PATCH", "batch-jobs/", json=[patch]), 200)
    times, nodes = available_nodes(BJ.objects.filter(site_id=site.id))
    events = sorted([(at(s), n) for n, s, e in spec if e is not None] + [(at(e), -n) for n, s, e in spec if e is not None])
    expected, run = [], 0
    for _, d in events:
        run += d
        expected.append(run)
    assert times == [t for t, _ in events]
    assert nodes == expected == [2, 3, 2, 5, 3, 0]
    # the time-window filters the analytics notebooks use
    times, nodes = available_nodes(BJ.objects.filter(site_id=site.id, start_time_after=at(10), state="finished"))
    assert times == [at(10), at(20), at(25), at(40)]
    assert nodes == [1, 0, 3, 0]
