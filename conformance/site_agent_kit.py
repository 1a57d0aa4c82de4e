"""The Site-agent test's kit: the user's workflow script, the `balsam` CLI driven through
subprocess and pexpect, Site settings tuned for a quick run, and the agent's processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List, Optional

import pexpect
import psutil
import pytest
import requests
import yaml

from helpers import NO_RETRY, RawAPI, unique, utcnow

BALSAM = str(Path(sys.executable).with_name("balsam"))
PYTHON = sys.executable
JOBS_TIMEOUT = float(os.environ.get("CONFORMANCE_AGENT_TIMEOUT", "240"))
CLI_TIMEOUT = 60

USER_SCRIPT = r'''
"""A user's workflow script: register Apps at the Site and submit Jobs."""
import json
import sys

from balsam.api import ApplicationDefinition, Job

SITE_ID = int(open(".balsam-site").read())


class Hello(ApplicationDefinition):
    """Shell app"""
    site = SITE_ID
    command_template = "echo hello {{ name }}"


class Square(ApplicationDefinition):
    """Python app returning a value"""
    site = SITE_ID

    def run(self, x):
        return {"x": x, "square": x * x}


class Boom(ApplicationDefinition):
    """Python app that raises"""
    site = SITE_ID

    def run(self, msg):
        raise ValueError("boom: " + msg)


for app in (Hello, Square, Boom):
    app.sync()

