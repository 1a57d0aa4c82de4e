"""Sessions (balsam-api.md §3.5, §4.5; balsam-semantics.md §4) through the SDK's Session API:
client.Session.objects.create(...), session.acquire_jobs(...), session.tick(), session.delete().

The SDK's `session.acquire_jobs()` goes through the *global* Session.objects manager,
so tests always fetch `wf.Session` (which re-binds it) right before acting.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List, Set

import pytest

from helpers import assert_422, assert_naive_recent, assert_status, describe, expect_http_error, unique, utcnow
from jobkit import SESSION_EXPIRED, Workflow, aware, ids, sorted_ids

NOT_FOUND = {"error": "Not found"}


def runnable(wf: Workflow, n: int, state: str = "PREPROCESSED", **kw: Any) -> List[Any]:
    made = wf.jobs(n, **kw)
    if made:
        wf.Job.objects.filter(id=ids(made)).update(state=state)
    return made


def new_session(wf: Workflow, batch_job_id: Any = None):
    return wf.Session.objects.create(site_id=wf.site.id, batch_job_id=batch_job_id)


def acquire(wf: Workflow, session: Any, max_num_jobs: int = 100, **kw: Any) -> List[Any]:
    wf.Session  # re-bind the global manager to this client
    return session.acquire_jobs(max_num_jobs=max_num_jobs, **kw)


def new_batch_job(wf: Workflow, site_id: Any = None, **kw: Any):
    kw.setdefault("num_nodes", 1)
    kw.setdefault("wall_time_min", 10)
    kw.setdefault("job_mode", "mpi")
    return wf.BatchJob.objects.create(site_id=site_id or wf.site.id, project="p", queue="q", **kw)


# ---------------------------------------------------------------------------------------
def test_create_list_and_heartbeat(wf: Workflow) -> None:
    before = utcnow()
    sess = new_session(wf)
    after = utcnow()
    assert isinstance(sess.id, int)
    assert (sess.site_id, sess.batch_job_id) == (wf.site.id, None)
    assert_naive_recent(sess.heartbeat, before, after, "Session.heartbeat")

    listed = list(wf.Session.objects.all())
    assert [s.id for s in listed] == [sess.id]
    assert listed[0].heartbeat == sess.heartbeat
    assert wf.Session.objects.get(id=sess.id).site_id == wf.site.id

    # raw shape; GET /sessions/ has no pagination (limit/offset ignored)
    resp = wf.raw.get("sessions/", params={"limit": 0, "offset": 5})
    assert_status(resp, 200)
    body = resp.json()
    assert body["count"] == 1 and len(body["results"]) == 1, describe(resp)
    assert set(body["results"][0]) == {"id", "site_id", "batch_job_id", "heartbeat"}
    assert "+" not in body["results"][0]["heartbeat"][10:], "heartbeat must be naive (balsam-api.md §1.3.1)"
    s2 = new_session(wf)
    assert sorted_ids(wf.Session.objects.filter(id=[s2.id])) == [s2.id]
    assert [s["id"] for s in wf.raw.get("sessions/").json()["results"]] == sorted([sess.id, s2.id])


def test_create_with_batch_job(wf: Workflow) -> None:
    bj = new_batch_job(wf)
    sess = new_session(wf, batch_job_id=bj.id)
    assert sess.batch_job_id == bj.id


def test_create_errors(wf: Workflow, wf2: Workflow) -> None:
    with expect_http_error(400, {"detail": f"No site with ID {wf2.site.id}"}):
        wf.Session.objects.create(site_id=wf2.site.id)
    missing = 2**31 - 21
    resp = wf.raw.post("sessions/", json={"site_id": missing})
    assert_status(resp, 400)
    assert resp.json() == {"detail": f"No site with ID {missing}"}
    # the batch job must belong to that same site
    other_site = wf.client.Site.objects.create(name=unique("sess"), path="/sites/sess")
    bj_elsewhere = new_batch_job(wf, site_id=other_site.id)
    with expect_http_error(400, {"detail": f"No batch_job with id {bj_elsewhere.id}"}):
        wf.Session.objects.create(site_id=wf.site.id, batch_job_id=bj_elsewhere.id)
    bj_theirs = new_batch_job(wf2)
    resp = wf.raw.post("sessions/", json={"site_id": wf.site.id, "batch_job_id": bj_theirs.id})
    assert_status(resp, 400)
    assert resp.json() == {"detail": f"No batch_job with id {bj_theirs.id}"}
    assert_422(wf.raw.post("sessions/", json={}), ["body", "site_id"])


def test_acquire_default_states_and_lock(wf: Workflow) -> None:
    pre = runnable(wf, 3, "PREPROCESSED")
    rr = runnable(wf, 2, "RESTART_READY")
    other = runnable(wf, 2, "STAGED_IN") + runnable(wf, 1, "RUNNING") + runnable(wf, 1, "RUN_DONE")
    sess = new_session(wf)
    before = utcnow()
    got = acquire(wf, sess)
    assert sorted_ids(got) == sorted(ids(pre + rr))
    by_id = {j.id: j for j in got}
    for j in pre:
        assert by_id[j.id].state == "PREPROCESSED"
        assert str(by_id[j.id].workdir) == str(j.workdir)
        assert by_id[j.id].app_id == wf.plain_id
    # acquiring keeps the session alive
    hb = wf.Session.objects.get(id=sess.id).heartbeat
    assert_naive_recent(hb, before, utcnow(), "heartbeat after acquire")
    # locked now: nobody gets them again
    assert acquire(wf, sess) == []
    s2 = new_session(wf)
    assert acquire(wf, s2) == []
    # acquire does not change state
    assert {wf.state_of(j.id) for j in pre} == {"PREPROCESSED"}
    assert {wf.state_of(j.id) for j in other} == {"STAGED_IN", "RUNNING", "RUN_DONE"}


def test_acquire_processing_service_states(wf: Workflow) -> None:
    """What the Site's processing service asks for (client-usage.md (b))."""
    wanted = runnable(wf, 1, "STAGED_IN") + runnable(wf, 1, "RUN_DONE") + runnable(wf, 1, "RUN_ERROR") + runnable(wf, 1, "RUN_TIMEOUT")
    runnable(wf, 2, "PREPROCESSED")
    sess = new_session(wf)
    got = acquire(wf, sess, max_num_jobs=1000, states={"STAGED_IN", "RUN_DONE", "RUN_ERROR", "RUN_TIMEOUT"})
    assert sorted_ids(got) == sorted(ids(wanted))


