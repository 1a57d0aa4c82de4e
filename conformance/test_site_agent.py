"""A REAL Balsam Site agent against the server (client-usage.md (b)).

Everything is the unmodified 0.7.0a24 client:

1. `balsam login` (pseudo-terminal) writes ~/.balsam/client.yml in a private HOME;
2. `balsam site init` (pseudo-terminal; the system menu is answered with the
   "MacOS/Linux (Local)" entry: LocalProcessScheduler, DefaultNode) creates the Site;
3. settings.yml is tuned for speed: scheduler sync_period 1 s, launcher idle_ttl
   20 s, the MPI app launcher replaced by LocalAppRun (no mpiexec here), file cleaner
   every 2 s, transfers / queue maintainer / elastic queue disabled (no Globus); where
   /bin/sh forks, job-template.sh `exec`s the launcher so that the launcher finds its
   BatchJob by scheduler id (see tune_job_template);
4. a user script run as `__main__` (like a real one) registers a shell App and two
   Python Apps with ApplicationDefinition.sync() and submits jobs, including a
   parent -> child -> grandchild chain, a bulk_create and a job whose Python code raises;
5. `balsam site start`, then `balsam queue submit -j mpi` (validated client-side
   against the allowed queues the agent pushed to the server);
6. the test polls through the SDK until every job is done (bounded), then checks
   results, job output files, LogEvents, the BatchJob life cycle, sessions, the file
   cleaner and the Site heartbeat;
7. `balsam site stop`; anything still running for this Site (launcher, job
   processes) is killed by PID, and the last test asserts nothing was left over.

Select with `-m site_agent`, skip with `-m "not site_agent"`.
"""

from __future__ import annotations

import pytest

from site_agent_kit import *  # noqa: F401,F403  (the CLI and agent helpers)

pytestmark = [
    pytest.mark.site_agent,
    pytest.mark.timeout(600),
    pytest.mark.upstream_differs(
        "upstream answers the processing service's mixed-key PATCH /jobs/ with a 500 or drops keys (quirk 1): "
        "the agent's status updater then backs off for half an hour and jobs stall in RUN_DONE/RUN_ERROR"
    ),
]