out = {"apps": {"Hello": Hello.__app_id__, "Square": Square.__app_id__, "Boom": Boom.__app_id__}}
out["hello"] = [Hello.submit(f"hello/{n}", name=n, tags={"kind": "shell"}).id for n in ("world", "balsam")]
out["square"] = [Square.submit(f"square/{x}", x=x, tags={"kind": "py"}).id for x in (3, 4)]
parent = Square.submit("fam/parent", x=5, tags={"kind": "fam"})
child = Hello.submit("fam/child", name="child", parent_ids={parent.id}, tags={"kind": "fam"})
grandchild = Square.submit("fam/grandchild", x=6, parent_ids={child.id}, tags={"kind": "fam"})
out["family"] = [parent.id, child.id, grandchild.id]
bulk = Job.objects.bulk_create([Square.submit(f"bulk/{i}", x=10 + i, save=False, tags={"kind": "bulk"}) for i in range(4)])
out["bulk"] = [j.id for j in bulk]
out["boom"] = Boom.submit("boom/1", msg="expected failure", tags={"kind": "boom"}).id
print("JOBS=" + json.dumps(out))
'''


def cli_env(home: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALSAM_")}
    env.update(HOME=str(home), TERM="xterm", COLUMNS="200", LC_ALL="C.UTF-8", LANG="C.UTF-8")
    # the venv's bin first: the job template and `balsam` lookups use PATH
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_cli(args: List[str], home: Path, cwd: Path, timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """Run the real CLI. Output goes through files, not pipes: `balsam site start` leaves the
    daemon running with the CLI's stdout/stderr, so a pipe would never reach EOF."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.run(
            [BALSAM, *args], env=cli_env(home), cwd=cwd, stdout=out, stderr=err, timeout=timeout, stdin=subprocess.DEVNULL
        )
        out.seek(0)
        err.seek(0)
        return subprocess.CompletedProcess(proc.args, proc.returncode, out.read(), err.read())


def pexpect_finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    out = child.before or ""
    assert child.exitstatus == 0, f"balsam exited with {child.exitstatus} (signal {child.signalstatus}):\n{out}"
    return out


def cli_login(api_root: str, home: Path, username: str, password: str) -> None:
    child = pexpect.spawn(BALSAM, ["login", "-u", api_root], env=cli_env(home), encoding="utf-8", timeout=CLI_TIMEOUT)
    child.expect("Balsam username: ")
    child.sendline(username)
    child.expect("Balsam password: ")
    child.sendline(password)
    child.expect_exact("Logged In")
    pexpect_finish(child)


def cli_site_init(home: Path, site_path: Path, name: str) -> None:
    """`balsam site init` asks for the system with an inquirer menu: pick MacOS/Linux (Local)."""
    from balsam.config import site_builder

    confs = list(site_builder.load_default_configs().items())  # the same glob order as the CLI's
    idx = next(i for i, (path, conf) in enumerate(confs) if conf.title == "MacOS/Linux (Local)")
    child = pexpect.spawn(
        BALSAM,
        ["site", "init", str(site_path), "-n", name],
        env=cli_env(home),
        encoding="utf-8",
        timeout=CLI_TIMEOUT,
        dimensions=(60, 200),
    )
    child.expect("Select system")
    time.sleep(0.5)
    for _ in range(idx):
        child.send("\x1b[B")  # arrow down
        time.sleep(0.05)
    child.send("\r")
    child.expect_exact("New Balsam site set up at")
    pexpect_finish(child)


def tune_settings(site_path: Path) -> Dict[str, Any]:
    path = site_path / "settings.yml"
    settings = yaml.safe_load(path.read_text())
    assert settings["scheduler"]["scheduler_class"] == "balsam.platform.scheduler.LocalProcessScheduler"
    settings["logging"]["level"] = "DEBUG"
    settings["logging"]["flush_period"] = 1
    settings["filter_tags"] = {}
    settings["launcher"].update(
        idle_ttl_sec=20,
        delay_sec=1,
        mpi_app_launcher="balsam.platform.app_run.LocalAppRun",  # no mpiexec on this machine
        mpirun_allows_node_packing=True,
        max_concurrent_mpiruns=8,
    )
    settings["scheduler"]["sync_period"] = 1
    settings["processing"] = {"num_workers": 1, "prefetch_depth": 100}
    settings["file_cleaner"] = {"cleanup_batch_size": 180, "service_period": 2}
    settings["transfers"] = None  # no Globus here
    settings["queue_maintainer"] = None
    settings["elastic_queue"] = None
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    return settings


def sh_forks() -> bool:
    """Does `/bin/sh -c "bash ..."` fork bash (dash) instead of exec'ing it?"""
    proc = subprocess.Popen("bash -c 'echo $$'", shell=True, stdout=subprocess.PIPE, text=True)
    out, _ = proc.communicate(timeout=30)
    return int(out.strip()) != proc.pid


def tune_job_template(site_path: Path) -> None:
    """LocalProcessScheduler records the PID of `sh -c "bash qlaunchNNNNN.sh"` as scheduler_id,
    while the launcher (DefaultNode.get_scheduler_id) reports its nearest ancestor whose command
    line has "bash" and "qlaunch". Where /bin/sh forks, those are two processes; `exec`-ing the
    launcher from the job template (a per-Site file users edit) makes them agree again."""
    if not sh_forks():
        return
    path = site_path / "job-template.sh"
    text = path.read_text()
    assert "{{launcher_cmd}} -j" in text
    path.write_text(text.replace("{{launcher_cmd}} -j", "exec {{launcher_cmd}} -j"))


def site_processes(site_path: Path) -> List[psutil.Process]:
    """Every process (but this one) that belongs to the Site: its env, cmdline or cwd points at it."""
    me = os.getpid()
    site = str(site_path)
    found = []
    for proc in psutil.process_iter(["pid", "cmdline"]):
        if proc.pid == me:
            continue
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            cmd = " ".join(proc.info["cmdline"] or [])
            env_site = proc.environ().get("BALSAM_SITE_PATH", "")
            cwd = proc.cwd()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        if site in cmd or env_site == site or cwd == site or cwd.startswith(site + os.sep):
            found.append(proc)
    return found


def kill_site_processes(site_path: Path) -> List[str]:
    procs = site_processes(site_path)
    described = []
    for p in procs:
        try:
            described.append(f"pid {p.pid}: {' '.join(p.cmdline())}")
            p.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=10)
    for p in alive:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(alive, timeout=5)
    return described


@dataclass
class AgentRun:
    api_root: str
    home: Path
    site_path: Path
    site_id: int
    client: Any
    raw: RawAPI
    job_ids: Dict[str, Any] = field(default_factory=dict)
    final_jobs: Dict[int, Any] = field(default_factory=dict)
    timed_out: List[str] = field(default_factory=list)
    batch_job: Any = None
    batch_job_finished: bool = False
    started_at: datetime = field(default_factory=utcnow)
    stop_output: str = ""
    stop_rc: Optional[int] = None
    leftovers_after_stop: List[str] = field(default_factory=list)
    sessions_during_run: List[Dict[str, Any]] = field(default_factory=list)
    sessions_after_stop: List[Dict[str, Any]] = field(default_factory=list)
    cleanup_done: bool = False
    timings: Dict[str, float] = field(default_factory=dict)

    def all_ids(self) -> List[int]:
        j = self.job_ids
        return j["hello"] + j["square"] + j["family"] + j["bulk"] + [j["boom"]]

    def logs(self, max_chars: int = 6000) -> str:
        """The tail of the agent's own log files, for failure messages."""
        out = []
        log_dir = self.site_path / "log"
        for f in sorted(log_dir.glob("*"))[-6:]:
            try:
                txt = f.read_text(errors="replace")
            except OSError:
                continue
            out.append(f"==== {f.name}\n{txt[-max_chars // 6:]}")
        for f in sorted((self.site_path / "qsubmit").glob("*.output")):
            out.append(f"==== {f.name}\n{f.read_text(errors='replace')[-1500:]}")
        return "\n".join(out)


def poll(predicate, timeout: float, interval: float = 1.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