def test_acquire_max_num_jobs(wf: Workflow) -> None:
    made = runnable(wf, 7)
    sess = new_session(wf)
    first = acquire(wf, sess, max_num_jobs=3)
    assert len(first) == 3
    second = acquire(wf, sess, max_num_jobs=3)
    assert len(second) == 3
    third = acquire(wf, sess, max_num_jobs=3)
    assert len(third) == 1
    assert sorted(ids(first + second + third)) == sorted(ids(made))


def test_acquire_filter_tags_and_app_ids(wf: Workflow) -> None:
    red = runnable(wf, 3, tags={"color": "red", "size": "L"})
    blue = runnable(wf, 2, tags={"color": "blue"})
    echo = runnable(wf, 2, app=wf.Echo, tags={"color": "red"})
    sess = new_session(wf)
    assert sorted_ids(acquire(wf, sess, filter_tags={"color": "red", "size": "L"})) == sorted(ids(red))
    assert sorted_ids(acquire(wf, sess, app_ids={wf.echo_id})) == sorted(ids(echo))
    assert acquire(wf, sess, filter_tags={"color": "green"}) == []
    assert sorted_ids(acquire(wf, sess, filter_tags={})) == sorted(ids(blue))


def test_acquire_only_jobs_at_the_sessions_site(wf: Workflow) -> None:
    from jobkit import plain_app

    other_site = wf.client.Site.objects.create(name=unique("s2"), path="/sites/s2")
    wf.Job
    OtherApp = plain_app(other_site.id)
    OtherApp.sync()
    here = runnable(wf, 2)
    there = runnable(wf, 2, app=OtherApp)
    sess_there = wf.Session.objects.create(site_id=other_site.id)
    assert sorted_ids(acquire(wf, sess_there)) == sorted(ids(there))
    assert sorted_ids(acquire(wf, new_session(wf))) == sorted(ids(here))