@pytest.fixture(scope="module")
def agent(api_root: str, auth_canary: None, tmp_path_factory: pytest.TempPathFactory):
    from balsam.client import BasicAuthRequestsClient

    from conftest import register_raw

    t0 = time.monotonic()
    base = tmp_path_factory.mktemp("agent")
    home = base / "home"
    home.mkdir()
    site_path = base / "site"
    user = register_raw(api_root, unique("agent"), "pw-" + unique("pw"))
    cli_login(api_root, home, user.username, user.password)
    site_name = unique("agentsite")
    cli_site_init(home, site_path, site_name)
    site_id = int((site_path / ".balsam-site").read_text())
    tune_settings(site_path)
    tune_job_template(site_path)

    client = BasicAuthRequestsClient(api_root, username=user.username, password=user.password, retry_count=NO_RETRY)
    client.refresh_auth()
    run = AgentRun(api_root, home, site_path, site_id, client, RawAPI(api_root, client.token))
    run.timings["setup"] = time.monotonic() - t0

    try:
        # the user's script, run as __main__ from the Site directory
        script = site_path / "workflow.py"
        script.write_text(USER_SCRIPT)
        res = subprocess.run(
            [PYTHON, str(script)], env=cli_env(home), cwd=site_path, capture_output=True, text=True, timeout=120
        )
        assert res.returncode == 0, f"user script failed:\n{res.stdout}\n{res.stderr}"
        line = next(ln for ln in res.stdout.splitlines() if ln.startswith("JOBS="))
        run.job_ids = json.loads(line[len("JOBS=") :])

        res = run_cli(["site", "start"], home, site_path)
        assert res.returncode == 0, f"balsam site start: {res.stdout}\n{res.stderr}"
        # the agent pushes its settings (allowed queues/projects) at startup
        assert poll(
            lambda: "local" in client.Site.objects.get(id=site_id).allowed_queues, 60, 0.5
        ), f"the agent never pushed its settings to the Site\n{run.logs()}"

        res = run_cli(["queue", "submit", "-n", "1", "-t", "10", "-q", "local", "-A", "local", "-j", "mpi"], home, site_path)
        assert res.returncode == 0, f"balsam queue submit: {res.stdout}\n{res.stderr}"
        run.batch_job = client.BatchJob.objects.get(site_id=site_id)
        run.timings["submitted"] = time.monotonic() - t0

        Job = client.Job
        targets = run.all_ids()

        def all_done() -> bool:
            jobs = list(client.Job.objects.filter(id=targets))
            if not run.sessions_during_run:
                run.sessions_during_run = run.raw.get("sessions/").json()["results"]
            return len(jobs) == len(targets) and all(j.state in ("JOB_FINISHED", "FAILED") for j in jobs)

        poll(all_done, JOBS_TIMEOUT, 2.0)
        run.timings["jobs_done"] = time.monotonic() - t0
        run.final_jobs = {j.id: j for j in Job.objects.filter(id=targets)}
        run.timed_out = [f"{j.id}:{j.workdir}:{j.state}" for j in run.final_jobs.values() if j.state not in ("JOB_FINISHED", "FAILED")]

        if not run.timed_out:
            # the launcher exits after idle_ttl_sec; the scheduler service then reports the BatchJob finished
            run.batch_job_finished = poll(
                lambda: client.BatchJob.objects.get(id=run.batch_job.id).state == "finished", 120, 1.0
            )
            run.timings["batch_job_finished"] = time.monotonic() - t0
            # the file cleaner marks finished jobs cleaned
            poll(
                lambda: client.Job.objects.filter(id=targets, state="JOB_FINISHED", pending_file_cleanup=True).count() == 0,
                30,
                1.0,
            )
        run.batch_job = client.BatchJob.objects.get(id=run.batch_job.id)
        run.final_jobs = {j.id: j for j in Job.objects.filter(id=targets)}
    finally:
        # stop the agent with the CLI, then make sure nothing of this Site survives
        try:
            res = run_cli(["site", "stop"], home, site_path, timeout=60)
            run.stop_rc, run.stop_output = res.returncode, res.stdout + res.stderr
        except subprocess.TimeoutExpired as exc:
            run.stop_rc, run.stop_output = None, f"balsam site stop timed out: {exc}"
        poll(lambda: not site_processes(site_path), 15, 0.5)
        run.leftovers_after_stop = [f"pid {p.pid}: {' '.join(p.cmdline())}" for p in site_processes(site_path)]
        kill_site_processes(site_path)
        try:
            run.sessions_after_stop = run.raw.get("sessions/").json()["results"]
        except Exception:  # noqa: BLE001
            pass
        run.cleanup_done = True
        run.timings["stopped"] = time.monotonic() - t0
        print(f"site agent timings (s): {run.timings}")

    yield run
    kill_site_processes(site_path)


# ---------------------------------------------------------------------------------------------
def test_every_job_finished(agent: AgentRun) -> None:
    assert not agent.timed_out, f"jobs not done after {JOBS_TIMEOUT}s: {agent.timed_out}\n{agent.logs()}"
    states = {jid: j.state for jid, j in agent.final_jobs.items()}
    boom = agent.job_ids["boom"]
    assert states.pop(boom) == "FAILED", agent.logs()
    assert set(states.values()) == {"JOB_FINISHED"}, f"{states}\n{agent.logs()}"


def test_python_return_values(agent: AgentRun) -> None:
    Job = agent.client.Job
    for jid, x in zip(agent.job_ids["square"], (3, 4)):
        assert Job.objects.get(id=jid).result(timeout=0) == {"x": x, "square": x * x}
    for jid, i in zip(agent.job_ids["bulk"], range(4)):
        assert Job.objects.get(id=jid).result(timeout=0) == {"x": 10 + i, "square": (10 + i) ** 2}
    parent, _, grandchild = agent.job_ids["family"]
    assert Job.objects.get(id=parent).result(timeout=0) == {"x": 5, "square": 25}
    assert Job.objects.get(id=grandchild).result(timeout=0) == {"x": 6, "square": 36}


