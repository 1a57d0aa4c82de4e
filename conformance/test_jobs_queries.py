"""Jobs, part 2: every JobQuery filter the SDK exposes, ordering, count, slicing and get
(balsam-api.md §3.3) against one module-wide population of jobs."""

from __future__ import annotations

from jobs_common import *  # noqa: F401,F403  (the job modules' shared kit)



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