def test_acquire_wall_time_nodes_and_serial_only(wf: Workflow) -> None:
    Job = wf.Job
    specs = {
        "short": dict(wall_time_min=5),
        "long": dict(wall_time_min=30),
        "big": dict(num_nodes=4, wall_time_min=5),
        "mpi": dict(ranks_per_node=4, wall_time_min=5),
        "untimed": dict(wall_time_min=0),
    }
    made = Job.objects.bulk_create([Job(f"{unique('wt')}/{k}", wf.plain_id, **v) for k, v in specs.items()])
    J = dict(zip(specs, ids(made)))
    Job.objects.filter(id=list(J.values())).update(state="PREPROCESSED")

    def probe(**kw: Any) -> List[int]:
        """Acquire with a throw-away session, then release the jobs by deleting it."""
        s = new_session(wf)
        got = sorted_ids(acquire(wf, s, **kw))
        wf.Session
        s.delete()
        return got

    assert probe(max_wall_time_min=10) == sorted([J["short"], J["big"], J["mpi"], J["untimed"]])
    assert probe(max_wall_time_min=10, serial_only=True) == sorted([J["short"], J["untimed"]])
    assert probe(max_nodes_per_job=2) == sorted([J["short"], J["long"], J["mpi"], J["untimed"]])
    assert probe(max_wall_time_min=10, max_nodes_per_job=1, serial_only=True) == sorted([J["short"], J["untimed"]])
    assert probe(serial_only=True) == sorted([J["short"], J["long"], J["untimed"]])
    # fractional remaining minutes (serial-mode launcher) are truncated: 10.9 -> 10
    assert raw_probe(wf, max_wall_time_min=10.9) == sorted([J["short"], J["big"], J["mpi"], J["untimed"]])
    assert raw_probe(wf, max_wall_time_min=29.99) == sorted([J["short"], J["big"], J["mpi"], J["untimed"]])
    # a remaining time below one minute truncates to 0, which disables the filter (quirk, reproduced)
    assert raw_probe(wf, max_wall_time_min=0.5) == sorted(J.values())


def raw_probe(wf: Workflow, **kw: Any) -> List[int]:
    """Acquire over plain HTTP with a fresh session, then delete it (releasing the jobs)."""
    sid = new_session(wf).id
    resp = wf.raw.post(f"sessions/{sid}", json=acquire_body(**kw))
    assert_status(resp, 200)
    got = sorted(j["id"] for j in resp.json())
    assert_status(wf.raw.delete(f"sessions/{sid}"), 204)
    return got


def acquire_body(**kw: Any) -> Dict[str, Any]:
    body = {
        "max_num_jobs": 100,
        "max_wall_time_min": None,
        "max_nodes_per_job": None,
        "max_aggregate_nodes": None,
        "serial_only": False,
        "sort_by": None,
        "filter_tags": {},
        "states": ["PREPROCESSED", "RESTART_READY"],
        "app_ids": [],
    }
    body.update(kw)
    return body


