"""Jobs, part 1: creation (balsam-api.md §3.3, §4.3; balsam-semantics.md §2) through the
official SDK: Job(...).save(), Job.objects.create, bulk_create, AppClass.submit, with parents
and transfer slots, and the error paths (one bad item rejects the whole batch).

Part 2 (test_jobs_queries.py) covers filters, ordering, count and slicing; part 3
(test_jobs_updates.py) updates, state rewrites, LogEvents, deletes and the state-counts
extension.
"""

from __future__ import annotations

from jobs_common import *  # noqa: F401,F403  (the job modules' shared kit)



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
