"""`rehab-net plan`, `worker` and `export-instance`, on SQLite and PostgreSQL."""
import json

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from rehab_net.cli import main
from rehab_net.planning import adapters
from solver.io import read_instance
from tests.planning_helpers import waiting_list


@pytest.fixture
def run(app, session):
    waiting_list(session)
    session.commit()

    def invoke(*args):
        result = CliRunner().invoke(main, list(args), obj=ScriptInfo(create_app=lambda: app),
                                    catch_exceptions=False)
        session.close()
        return result

    return invoke


def test_plan_inline_runs_it_here_and_prints_the_summary(run):
    result = run("plan", "--inline", "--horizon-weeks", "1", "--start-date", "2026-11-23")
    assert result.exit_code == 0, result.output
    assert "plan 1: running here (week 0 = 2026-11-23, 1 weeks)" in result.output
    assert "plan 1: optimal" in result.output
    assert "6 cases, 2 facilities, 4 placed" in result.output
    assert "150702" in result.output  # the district table


def test_plan_queued_then_run_by_a_worker_once(run, client):
    result = run("plan", "--horizon-weeks", "2")
    assert result.exit_code == 0 and "plan 1: queued" in result.output
    assert client.get("/api/v1/plans/1").get_json()["status"] == "queued"
    result = run("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "ran 1 plan(s)" in result.output
    assert client.get("/api/v1/plans/1").get_json()["status"] == "optimal"
    assert "ran 0 plan(s)" in run("worker", "--burst").output


@pytest.mark.parametrize("args, words", [
    (("--start-date", "2026-11-25"), "--start-date: must be a Monday"),
    (("--start-date", "2026-11-09"), "--start-date: must not be before"),
    (("--horizon-weeks", "60"), "60 is not in the range"),
])
def test_plan_refuses_bad_parameters(run, args, words):
    result = run("plan", *args)
    assert result.exit_code == 2 and words in result.output


def test_export_instance_writes_the_contract_file(run, tmp_path, app, session):
    out = tmp_path / "instance.json"
    result = run("export-instance", "-o", str(out), "--horizon-weeks", "4")
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["name"] == "rehab-net-2026-11-23-4w" and len(data["cases"]) == 6
    assert f"fingerprint {adapters.fingerprint(data)}" in result.output
    assert len(read_instance(out).cases) == 6  # the optimiser's own reader accepts it
    # the same data gives the same file
    again = tmp_path / "again.json"
    run("export-instance", "-o", str(again), "--horizon-weeks", "4")
    assert again.read_bytes() == out.read_bytes()


def test_export_instance_of_a_plan_reproduces_its_fingerprint(run, tmp_path, client):
    run("plan", "--inline", "--horizon-weeks", "3")
    fingerprint = client.get("/api/v1/plans/1").get_json()["fingerprint"]
    result = run("export-instance", "-o", str(tmp_path / "p.json"), "--plan", "1")
    assert result.exit_code == 0, result.output
    assert f"fingerprint {fingerprint}" in result.output
    assert "plan 1 ran on the same instance" in result.output
    assert run("export-instance", "-o", str(tmp_path / "x.json"), "--plan", "9").exit_code == 2
