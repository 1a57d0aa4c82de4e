"""The real `balsam` command line program against our server (client-usage.md (a)).

`balsam login` and `balsam register` prompt interactively (click.prompt / getpass,
which read the controlling terminal), so they run under a pseudo-terminal with
pexpect. Each test gets its own temporary HOME, so ~/.balsam/client.yml is
written there and the real home directory is never touched.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Dict, List

import pexpect
import pytest
import yaml

from helpers import unique, utcnow

pytestmark = pytest.mark.cli

BALSAM = str(Path(sys.executable).with_name("balsam"))
TIMEOUT = 60
TOKEN_TTL = timedelta(hours=48)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def cli_env(home: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BALSAM_")}
    env.update(HOME=str(home), TERM="dumb", COLUMNS="200", LC_ALL="C.UTF-8", LANG="C.UTF-8")
    return env


def spawn(args: List[str], home: Path) -> pexpect.spawn:
    return pexpect.spawn(BALSAM, args, env=cli_env(home), encoding="utf-8", timeout=TIMEOUT, dimensions=(50, 200))


def finish(child: pexpect.spawn) -> str:
    child.expect(pexpect.EOF)
    child.close()
    out = child.before or ""
    assert child.exitstatus == 0, f"balsam exited with {child.exitstatus} (signal {child.signalstatus}):\n{out}"
    return out


def run_balsam(args: List[str], home: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BALSAM, *args], env=cli_env(home), capture_output=True, text=True, timeout=TIMEOUT, stdin=subprocess.DEVNULL
    )


def balsam_login(api_root: str, home: Path, username: str, password: str, force: bool = False) -> str:
    child = spawn(["login", "-u", api_root] + (["--force"] if force else []), home)
    child.expect_exact(f"Logging into {api_root}")
    child.expect("Balsam username: ")
    child.sendline(username)
    child.expect("Balsam password: ")
    child.sendline(password)
    child.expect_exact("Logged In")
    return finish(child)


def read_client_yml(home: Path) -> dict:
    path = home / ".balsam" / "client.yml"
    assert path.is_file(), f"{path} was not written"
    with open(path) as fp:
        return yaml.safe_load(fp)


def test_balsam_login_writes_client_yml(api_root: str, make_user, home: Path, auth_canary: None) -> None:
    user = make_user("cli")
    before = utcnow()
    balsam_login(api_root, home, user.username, user.password)
    after = utcnow()

    balsam_dir = home / ".balsam"
    client_yml = balsam_dir / "client.yml"
    assert stat.S_IMODE(client_yml.stat().st_mode) == 0o600
    assert stat.S_IMODE(balsam_dir.stat().st_mode) == 0o700

    data = read_client_yml(home)
    assert data["api_root"] == api_root
    assert data["client_class"] == "balsam.client.requests_password.BasicAuthRequestsClient"
    assert isinstance(data["token"], str) and data["token"]
    expiry = data["token_expiry"]
    if isinstance(expiry, str):
        import dateutil.parser

        expiry = dateutil.parser.parse(expiry)
    assert isinstance(expiry, datetime)
    # Must be naive: the client computes `token_expiry - datetime.utcnow()` (§1.3.1, §2.3).
    assert expiry.tzinfo is None, f"token_expiry stored as aware datetime: {expiry!r}"
    assert before + TOKEN_TTL - timedelta(minutes=2) <= expiry <= after + TOKEN_TTL + timedelta(minutes=2)

    # A second `balsam login` sees the stored, unexpired login and stops.
    result = run_balsam(["login", "-u", api_root], home)
    assert result.returncode == 0, result.stderr
    assert "You already have a good login stored." in result.stdout


def test_stored_login_drives_cli_and_python_api(
    api_root: str, make_user, home: Path, tmp_path: Path, auth_canary: None
) -> None:
    user = make_user("cli")
    balsam_login(api_root, home, user.username, user.password)
    site_name = unique("clisite")

    # The Python API picks the stored credentials up at import time (balsam.api).
    script = f"""