def test_acquire_node_packing_prefix(wf: Workflow) -> None:
    """4 x (2 nodes, packing 1) + 8 x (1 node, packing 8) with max_aggregate_nodes=5:
    the 8 small jobs (footprint 1/8 each) and 2 large ones, 10 in total (semantics §4.3)."""
    Job = wf.Job
    prefix = unique("pack")
    large = Job.objects.bulk_create([Job(f"{prefix}/L{i}", wf.plain_id, num_nodes=2) for i in range(4)])
    small = Job.objects.bulk_create(
        [Job(f"{prefix}/S{i}", wf.plain_id, num_nodes=1, node_packing_count=8) for i in range(8)]
    )
    Job.objects.filter(id=ids(large + small)).update(state="PREPROCESSED")
    sess = new_session(wf)
    got = acquire(wf, sess, max_num_jobs=100, max_aggregate_nodes=5.0, max_nodes_per_job=4)
    got_ids = set(ids(got))
    assert len(got) == 10
    assert set(ids(small)) <= got_ids
    assert len(got_ids & set(ids(large))) == 2
    # the rest is still available
    rest = acquire(wf, new_session(wf), max_num_jobs=100)
    assert sorted_ids(rest) == sorted(set(ids(large)) - got_ids)


def test_acquire_packing_zero_and_small_aggregate(wf: Workflow) -> None:
    Job = wf.Job
    made = Job.objects.bulk_create([Job(f"{unique('pz')}/{i}", wf.plain_id, num_nodes=1) for i in range(3)])
    Job.objects.filter(id=ids(made)).update(state="PREPROCESSED")
    sess = new_session(wf)
    assert acquire(wf, sess, max_aggregate_nodes=0.0) == [], "0 is a value, not 'no limit'"
    assert acquire(wf, sess, max_aggregate_nodes=0.99) == []
    assert len(acquire(wf, sess, max_aggregate_nodes=1.5)) == 1
    assert len(acquire(wf, sess, max_aggregate_nodes=2.0)) == 2


def test_acquire_sort_orders_and_prefix_rule(wf: Workflow) -> None:
    Job = wf.Job
    prefix = unique("llf")
    made = Job.objects.bulk_create(
        [
            Job(f"{prefix}/a", wf.plain_id, num_nodes=1, wall_time_min=5),
            Job(f"{prefix}/b", wf.plain_id, num_nodes=2, wall_time_min=60),
            Job(f"{prefix}/c", wf.plain_id, num_nodes=1, wall_time_min=60),
            Job(f"{prefix}/e", wf.plain_id, num_nodes=3, wall_time_min=30),
        ]
    )
    a, b, c, e = ids(made)
    Job.objects.filter(id=ids(made)).update(state="PREPROCESSED")
    # default (small first): num_nodes ASC, node_packing_count DESC, wall_time_min DESC -> c, a, b, e
    s1 = new_session(wf)
    assert ids(acquire(wf, s1, max_num_jobs=1, max_aggregate_nodes=10.0)) == [c]
    wf.Session
    s1.delete()
    # long_large_first: wall_time_min DESC, num_nodes DESC -> b, c, e, a. With 4.5 nodes:
    # b (2) + c (1) fit, e (3) does not, and a (1) is NOT taken although it would fit (prefix rule)
    s2 = new_session(wf)
    got = acquire(wf, s2, max_num_jobs=10, max_aggregate_nodes=4.5, sort_by="long_large_first")
    assert sorted_ids(got) == sorted([b, c])
    # the rest, small first: a (1) + e (3) = 4 <= 4
    s3 = new_session(wf)
    assert sorted_ids(acquire(wf, s3, max_num_jobs=10, max_aggregate_nodes=4.0)) == sorted([a, e])


def test_two_sessions_split_the_jobs(wf: Workflow) -> None:
    made = runnable(wf, 10)
    s1, s2 = new_session(wf), new_session(wf)
    g1 = acquire(wf, s1, max_num_jobs=2)
    g2 = acquire(wf, s2, max_num_jobs=100)
    assert (len(g1), len(g2)) == (2, 8)
    assert set(ids(g1)).isdisjoint(ids(g2))
    assert sorted(ids(g1 + g2)) == sorted(ids(made))