def test_python_exception_is_reraised(agent: AgentRun) -> None:
    job = agent.client.Job.objects.get(id=agent.job_ids["boom"])
    with pytest.raises(ValueError, match="boom: expected failure"):
        job.result(timeout=0)
    transitions = [(e.from_state, e.to_state) for e in sorted(agent.client.EventLog.objects.filter(job_id=job.id), key=lambda e: e.id)]
    assert ("RUNNING", "RUN_ERROR") in transitions
    assert transitions[-1] == ("RUN_ERROR", "FAILED")
    err = next(e for e in agent.client.EventLog.objects.filter(job_id=job.id, to_state="RUN_ERROR"))
    assert "returncode" in err.data, err.data


def test_shell_job_output(agent: AgentRun) -> None:
    for jid, name in zip(agent.job_ids["hello"], ("world", "balsam")):
        job = agent.client.Job.objects.get(id=jid)
        out = agent.site_path / "data" / str(job.workdir) / "job.out"
        assert out.is_file(), f"{out} missing"
        assert f"hello {name}" in out.read_text()


NORMAL_RUN = [
    ("CREATED", "STAGED_IN"),
    ("STAGED_IN", "PREPROCESSED"),
    ("PREPROCESSED", "RUNNING"),
    ("RUNNING", "RUN_DONE"),
    ("RUN_DONE", "JOB_FINISHED"),  # POSTPROCESSED rewritten: no stage-out
]


def test_log_events_of_a_normal_run(agent: AgentRun) -> None:
    EL = agent.client.EventLog
    for jid in agent.job_ids["hello"] + agent.job_ids["square"] + agent.job_ids["bulk"]:
        evs = sorted(EL.objects.filter(job_id=jid), key=lambda e: e.id)
        assert [(e.from_state, e.to_state) for e in evs] == NORMAL_RUN, (jid, [(e.from_state, e.to_state, e.data) for e in evs])
        running = evs[2]
        assert isinstance(running.data.get("num_nodes"), (int, float)) and running.data["num_nodes"] > 0, running.data
        assert evs[-1].data.get("message") == "Skipped stage out"
        times = [e.timestamp for e in evs]
        assert times == sorted(times), f"event timestamps go backwards: {times}"
        assert all(t.tzinfo is None for t in times)
        assert agent.started_at - timedelta(minutes=1) <= times[0] <= utcnow()


def test_parent_child_chain(agent: AgentRun) -> None:
    EL = agent.client.EventLog
    parent, child, grandchild = agent.job_ids["family"]
    for kid in (child, grandchild):
        evs = sorted(EL.objects.filter(job_id=kid), key=lambda e: e.id)
        assert [(e.from_state, e.to_state) for e in evs] == [
            ("CREATED", "AWAITING_PARENTS"),
            ("AWAITING_PARENTS", "STAGED_IN"),
        ] + NORMAL_RUN[1:], [(e.from_state, e.to_state, e.data) for e in evs]
        assert evs[1].data.get("message") in ("Skipped stage in", "All parents finished")
    # a child starts only after its parent finished
    for up, down in ((parent, child), (child, grandchild)):
        finished = EL.objects.get(job_id=up, to_state="JOB_FINISHED").timestamp
        released = EL.objects.get(job_id=down, from_state="AWAITING_PARENTS").timestamp
        running = EL.objects.get(job_id=down, to_state="RUNNING").timestamp
        assert finished <= released <= running
    assert agent.client.Job.objects.get(id=child).parent_ids == {parent}


def test_batch_job_life_cycle(agent: AgentRun) -> None:
    bj = agent.batch_job
    assert bj is not None
    assert (bj.project, bj.queue, bj.num_nodes, bj.wall_time_min, bj.job_mode) == ("local", "local", 1, 10, "mpi")
    assert isinstance(bj.scheduler_id, int), "the scheduler service stores the local PID as scheduler_id"
    assert "submit_script" in bj.status_info and "submit_time" in bj.status_info, bj.status_info
    assert agent.batch_job_finished and bj.state == "finished", f"BatchJob state {bj.state}\n{agent.logs()}"
    assert agent.client.BatchJob.objects.filter(site_id=agent.site_id, state="finished").count() == 1