import sys
from balsam.api import ApplicationDefinition, Site
from balsam._api.models import App

site = Site.objects.create(name={site_name!r}, path="/cli/site")

class Echo(ApplicationDefinition):
    site = {site_name!r}
    command_template = "echo {{{{ msg }}}}"

Echo.sync()
print("SITES", [s.name for s in Site.objects.all()])
print("APPS", [(a.name, a.site_id == site.id) for a in App.objects.all()])
"""
    # (a file, not `python -c`: the SDK reads the App's source code with dill.source)
    script_path = tmp_path / "snippet.py"
    script_path.write_text(script)
    proc = subprocess.run(
        [sys.executable, str(script_path)], env=cli_env(home), capture_output=True, text=True, timeout=TIMEOUT
    )
    assert proc.returncode == 0, f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
    assert f"SITES ['{site_name}']" in proc.stdout
    assert "APPS [('Echo', True)]" in proc.stdout
    assert "failed to auto-load Client" not in proc.stderr

    # `balsam site ls` lists it as active (last_refresh compared with utcnow(): must be naive).
    result = run_balsam(["site", "ls"], home)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    rows = [line.split() for line in result.stdout.splitlines() if site_name in line]
    assert len(rows) == 1, result.stdout
    assert rows[0][1] == site_name and rows[0][2] == "/cli/site" and rows[0][3] == "Yes", result.stdout

    # `balsam app ls --site=all` joins apps with their sites.
    result = run_balsam(["app", "ls", "--site=all"], home)
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    rows = [line.split() for line in result.stdout.splitlines() if "Echo" in line]
    assert len(rows) == 1 and rows[0][1:] == ["Echo", site_name], result.stdout


def test_balsam_login_force_replaces_token(api_root: str, make_user, home: Path, auth_canary: None) -> None:
    user = make_user("cli")
    balsam_login(api_root, home, user.username, user.password)
    first = read_client_yml(home)
    other = make_user("cli2")
    balsam_login(api_root, home, other.username, other.password, force=True)
    second = read_client_yml(home)
    assert second["token"] != first["token"]
    assert second["api_root"] == api_root


def test_balsam_register_cli(api_root: str, home: Path, auth_canary: None) -> None:
    username = unique("clireg")
    child = spawn(["register", "-a", api_root, "-u", username], home)
    child.expect("Password:")
    child.sendline("pw-cli-1")
    child.expect("Confirm Password:")
    child.sendline("pw-cli-1")
    child.expect_exact("Registration success!")
    out = finish(child)
    assert username in out
    # The new account works with `balsam login`.
    balsam_login(api_root, home, username, "pw-cli-1")
    assert read_client_yml(home)["token"]


def test_server_banner_login_hint_works(server, make_user, home: Path, auth_canary: None) -> None:
    """If the server prints a `balsam login ...` hint at startup, that exact command must work
    with the official CLI (0.7.0a24: `balsam login -u/--url URL [-f/--force]`)."""
    if server.log_path is None:
        pytest.skip("server not started by the suite (CONFORMANCE_API_ROOT)")
    import re
    import shlex

    text = re.sub(r"\x1b\[[0-9;]*m", "", server.log_path.read_text(errors="replace"))
    hints = [line[line.index("balsam login") :].strip() for line in text.splitlines() if "balsam login" in line]
    if not hints:
        pytest.skip("the server prints no `balsam login` hint")
    args = shlex.split(hints[0])[1:]
    user = make_user("hint")
    child = spawn(args, home)
    index = child.expect(["Balsam username: ", pexpect.EOF])
    assert index == 0, f"the server's hint `{hints[0]}` fails with the official CLI:\n{child.before}"
    child.sendline(user.username)
    child.expect("Balsam password: ")
    child.sendline(user.password)
    child.expect_exact("Logged In")
    finish(child)
    assert read_client_yml(home)["api_root"] == server.api_root