def test_concurrent_acquires_never_share_a_job(wf: Workflow) -> None:
    """Several launchers acquiring at once (bounded, loopback only)."""
    made = runnable(wf, 60)
    sessions = [new_session(wf) for _ in range(4)]
    taken: Dict[int, List[int]] = {s.id: [] for s in sessions}
    errors: List[str] = []

    def worker(sid: int) -> None:
        raw = wf.raw.with_token(wf.raw.token)
        for _ in range(30):
            resp = raw.post(f"sessions/{sid}", json=acquire_body(max_num_jobs=5))
            if resp.status_code != 200:
                errors.append(describe(resp))
                return
            got = [j["id"] for j in resp.json()]
            if not got:
                return
            taken[sid].extend(got)

    threads = [threading.Thread(target=worker, args=(s.id,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not errors, errors
    everything = [j for lst in taken.values() for j in lst]
    assert len(everything) == len(set(everything)), "a job was handed to two sessions"
    assert sorted(everything) == sorted(ids(made))


def test_state_changes_release_the_lock_except_running(wf: Workflow) -> None:
    a, b = runnable(wf, 2)
    s1 = new_session(wf)
    assert sorted_ids(acquire(wf, s1)) == sorted([a.id, b.id])
    wf.set_state(a, "RUNNING", state_data={"num_nodes": 1.0})
    wf.set_state(b, "RESTART_READY")  # any change other than RUNNING releases the lock
    s2 = new_session(wf)
    assert ids(acquire(wf, s2)) == [b.id]
    # a is still locked by s1: a RUNNING -> RESTART_READY change releases it
    wf.set_state(a, "RESTART_READY")
    assert ids(acquire(wf, s2)) == [a.id]


def test_locked_jobs_are_skipped_by_deletes(wf: Workflow) -> None:
    a, b = runnable(wf, 2)
    sess = new_session(wf)
    (locked,) = acquire(wf, sess, max_num_jobs=1)
    free_id = b.id if locked.id == a.id else a.id
    resp = wf.raw.delete(f"jobs/{locked.id}")
    assert_status(resp, 204)  # silently skipped (semantics §2.6)
    assert wf.Job.objects.filter(id=locked.id).count() == 1
    assert_status(wf.raw.delete("jobs/", params={"id": [a.id, b.id]}), 204)
    assert sorted_ids(wf.Job.objects.filter(id=[a.id, b.id])) == [locked.id]
    assert wf.Job.objects.filter(id=free_id).count() == 0
    # once the session is gone the job can be deleted
    wf.Session
    sess.delete()
    assert_status(wf.raw.delete(f"jobs/{locked.id}"), 204)
    assert wf.Job.objects.filter(id=locked.id).count() == 0


def test_delete_session_times_out_running_jobs_and_unlocks_the_rest(wf: Workflow) -> None:
    running, idle = runnable(wf, 2)
    sess = new_session(wf)
    assert len(acquire(wf, sess)) == 2
    wf.set_state(running, "RUNNING", state_data={"num_nodes": 1.0})
    idle_last_update = aware(wf.fetch(idle.id).last_update)
    sid = sess.id
    before = utcnow()
    wf.Session
    sess.delete()
    after = utcnow()

    assert wf.state_of(running.id) == "RUN_TIMEOUT"
    ev = wf.events(running.id)[-1]
    assert (ev.from_state, ev.to_state, ev.data) == ("RUNNING", "RUN_TIMEOUT", {"message": SESSION_EXPIRED})
    assert_naive_recent(ev.timestamp, before, after, "session-timeout event")
    # the other job keeps its state and last_update, and is unlocked
    assert wf.state_of(idle.id) == "PREPROCESSED"
    assert aware(wf.fetch(idle.id).last_update) == idle_last_update
    assert ids(acquire(wf, new_session(wf))) == [idle.id]
    assert wf.Session.objects.filter(id=[sid]).count() == 0
    # a deleted session is gone: 404 on tick / acquire / delete
    for method in ("PUT", "DELETE"):
        resp = wf.raw.request(method, f"sessions/{sid}", json={})
        assert_status(resp, 404)
        assert resp.json() == NOT_FOUND
    resp = wf.raw.post(f"sessions/{sid}", json=acquire_body())
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND


def test_tick(wf: Workflow) -> None:
    sess = new_session(wf)
    first = sess.heartbeat
    time.sleep(0.05)
    wf.Session
    assert sess.tick() is None
    hb = wf.Session.objects.get(id=sess.id).heartbeat
    assert hb > first
    resp = wf.raw.put(f"sessions/{sess.id}", json={})
    assert_status(resp, 200)
    assert resp.json() is None
    resp = wf.raw.put(f"sessions/{2**31 - 3}", json={})
    assert_status(resp, 404)


def test_acquire_with_batch_job_sets_batch_job_id(wf: Workflow) -> None:
    bj = new_batch_job(wf)
    bj_old = new_batch_job(wf)
    a, b = runnable(wf, 2)
    wf.Job.objects.filter(id=[b.id]).update(batch_job_id=bj_old.id)
    s = new_session(wf, batch_job_id=bj.id)
    got = acquire(wf, s, max_num_jobs=1, filter_tags={})
    assert ids(got) in ([a.id], [b.id])
    first = got[0].id
    assert wf.raw_job(first)["batch_job_id"] == bj.id
    # a session without a batch job never overwrites a job's batch_job_id
    other = b.id if first == a.id else a.id
    before = wf.raw_job(other)["batch_job_id"]
    assert ids(acquire(wf, new_session(wf))) == [other]
    assert wf.raw_job(other)["batch_job_id"] == before
    # jobs keep batch_job_id after the run, and the filter finds them
    wf.set_state(first, "RUNNING")
    wf.set_state(first, "RUN_DONE")
    assert wf.raw_job(first)["batch_job_id"] == bj.id
    assert first in ids(wf.Job.objects.filter(batch_job_id=bj.id))


def test_acquire_validation_422(wf: Workflow) -> None:
    sid = new_session(wf).id
    for bad in (0, 2049):
        resp = wf.raw.post(f"sessions/{sid}", json=acquire_body(max_num_jobs=bad))
        assert_422(resp, ["body", "max_num_jobs"], msg="max_num_jobs must be between 1 and 2048", type_="value_error")
    body = acquire_body()
    del body["filter_tags"]
    assert_422(wf.raw.post(f"sessions/{sid}", json=body), ["body", "filter_tags"], type_="value_error.missing")
    assert_422(wf.raw.post(f"sessions/{sid}", json=acquire_body(states=["BOGUS"])), ["body", "states", 0])
    # max 2048 is fine
    assert_status(wf.raw.post(f"sessions/{sid}", json=acquire_body(max_num_jobs=2048)), 200)


def test_sessions_tenancy(wf: Workflow, wf2: Workflow) -> None:
    mine = new_session(wf)
    runnable(wf, 1)
    assert wf2.Session.objects.filter(id=[mine.id]).count() == 0
    assert mine.id not in [s["id"] for s in wf2.raw.get("sessions/").json()["results"]]
    for method, body in (("POST", acquire_body()), ("PUT", {}), ("DELETE", None)):
        resp = wf2.raw.request(method, f"sessions/{mine.id}", json=body)
        assert_status(resp, 404)
        assert resp.json() == NOT_FOUND
    # another user's session never sees my jobs
    theirs = new_session(wf2)
    assert acquire(wf2, theirs) == []


def test_site_delete_cascades_to_sessions(wf: Workflow) -> None:
    site = wf.client.Site.objects.create(name=unique("sdel"), path="/sites/sdel")
    sess = wf.Session.objects.create(site_id=site.id)
    wf.client.Site.objects.get(id=site.id).delete()
    assert wf.Session.objects.filter(id=[sess.id]).count() == 0
    assert_status(wf.raw.put(f"sessions/{sess.id}", json={}), 404)


# ---------------------------------------------------------------------------------------
# Expiry (semantics §4.5) on a dedicated server with short periods. balsam-rs sweeps in the
# background (a compatible improvement); the periods are its [sessions] settings.
# ---------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def short_expiry_root(tmp_path_factory: pytest.TempPathFactory):
    import os
    import subprocess

    import conftest

    if os.environ.get("CONFORMANCE_API_ROOT"):
        pytest.skip("needs to start its own server (CONFORMANCE_API_ROOT is set)")
    data_dir = tmp_path_factory.mktemp("short-expiry")
    port = conftest._free_port()
    root = f"http://127.0.0.1:{port}/api/v1"
    env = dict(os.environ, BALSAM_SESSIONS__EXPIRE_AFTER_SECS="2", BALSAM_SESSIONS__SWEEP_INTERVAL_SECS="1")
    log = data_dir / "server.log"
    with open(log, "wb") as fp:
        proc = subprocess.Popen(
            [str(conftest._server_binary()), "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", str(data_dir)],
            stdout=fp, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=data_dir,
        )
    try:
        conftest._wait_ready(root, proc, log)
        yield root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def swf(short_expiry_root: str) -> Workflow:
    from balsam.client import BasicAuthRequestsClient

    from conftest import register_raw
    from helpers import NO_RETRY, RawAPI
    from jobkit import build_workflow

    user = register_raw(short_expiry_root, unique("exp"), "pw-" + unique("pw"))
    client = BasicAuthRequestsClient(short_expiry_root, username=user.username, password=user.password, retry_count=NO_RETRY)
    client.refresh_auth()
    return build_workflow(client, RawAPI(short_expiry_root, client.token), prefix="exp")


def wait_for(pred, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.25)
    return pred()


@pytest.mark.extension
def test_session_without_heartbeat_expires(swf: Workflow) -> None:
    running, idle = runnable(swf, 2)
    sess = new_session(swf)
    assert len(acquire(swf, sess)) == 2
    swf.set_state(running, "RUNNING")
    sid = sess.id
    # listing does not tick: the heartbeat gets older than expire_after_secs
    assert wait_for(lambda: swf.Session.objects.filter(id=[sid]).count() == 0), "session never expired"
    resp = swf.raw.put(f"sessions/{sid}", json={})
    assert_status(resp, 404)
    assert resp.json() == NOT_FOUND
    assert swf.state_of(running.id) == "RUN_TIMEOUT"
    ev = swf.events(running.id)[-1]
    assert (ev.from_state, ev.to_state, ev.data) == ("RUNNING", "RUN_TIMEOUT", {"message": SESSION_EXPIRED})
    assert swf.state_of(idle.id) == "PREPROCESSED"
    assert ids(acquire(swf, new_session(swf))) == [idle.id], "the expired session's other jobs are unlocked"


@pytest.mark.extension
def test_ticking_session_survives(swf: Workflow) -> None:
    (job,) = runnable(swf, 1)
    sess = new_session(swf)
    assert len(acquire(swf, sess)) == 1
    swf.set_state(job, "RUNNING")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        assert_status(swf.raw.put(f"sessions/{sess.id}", json={}), 200)
        time.sleep(0.5)
    assert swf.state_of(job.id) == "RUNNING"
    assert swf.Session.objects.filter(id=[sess.id]).count() == 1


@pytest.mark.extension
def test_session_of_finished_batch_job_is_swept(swf: Workflow) -> None:
    bj = new_batch_job(swf)
    (job,) = runnable(swf, 1)
    sess = new_session(swf, batch_job_id=bj.id)
    assert len(acquire(swf, sess)) == 1
    swf.set_state(job, "RUNNING")
    assert_status(swf.raw.put(f"batch-jobs/{bj.id}", json={"state": "finished"}), 200)

    def gone() -> bool:
        swf.raw.put(f"sessions/{sess.id}", json={})  # keeps the heartbeat fresh: only the BatchJob rule applies
        return swf.Session.objects.filter(id=[sess.id]).count() == 0

    assert wait_for(gone), "a session whose BatchJob finished was never swept"
    assert swf.state_of(job.id) == "RUN_TIMEOUT"