def test_jobs_linked_to_the_batch_job(agent: AgentRun) -> None:
    """The launcher finds its BatchJob with GET /batch-jobs/?site_id=S&scheduler_id=<PID of the
    `bash qlaunchNNNNN.sh` process> and passes it to POST /sessions/; acquire then stamps
    job.batch_job_id. LocalProcessScheduler stores the PID of `sh -c "bash ..."`: when /bin/sh
    forks instead of exec'ing (dash does here) the two PIDs differ and the client itself cannot
    link the run to the BatchJob, whatever the server does."""
    import re

    bj = agent.batch_job
    detected = None
    for f in (agent.site_path / "log").glob("mpi_mode*.log"):
        m = re.search(r"Detected scheduled job \[(\d+)\]", f.read_text(errors="replace"))
        if m:
            detected = int(m.group(1))
    assert detected is not None, f"the launcher did not detect its scheduler id\n{agent.logs()}"
    if detected != bj.scheduler_id:
        assert all(j.batch_job_id is None for j in agent.final_jobs.values())
        pytest.skip(
            f"client-side PID mismatch (launcher saw {detected}, BatchJob.scheduler_id={bj.scheduler_id}): "
            "/bin/sh forked; nothing to check on the server"
        )
    ran = list(agent.final_jobs.values())
    assert {j.batch_job_id for j in ran} == {bj.id}, {j.id: j.batch_job_id for j in ran}
    assert sorted(j.id for j in agent.client.Job.objects.filter(batch_job_id=bj.id)) == sorted(agent.all_ids())
    assert agent.client.EventLog.objects.filter(batch_job_id=bj.id, to_state="RUNNING").count() == len(agent.all_ids())


def test_sessions(agent: AgentRun) -> None:
    assert agent.sessions_during_run, "the processing service and the launcher create sessions"
    assert all(s["site_id"] == agent.site_id for s in agent.sessions_during_run)
    assert agent.sessions_after_stop == [], f"sessions left after a clean stop: {agent.sessions_after_stop}"
    # nothing is left locked: every job can be acquired / deleted again
    sess = agent.client.Session.objects.create(site_id=agent.site_id)
    got = sess.acquire_jobs(max_num_jobs=100, states={"JOB_FINISHED", "FAILED"})
    assert sorted(j.id for j in got) == sorted(agent.all_ids())
    sess.delete()


def test_file_cleaner_marked_jobs_cleaned(agent: AgentRun) -> None:
    finished = [jid for jid, j in agent.final_jobs.items() if j.state == "JOB_FINISHED"]
    pending = agent.client.Job.objects.filter(id=finished, pending_file_cleanup=True).count()
    assert pending == 0, "the file cleaner PATCHes pending_file_cleanup=false for finished jobs"


