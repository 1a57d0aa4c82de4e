"""Jobs, part 3: updates through job.save(), query update() and bulk_update() with the
server's state rewrites, LogEvents and parent->child propagation; deletes; the
state-counts extension (balsam-semantics.md §2, §3).

Note on the SDK: job.save() sends `PUT /jobs/{id}`, which answers an integer, so the
local object keeps the *requested* state. The tests re-read jobs to see what the
server stored (e.g. the READY -> STAGED_IN rewrite).
"""

from __future__ import annotations

from jobs_common import *  # noqa: F401,F403  (the job modules' shared kit)



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
