"""What `make run` does, as a person would: `rehab-net serve` starts the web server and one plan
worker; a plan started over HTTP is run by that worker; Ctrl-C (SIGINT to the process group, as a
terminal sends it) stops both. Real processes, real sockets on 127.0.0.1, a temporary SQLite."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.factories import secrets_env

TINY = Path(__file__).resolve().parents[1] / "data" / "tiny"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(env, *args) -> str:
    return subprocess.run([sys.executable, "-m", "rehab_net.cli", *args], env=env, check=True,
                          capture_output=True, timeout=120, text=True).stdout


def _request(url: str, method: str = "GET", body: dict | None = None, token: str = ""):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json",
                                          "Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def env(tmp_path):
    env = {**os.environ, **secrets_env(),
           "REHAB_DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
           "REHAB_TODAY": "2026-11-16", "REHAB_WORKER_POLL_SECONDS": "0.5",
           "REHAB_REDIS_URL": ""}
    _cli(env, "db", "upgrade")
    _cli(env, "load-sample", "--dir", str(TINY))
    _cli(env, "users", "create", "planner", "--name", "Planner", "--role", "planner",
         "--password", "planner-password")
    env["TEST_TOKEN"] = _cli(env, "users", "token", "planner").strip().splitlines()[-1]
    return env


def test_serve_runs_a_worker_beside_it_and_ctrl_c_stops_both(env, tmp_path):
    port = _free_port()

    def own_group_with_default_sigint():
        os.setsid()
        signal.signal(signal.SIGINT, signal.SIG_DFL)

    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen([sys.executable, "-m", "rehab_net.cli", "serve", "--port", str(port)],
                              env=env, stdout=log, stderr=subprocess.STDOUT,
                              preexec_fn=own_group_with_default_sigint)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _request(base + "/plans", token=env["TEST_TOKEN"])
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, \
                    (tmp_path / "serve.log").read_text()
                time.sleep(0.2)
        status, headers, plan = _request(base + "/plans", "POST", {"horizon_weeks": 2},
                                         token=env["TEST_TOKEN"])
        assert status == 202 and headers["Location"] == f"/api/v1/plans/{plan['id']}"
        deadline = time.monotonic() + 120
        while plan["status"] in ("queued", "running") and time.monotonic() < deadline:
            time.sleep(0.5)
            plan = _request(f"http://127.0.0.1:{port}{headers['Location']}",
                            token=env["TEST_TOKEN"])[2]
        assert plan["status"] == "optimal", (plan, (tmp_path / "serve.log").read_text())
    finally:
        os.killpg(server.pid, signal.SIGINT)  # Ctrl-C in the terminal
        server.wait(30)
        deadline = time.monotonic() + 20
        while _group_alive(server.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        alive = _group_alive(server.pid)
        if alive:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
    assert not alive, "the worker outlived the server"