def test_site_heartbeat_and_config(agent: AgentRun) -> None:
    site = agent.client.Site.objects.get(id=agent.site_id)
    assert site.allowed_projects == ["local"]
    assert site.allowed_queues["local"].max_nodes == 1
    # settings.yml says `shout: no` (unquoted): YAML reads False, the agent sends str(False)
    assert site.optional_batch_job_params == {"shout": "False"}
    assert site.last_refresh >= agent.started_at - timedelta(seconds=5), "the scheduler service PUTs the Site every cycle"
    res = run_cli(["site", "ls"], agent.home, agent.home)
    assert res.returncode == 0 and site.name in res.stdout, res.stdout + res.stderr
    res = run_cli(["job", "ls", "--site", str(agent.site_id)], agent.home, agent.site_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "JOB_FINISHED" in res.stdout


# ---------------------------------------------------------------------------------------------
# The job and queue commands of the real CLI, run from the (now stopped) Site directory.
# ---------------------------------------------------------------------------------------------
def cli_ok(agent: AgentRun, *args: str) -> str:
    res = run_cli(list(args), agent.home, agent.site_path)
    assert res.returncode == 0, f"balsam {' '.join(args)} -> {res.returncode}\n{res.stdout}\n{res.stderr}"
    return res.stdout


def test_cli_job_create_ls_modify_rm(agent: AgentRun) -> None:
    import re

    Job = agent.client.Job
    tag = unique("cli")
    out = cli_ok(agent, "job", "create", "-w", "cli/parent", "-a", "Hello", "-p", "name=cli", "--tag", f"src={tag}", "-y")
    parent_id = int(re.search(r"Added Job id=(\d+)", out).group(1))
    parent = Job.objects.get(id=parent_id)
    assert (str(parent.workdir), parent.tags, parent.state) == ("cli/parent", {"src": tag}, "STAGED_IN")
    assert parent.get_parameters() == {"name": "cli"}

    out = cli_ok(
        agent, "job", "create", "-w", "cli/child", "-a", "Hello", "-p", "name=kid", "--tag", f"src={tag}",
        "-pid", str(parent_id), "-n", "2", "-t", "7", "-y",
    )
    child_id = int(re.search(r"Added Job id=(\d+)", out).group(1))
    child = Job.objects.get(id=child_id)
    assert (child.state, child.parent_ids, child.num_nodes, child.wall_time_min) == ("AWAITING_PARENTS", {parent_id}, 2, 7)

    out = cli_ok(agent, "job", "ls", "--tag", f"src={tag}")
    assert "cli/parent" in out and "cli/child" in out and "cli/one" not in out
    out = cli_ok(agent, "job", "ls", "--by-state")  # 14 count requests
    assert "JOB_FINISHED" in out and "AWAITING_PARENTS" in out

    # `job modify` PUTs each job; finishing the parent releases the child on the server
    cli_ok(agent, "job", "modify", "-i", str(parent_id), "-s", "JOB_FINISHED")
    assert Job.objects.get(id=parent_id).state == "JOB_FINISHED"
    assert Job.objects.get(id=child_id).state == "STAGED_IN"
    last = agent.client.EventLog.objects.filter(job_id=child_id)[0]
    assert (last.from_state, last.to_state) == ("AWAITING_PARENTS", "STAGED_IN")

    cli_ok(agent, "job", "rm", "-i", str(child_id), "-y")
    assert Job.objects.filter(id=[child_id]).count() == 0
    cli_ok(agent, "job", "rm", "--tag", f"src={tag}", "-y")
    assert Job.objects.filter(tags={"src": tag}).count() == 0


def test_cli_queue_and_app_commands(agent: AgentRun) -> None:
    out = cli_ok(agent, "app", "ls")
    for name in ("Hello", "Square", "Boom"):
        assert name in out
    cli_ok(agent, "queue", "submit", "-n", "1", "-t", "5", "-q", "local", "-A", "local", "-j", "serial", "--tag", "q=cli")
    BJ = agent.client.BatchJob
    bj = BJ.objects.get(site_id=agent.site_id, filter_tags={"q": "cli"})
    assert (bj.state, bj.job_mode, bj.partitions) == ("pending_submission", "serial", [])
    out = cli_ok(agent, "queue", "ls")
    assert str(bj.id) in out or "pending_submission" in out
    out = cli_ok(agent, "queue", "ls", "--history")
    assert "finished" in out
    # `queue term` marks a queued/running BatchJob pending_deletion (found by scheduler_id)
    bj.state = "queued"
    bj.scheduler_id = 987654
    bj.save()
    out = cli_ok(agent, "queue", "term", "987654")
    assert "Marked BatchJob for deletion" in out
    assert BJ.objects.get(id=bj.id).state == "pending_deletion"
    # the pending_deletion rule: a scheduler report other than `finished` does not revive it
    got = BJ.objects.get(id=bj.id)
    got.state = "running"
    got.save()
    assert BJ.objects.get(id=bj.id).state == "pending_deletion"
    got = BJ.objects.get(id=bj.id)
    got.state = "finished"
    got.save()
    assert BJ.objects.get(id=bj.id).state == "finished"


def test_agent_stopped_cleanly(agent: AgentRun) -> None:
    assert agent.cleanup_done
    assert agent.stop_rc == 0, agent.stop_output
    assert "shutdown OK" in agent.stop_output, agent.stop_output
    assert not (agent.site_path / "balsam-service.pid").exists()
    # the launcher exits on its own (idle TTL) and `balsam site stop` ends the services
    assert agent.leftovers_after_stop == [], f"processes survived `balsam site stop`: {agent.leftovers_after_stop}"
    assert site_processes(agent.site_path) == []
