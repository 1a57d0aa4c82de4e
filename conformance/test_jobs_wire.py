"""Wire-level checks for /jobs, /transfers and acquire that the SDK cannot express:
bulk limits, explicit nulls in update bodies, coercion, read shapes, TransferItem
endpoints and their errors (balsam-api.md §1.2, §1.6, §3.3, §3.6, §4.3, §4.6)."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from helpers import assert_422, assert_naive_recent, assert_status, describe, unique, utcnow
from jobkit import Workflow, ids

NOT_FOUND = {"error": "Not found"}
TOO_MANY_CREATE = {"detail": "Cannot bulk-create more than 5000 in a single API call."}
TOO_MANY_UPDATE = {"detail": "Cannot bulk-update more than 5000 in a single API call."}
NO_TRANSFERS = {"detail": "Some TransferItems not found"}


def post_jobs(wf: Workflow, items: List[Dict[str, Any]]):
    return wf.raw.post("jobs/", json=items)


def one(wf: Workflow, **kw: Any) -> Dict[str, Any]:
    body = {"workdir": unique("w"), "app_id": wf.plain_id, **kw}
    resp = post_jobs(wf, [body])
    assert_status(resp, 201)
    return resp.json()[0]


# --- limits -------------------------------------------------------------------------------
def test_bulk_limits(wf: Workflow) -> None:
    prefix = unique("lim")
    items = [{"workdir": f"{prefix}/{i}", "app_id": wf.plain_id} for i in range(5001)]
    resp = post_jobs(wf, items)
    assert_status(resp, 400)
    assert resp.json() == TOO_MANY_CREATE
    assert wf.Job.objects.filter(workdir__contains=prefix).count() == 0

    resp = post_jobs(wf, items[:5000])
    assert_status(resp, 201)
    made = [j["id"] for j in resp.json()]
    assert len(made) == 5000
    extra = one(wf, workdir=f"{prefix}/extra")

    resp = wf.raw.request("PATCH", "jobs/", json=[{"id": i, "data": {"a": 1}} for i in made + [extra["id"]]])
    assert_status(resp, 400)
    assert resp.json() == TOO_MANY_UPDATE
    # PUT /jobs/ matching more than 5000 jobs
    resp = wf.raw.put("jobs/", params={"workdir__contains": prefix}, json={"data": {"b": 2}})
    assert_status(resp, 400)
    assert resp.json() == TOO_MANY_UPDATE
    assert wf.raw_job(extra["id"])["data"] == {}
    # exactly 5000 is fine
    resp = wf.raw.request("PATCH", "jobs/", json=[{"id": i, "data": {"a": 1}} for i in made])
    assert_status(resp, 200)
    assert resp.json() == 5000
    assert_status(wf.raw.delete("jobs/", params={"workdir__contains": prefix}), 204)
    assert wf.Job.objects.filter(workdir__contains=prefix).count() == 0


def test_serialized_parameters_size_limit(wf: Workflow) -> None:
    resp = post_jobs(wf, [{"workdir": "big", "app_id": wf.plain_id, "serialized_parameters": "x" * 512001}])
    assert_422(resp, ["body", 0, "serialized_parameters"], type_="assertion_error")
    ok = one(wf, serialized_parameters="x" * 512000)
    assert len(wf.raw_job(ok["id"])["serialized_parameters"]) == 512000


# --- explicit nulls in update bodies (balsam-api.md §3.3) -----------------------------------
@pytest.mark.upstream_differs("upstream lets these nulls through and then answers 500 or stores NULL")
@pytest.mark.parametrize(
    "field", ["workdir", "pending_file_cleanup", "serialized_parameters", "serialized_return_value", "serialized_exception"]
)
def test_update_null_rejected(wf: Workflow, field: str) -> None:
    job = one(wf)
    resp = wf.raw.put(f"jobs/{job['id']}", json={field: None})
    assert_422(resp, ["body", field])
    resp = wf.raw.request("PATCH", "jobs/", json=[{"id": job["id"], field: None}])
    assert resp.status_code == 422, describe(resp)
    got = wf.raw_job(job["id"])
    assert got[field] == job[field]
    assert_status(wf.raw.get("jobs/", params={"id": job["id"]}), 200)


@pytest.mark.parametrize("field", ["tags", "data", "launch_params", "state_data", "num_nodes", "gpus_per_rank"])
def test_update_null_not_allowed(wf: Workflow, field: str) -> None:
    job = one(wf)
    assert_422(wf.raw.put(f"jobs/{job['id']}", json={field: None}), ["body", field])


def test_update_nullable_fields(wf: Workflow) -> None:
    bj = wf.BatchJob.objects.create(site_id=wf.site.id, project="p", queue="q", num_nodes=1, wall_time_min=1, job_mode="mpi")
    job = one(wf, return_code=3)
    assert job["return_code"] == 3
    assert_status(wf.raw.put(f"jobs/{job['id']}", json={"batch_job_id": bj.id}), 200)
    assert wf.raw_job(job["id"])["batch_job_id"] == bj.id
    assert_status(wf.raw.put(f"jobs/{job['id']}", json={"return_code": None, "batch_job_id": None}), 200)
    got = wf.raw_job(job["id"])
    assert (got["return_code"], got["batch_job_id"]) == (None, None)
    # state null: no state change, no event
    assert_status(wf.raw.put(f"jobs/{job['id']}", json={"state": None, "tags": {"t": "1"}}), 200)
    got = wf.raw_job(job["id"])
    assert (got["state"], got["tags"]) == ("STAGED_IN", {"t": "1"})
    assert len(wf.events(job["id"])) == 1


@pytest.mark.upstream_differs("upstream stores a NULL event timestamp, and /events/ then answers 500")
def test_state_timestamp_null_means_now(wf: Workflow) -> None:
    job = one(wf)
    before = utcnow()
    resp = wf.raw.put(f"jobs/{job['id']}", json={"state": "RUNNING", "state_timestamp": None})
    assert_status(resp, 200)
    after = utcnow()
    resp = wf.raw.get("events/", params={"job_id": job["id"]})
    assert_status(resp, 200)
    ev = wf.events(job["id"])[-1]
    assert ev.to_state == "RUNNING"
    assert_naive_recent(ev.timestamp, before, after, "event timestamp for state_timestamp=null")


# --- coercion and normalisation --------------------------------------------------------------
def test_create_coercion(wf: Workflow) -> None:
    job = one(
        wf,
        num_nodes=2.7,
        ranks_per_node="4",
        gpus_per_rank=1,
        wall_time_min=12.0,
        launch_params={"cpu_bind": 1, "x": True},
        parent_ids=[],
    )
    got = wf.raw_job(job["id"])
    assert (got["num_nodes"], got["ranks_per_node"], got["gpus_per_rank"], got["wall_time_min"]) == (2, 4, 1.0, 12)
    assert got["launch_params"] == {"cpu_bind": "1", "x": "True"}
    assert isinstance(got["gpus_per_rank"], float)


def test_parent_ids_are_a_set(wf: Workflow) -> None:
    p = one(wf)
    kid = one(wf, parent_ids=[p["id"], p["id"]])
    assert wf.raw_job(kid["id"])["parent_ids"] == [p["id"]]


def test_transfer_shortcut_string_is_not_accepted_by_the_server(wf: Workflow) -> None:
    """The SDK expands "alias:/path" client-side; the server takes only the object form."""
    resp = post_jobs(wf, [{"workdir": "tx", "app_id": wf.echo_id, "transfers": {"inp": "laptop:/in.dat"}}])
    assert resp.status_code == 422, describe(resp)
    resp = post_jobs(wf, [{"workdir": "tx", "app_id": wf.echo_id, "transfers": {"inp": {"location_alias": "laptop", "path": "rel/in.dat"}}}])
    assert resp.status_code == 422, describe(resp)
    assert wf.Job.objects.filter(workdir__contains="tx").count() == 0


def test_read_shapes_agree(wf: Workflow) -> None:
    created = one(wf, tags={"a": "b"}, data={"nested": {"x": [1, None, "s"]}})
    listed = wf.raw_job(created["id"])
    item = wf.raw.get(f"jobs/{created['id']}")
    assert_status(item, 200)
    assert item.json() == listed
    for key, value in created.items():
        if key in ("last_update", "session_id"):
            continue
        assert listed[key] == value, key
    assert listed["data"] == {"nested": {"x": [1, None, "s"]}}
    # the acquire response has the read shape too
    wf.Job.objects.filter(id=[created["id"]]).update(state="PREPROCESSED")
    sess = wf.Session.objects.create(site_id=wf.site.id)
    resp = wf.raw.post(
        f"sessions/{sess.id}",
        json={"max_num_jobs": 10, "filter_tags": {}, "max_wall_time_min": None, "max_nodes_per_job": None,
              "max_aggregate_nodes": None, "serial_only": False, "sort_by": None, "states": ["PREPROCESSED"], "app_ids": []},
    )
    assert_status(resp, 200)
    (acq,) = resp.json()
    required = {"id", "app_id", "parent_ids", "last_update", "state", "pending_file_cleanup", "serialized_parameters",
                "serialized_return_value", "serialized_exception", "workdir", "tags", "num_nodes", "batch_job_id"}
    assert required <= set(acq), required - set(acq)
    assert (acq["id"], acq["workdir"], acq["tags"]) == (created["id"], created["workdir"], {"a": "b"})


def test_collection_without_slash_and_405(wf: Workflow) -> None:
    one(wf)
    for path in ("jobs", "batch-jobs", "events", "transfers", "sessions"):
        resp = wf.raw.get(path, allow_redirects=False)
        assert resp.status_code in (200, 307), describe(resp)
        resp = wf.raw.get(path)
        assert_status(resp, 200)
    for method, path in [("PATCH", "jobs/1"), ("POST", "jobs/1"), ("POST", "transfers/"), ("DELETE", "transfers/1"), ("PATCH", "sessions/")]:
        resp = wf.raw.request(method, path, json={})
        assert_status(resp, 405)


def test_tags_filter_items_without_colon_are_ignored(wf: Workflow) -> None:
    tag = unique("nc")
    j = one(wf, tags={"k": tag})
    resp = wf.raw.get("jobs/", params={"tags": ["nocolon", f"k:{tag}"]})
    assert [r["id"] for r in resp.json()["results"]] == [j["id"]]
    # repeated keys: the last one wins
    resp = wf.raw.get("jobs/", params={"tags": [f"k:other", f"k:{tag}"]})
    assert [r["id"] for r in resp.json()["results"]] == [j["id"]]


# --- TransferItems ---------------------------------------------------------------------------
def make_xfer_job(wf: Workflow) -> Dict[str, Any]:
    return one(
        wf,
        app_id=wf.echo_id,
        tags={"xt": unique("x")},
        transfers={
            "inp": {"location_alias": "laptop", "path": "/data/in.dat"},
            "out": {"location_alias": "dtn", "path": "/data/out"},
        },
    )


def test_transfer_items_read_update_and_errors(wf: Workflow, wf2: Workflow) -> None:
    job = make_xfer_job(wf)
    resp = wf.raw.get("transfers/", params={"job_id": job["id"]})
    assert_status(resp, 200)
    items = sorted(resp.json()["results"], key=lambda t: t["direction"])
    assert resp.json()["count"] == 2
    inp, out = items
    assert set(inp) == {"id", "job_id", "direction", "local_path", "remote_path", "location_alias", "recursive", "state", "task_id", "transfer_info"}
    one_item = wf.raw.get(f"transfers/{inp['id']}")
    assert one_item.json() == inp

    resp = wf.raw.put(f"transfers/{inp['id']}", json={"state": "active", "task_id": "t-1", "transfer_info": {"a": 1}})
    assert_status(resp, 200)
    body = resp.json()
    assert (body["state"], body["task_id"], body["transfer_info"]) == ("active", "t-1", {"a": 1})
    assert body["local_path"] == "in.dat" and body["remote_path"] == "/data/in.dat"
    # only the keys present are written; transfer_info is replaced, not merged
    resp = wf.raw.put(f"transfers/{inp['id']}", json={"transfer_info": {"b": 2}, "direction": "out", "job_id": 1})
    body = resp.json()
    assert (body["state"], body["task_id"], body["transfer_info"], body["direction"]) == ("active", "t-1", {"b": 2}, "in")

    # filters
    by = lambda **p: sorted(t["id"] for t in wf.raw.get("transfers/", params=p).json()["results"])  # noqa: E731
    assert by(job_id=job["id"], state="active") == [inp["id"]]
    assert by(job_id=job["id"], state=["active", "awaiting_job"]) == sorted([inp["id"], out["id"]])
    assert by(job_id=job["id"], direction="out") == [out["id"]]
    assert by(site_id=wf.site.id, tags=f"xt:{job['tags']['xt']}") == sorted([inp["id"], out["id"]])
    assert by(job_id=job["id"], job_state="READY") == sorted([inp["id"], out["id"]])
    assert by(id=out["id"]) == [out["id"]]
    assert_422(wf.raw.get("transfers/", params={"state": "bogus"}), ["query", "state", 0])
    assert_422(wf.raw.get("transfers/", params={"direction": "sideways"}), ["query", "direction"])
    assert_422(wf.raw.put(f"transfers/{inp['id']}", json={"state": "bogus"}), ["body", "state"])

    # PATCH: any unknown or foreign id -> 400, nothing applied
    theirs = make_xfer_job(wf2)
    their_item = wf2.raw.get("transfers/", params={"job_id": theirs["id"]}).json()["results"][0]
    for bad in (2**31 - 41, their_item["id"]):
        resp = wf.raw.request("PATCH", "transfers/", json=[{"id": out["id"], "state": "done"}, {"id": bad, "state": "done"}])
        assert_status(resp, 400)
        assert resp.json() == NO_TRANSFERS
    assert wf.raw.get(f"transfers/{out['id']}").json()["state"] == "awaiting_job"
    assert wf.raw.get(f"transfers/{their_item['id']}").json() == NOT_FOUND
    assert_status(wf.raw.put(f"transfers/{their_item['id']}", json={"state": "done"}), 404)
    assert wf2.raw.get(f"transfers/{their_item['id']}").json()["state"] == their_item["state"]
    # PATCH answers the updated items
    resp = wf.raw.request("PATCH", "transfers/", json=[{"id": inp["id"], "state": "done"}, {"id": out["id"], "task_id": "t-2"}])
    assert_status(resp, 200)
    assert {t["id"]: (t["state"], t["task_id"]) for t in resp.json()} == {inp["id"]: ("done", "t-1"), out["id"]: ("awaiting_job", "t-2")}
    # the stage-in is done: the job moved READY -> STAGED_IN
    assert wf.raw_job(job["id"])["state"] == "STAGED_IN"


def test_transfer_error_state_does_not_move_the_job(wf: Workflow) -> None:
    job = make_xfer_job(wf)
    (inp,) = [t for t in wf.raw.get("transfers/", params={"job_id": job["id"], "direction": "in"}).json()["results"]]
    resp = wf.raw.request("PATCH", "transfers/", json=[{"id": inp["id"], "state": "error", "transfer_info": {"error": "nope"}}])
    assert_status(resp, 200)
    assert wf.raw_job(job["id"])["state"] == "READY"
    assert len(wf.events(job["id"])) == 1


# --- last_update maintenance (semantics §2.8) and whole-collection PUT/DELETE -------------------
def test_last_update_maintenance(wf: Workflow) -> None:
    from datetime import datetime

    def lu(job_id: int) -> datetime:
        return datetime.fromisoformat(wf.raw_job(job_id)["last_update"])

    job = one(wf)
    created = lu(job["id"])
    creation_event = wf.events(job["id"])[0]
    assert creation_event.timestamp == created.replace(tzinfo=None), "creation event and last_update share `now`"

    # acquire sets last_update
    wf.Job.objects.filter(id=[job["id"]]).update(state="PREPROCESSED")
    before_acquire = lu(job["id"])
    sess = wf.Session.objects.create(site_id=wf.site.id)
    wf.Session
    assert ids(sess.acquire_jobs(max_num_jobs=5)) == [job["id"]]
    assert lu(job["id"]) > before_acquire, "acquire sets last_update = now"

    # a transfer-driven state change sets it; a transfer update that changes nothing does not
    x = one(wf, app_id=wf.echo_id, transfers={"inp": {"location_alias": "laptop", "path": "/a"}, "out": {"location_alias": "dtn", "path": "/b"}})
    items = {t["direction"]: t for t in wf.raw.get("transfers/", params={"job_id": x["id"]}).json()["results"]}
    t0 = lu(x["id"])
    assert_status(wf.raw.put(f"transfers/{items['out']['id']}", json={"task_id": "zzz"}), 200)
    assert lu(x["id"]) == t0
    assert_status(wf.raw.put(f"transfers/{items['in']['id']}", json={"state": "done"}), 200)
    assert wf.raw_job(x["id"])["state"] == "STAGED_IN"
    assert lu(x["id"]) > t0
    ev = wf.events(x["id"])[-1]
    assert (ev.from_state, ev.to_state) == ("READY", "STAGED_IN")
    assert abs(ev.timestamp - lu(x["id"]).replace(tzinfo=None)).total_seconds() < 5


def test_put_and_delete_without_filters_act_on_all_own_jobs(wf: Workflow, wf2: Workflow) -> None:
    mine = [one(wf)["id"] for _ in range(3)]
    theirs = one(wf2)["id"]
    resp = wf.raw.put("jobs/", json={"data": {"all": True}})
    assert_status(resp, 200)
    assert resp.json() == wf.Job.objects.count() == 3
    assert all(wf.raw_job(i)["data"] == {"all": True} for i in mine)
    assert wf2.raw_job(theirs)["data"] == {}
    assert_status(wf.raw.delete("jobs/"), 204)
    assert wf.Job.objects.count() == 0
    assert wf2.Job.objects.filter(id=theirs).count() == 1


def test_tag_values_compare_as_exact_strings(wf: Workflow) -> None:
    j = one(wf, tags={"n": 1, "f": 1.0})
    get = lambda t: [r["id"] for r in wf.raw.get("jobs/", params={"tags": t}).json()["results"]]  # noqa: E731
    assert get("n:1") == [j["id"]]
    assert get("f:1.0") == [j["id"]]
    assert get("n:1.0") == []
    assert get("f:1") == []
    assert get("N:1") == []


# --- more edges ------------------------------------------------------------------------------
def test_datetime_query_formats_on_jobs_events_batch_jobs(wf: Workflow) -> None:
    from datetime import datetime, timezone

    j = one(wf)
    lu = datetime.fromisoformat(wf.raw_job(j["id"])["last_update"])
    earlier = lu.replace(microsecond=0)  # second precision, strictly <= lu
    forms = [
        earlier.strftime("%Y-%m-%dT%H:%M:%S"),
        earlier.strftime("%Y-%m-%d %H:%M:%S"),
        earlier.strftime("%Y-%m-%dT%H:%M:%SZ"),
        earlier.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
        earlier.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M"),
        str(int(earlier.timestamp())),
    ]
    for form in forms:
        resp = wf.raw.get("jobs/", params={"last_update_after": form, "id": j["id"]})
        assert_status(resp, 200)
        assert resp.json()["count"] == 1, f"last_update_after={form}: {describe(resp)}"
    for path, param in (("jobs/", "last_update_before"), ("events/", "timestamp_after"), ("batch-jobs/", "start_time_before")):
        assert_422(wf.raw.get(path, params={param: "yesterday"}), ["query", param], type_="value_error.datetime")


def test_patch_body_validation(wf: Workflow) -> None:
    j = one(wf)
    assert_422(wf.raw.request("PATCH", "jobs/", json={"id": j["id"], "state": "RUNNING"}), ["body"], type_="type_error.list")
    resp = wf.raw.request("PATCH", "jobs/", json=[{"state": "RUNNING"}])
    assert_422(resp, ["body", 0, "id"], type_="value_error.missing")
    resp = wf.raw.request("PATCH", "jobs/", json=[{"id": j["id"], "state": "RUNNING"}, {"id": j["id"] + 10**6, "state": "BOGUS"}])
    assert_422(resp, ["body", 1, "state"])
    assert wf.raw_job(j["id"])["state"] == "STAGED_IN"
    resp = wf.raw.request("PATCH", "jobs/", data="[{bad", headers={"Content-Type": "application/json"})
    assert resp.status_code == 422, describe(resp)


def test_app_and_site_delete_take_locked_jobs_too(wf: Workflow) -> None:
    from jobkit import plain_app

    site = wf.client.Site.objects.create(name=unique("lockdel"), path="/sites/lockdel")
    wf.Job
    App = plain_app(site.id)
    App.sync()
    a = one(wf, app_id=App.__app_id__)
    b = one(wf, app_id=App.__app_id__)
    wf.Job.objects.filter(id=[a["id"], b["id"]]).update(state="PREPROCESSED")
    sess = wf.Session.objects.create(site_id=site.id)
    wf.Session
    assert len(sess.acquire_jobs(max_num_jobs=1)) == 1
    bj = wf.BatchJob.objects.create(site_id=site.id, project="p", queue="q", num_nodes=1, wall_time_min=1, job_mode="mpi")
    # App deletion does not skip locked jobs (semantics §1.1)
    assert_status(wf.raw.delete(f"apps/{App.__app_id__}"), 204)
    assert wf.Job.objects.filter(id=[a["id"], b["id"]]).count() == 0
    assert wf.EventLog.objects.filter(job_id=[a["id"], b["id"]]).count() == 0
    # Site deletion takes its BatchJobs and Sessions
    assert_status(wf.raw.delete(f"sites/{site.id}"), 204)
    assert wf.BatchJob.objects.filter(id=[bj.id]).count() == 0
    assert wf.Session.objects.filter(id=[sess.id]).count() == 0


def test_acquire_edge_values(wf: Workflow) -> None:
    made = [one(wf, wall_time_min=5, num_nodes=n)["id"] for n in (1, 3)]
    wf.Job.objects.filter(id=made).update(state="PREPROCESSED")
    bj = wf.BatchJob.objects.create(site_id=wf.site.id, project="p", queue="q", num_nodes=1, wall_time_min=1, job_mode="mpi")

    def probe(**kw: Any) -> List[Dict[str, Any]]:
        sid = wf.raw.post("sessions/", json={"site_id": wf.site.id, "batch_job_id": bj.id}).json()["id"]
        body = {"max_num_jobs": 10, "filter_tags": {}, "states": ["PREPROCESSED"], **kw}
        resp = wf.raw.post(f"sessions/{sid}", json=body)
        assert_status(resp, 200)
        got = resp.json()
        assert_status(wf.raw.delete(f"sessions/{sid}"), 204)
        return got

    # only max_num_jobs and filter_tags are required; 0 disables max_nodes_per_job / max_wall_time_min
    got = probe(max_nodes_per_job=0, max_wall_time_min=0)
    assert sorted(j["id"] for j in got) == sorted(made)
    # the acquired objects carry the session's batch job
    assert {j["batch_job_id"] for j in got} == {bj.id}
    assert probe(max_wall_time_min=-1) == [], "a negative remaining time matches nothing"
    assert [j["id"] for j in probe(max_nodes_per_job=2)] == [made[0]]


# --- concurrency (bounded, loopback only) ---------------------------------------------------------
def test_concurrent_parent_completions_release_the_child_once(wf: Workflow) -> None:
    """Two requests finishing the two parents of one child at the same moment: whichever
    commits last must see both parents finished and release the child exactly once."""
    import threading

    pairs = []
    for _ in range(20):
        p1, p2 = one(wf)["id"], one(wf)["id"]
        kid = one(wf, parent_ids=[p1, p2])["id"]
        pairs.append((p1, p2, kid))
    errors: List[str] = []

    def finish(job_id: int, barrier: threading.Barrier) -> None:
        raw = wf.raw.with_token(wf.raw.token)
        barrier.wait(timeout=30)
        resp = raw.put(f"jobs/{job_id}", json={"state": "JOB_FINISHED"})
        if resp.status_code != 200:
            errors.append(describe(resp))

    for p1, p2, _ in pairs:
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=finish, args=(p, barrier)) for p in (p1, p2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert not errors, errors
    stuck = [kid for _, _, kid in pairs if wf.raw_job(kid)["state"] != "STAGED_IN"]
    assert not stuck, f"children left in AWAITING_PARENTS after both parents finished: {stuck}"
    for _, _, kid in pairs:
        assert wf.transitions(kid) == [("CREATED", "AWAITING_PARENTS"), ("AWAITING_PARENTS", "STAGED_IN")]


def test_concurrent_patches_and_acquires_stay_consistent(wf: Workflow) -> None:
    """Status updaters PATCHing while another session acquires: every state change has
    exactly one LogEvent and no job ends up in two sessions."""
    import threading

    made = [one(wf)["id"] for _ in range(40)]
    wf.Job.objects.filter(id=made).update(state="PREPROCESSED")
    sids = [wf.raw.post("sessions/", json={"site_id": wf.site.id}).json()["id"] for _ in range(3)]
    taken: Dict[int, List[int]] = {s: [] for s in sids}
    errors: List[str] = []
    body = {"max_num_jobs": 4, "filter_tags": {}, "states": ["PREPROCESSED"]}

    def launcher(sid: int) -> None:
        raw = wf.raw.with_token(wf.raw.token)
        for _ in range(40):
            resp = raw.post(f"sessions/{sid}", json=body)
            if resp.status_code != 200:
                errors.append(describe(resp))
                return
            got = [j["id"] for j in resp.json()]
            if not got:
                return
            taken[sid].extend(got)
            for state in ("RUNNING", "RUN_DONE"):
                resp = raw.request("PATCH", "jobs/", json=[{"id": i, "state": state, "state_data": {"by": sid}} for i in got])
                if resp.status_code != 200:
                    errors.append(describe(resp))
                    return

    threads = [threading.Thread(target=launcher, args=(s,)) for s in sids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=100)
    assert not errors, errors
    everything = [j for lst in taken.values() for j in lst]
    assert sorted(everything) == sorted(made)
    assert len(everything) == len(set(everything))
    rows = {r["id"]: r for r in wf.raw_jobs(id=made)}
    assert {r["state"] for r in rows.values()} == {"RUN_DONE"}
    for jid in made:
        assert [t for t in wf.transitions(jid)][1:] == [
            ("STAGED_IN", "PREPROCESSED"),
            ("PREPROCESSED", "RUNNING"),
            ("RUNNING", "RUN_DONE"),
        ]
