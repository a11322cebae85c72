"""`python -m solver` / `rehab-net solve`: exit codes, what is (not) written, and the checker
command."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from solver import cli
from solver.check import check_solution
from solver.greedy import greedy
from solver.instance import FORMAT_SOLUTION
from solver.io import read_solution, write_instance
from solver.solve import error_solution
from tests.solver.builders import document, random_instance

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def files(tmp_path):
    inst = random_instance(7)
    write_instance(inst, tmp_path / "instance.json")
    return inst, tmp_path / "instance.json", tmp_path / "solution.json"


def test_greedy_baseline_writes_a_valid_solution(files, capsys):
    inst, instance_path, out = files
    assert cli.main([str(instance_path), "-o", str(out), "--baseline", "greedy"]) == 0
    doc = read_solution(out)
    assert doc["format"] == FORMAT_SOLUTION and doc["status"] == "feasible"
    assert check_solution(inst, doc) == []
    assert list(doc)[-1] == "stats"
    stats = doc["stats"]
    assert list(stats)[:4] == ["wall_seconds", "read_seconds", "solve_seconds", "write_seconds"]
    assert stats["wall_seconds"] >= stats["read_seconds"] + stats["solve_seconds"] - 0.002
    summary = capsys.readouterr().out.strip().splitlines()
    assert len(summary) == 1 and summary[0].startswith("feasible: objective ")
    assert f"{len(inst.cases) - len(doc['unassigned'])} assigned" in summary[0]


def test_solve_is_the_default(files, monkeypatch):
    inst, instance_path, out = files
    calls = []

    def fake_solve(instance, time_limit=None):
        calls.append(time_limit)
        solution = greedy(instance)
        solution.status, solution.bound = "optimal", solution.objective
        solution.stats = {"arcs": 12}
        return solution

    monkeypatch.setattr(cli, "solve", fake_solve)
    assert cli.main([str(instance_path), "-o", str(out), "--time-limit", "2.5"]) == 0
    assert calls == [2.5]
    doc = read_solution(out)
    assert doc["status"] == "optimal" and doc["stats"]["arcs"] == 12


def test_a_solver_error_writes_status_error_and_exits_1(files, monkeypatch, capsys):
    inst, instance_path, out = files
    n = len(inst.cases)

    def failing(instance, time_limit=None):
        solution = greedy(instance)
        solution.status, solution.message = "error", "flow solver gave up"
        solution.objective = None
        solution.facility = np.full(n, -1, dtype=np.int32)
        solution.reason = error_solution(instance, "").reason
        return solution

    monkeypatch.setattr(cli, "solve", failing)
    assert cli.main([str(instance_path), "-o", str(out)]) == 1
    doc = read_solution(out)
    assert doc["status"] == "error" and doc["objective"] is None
    assert doc["stats"]["message"] == "flow solver gave up"
    assert check_solution(inst, doc) == []  # every case still listed, with a true reason
    assert "flow solver gave up" in capsys.readouterr().err


def test_a_crashing_solver_still_writes_status_error(files, monkeypatch, capsys):
    inst, instance_path, out = files

    def crash(instance, time_limit=None):
        raise NotImplementedError

    monkeypatch.setattr(cli, "solve", crash)
    assert cli.main([str(instance_path), "-o", str(out)]) == 1
    doc = read_solution(out)
    assert doc["status"] == "error" and doc["stats"]["message"] == "NotImplementedError"
    assert len(doc["unassigned"]) == len(inst.cases)
    assert "Traceback" in capsys.readouterr().err


def test_a_malformed_instance_exits_2_and_writes_nothing(tmp_path, capsys):
    doc = document([{"id": "F1", "tier": "hospital", "lat": 0, "lon": 0, "capacity": {}}],
                   [{"id": "C1", "service": "s", "priority": "vip", "lat": 95, "lon": 0}])
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc))
    assert cli.main([str(path), "-o", str(tmp_path / "out.json")]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "facilities[0].tier: must be one of centre, station, clinic",
        "cases[0].priority: must be one of child, severe, poor, standard",
        "cases[0].lat: must be between -90 and 90"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]


def test_not_json_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text('{"format": ')
    assert cli.main([str(path), "-o", str(tmp_path / "out.json")]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{path}:1:") and "not valid JSON" in line
    assert not (tmp_path / "out.json").exists()


def test_an_unreadable_file_exits_2(tmp_path, capsys):
    assert cli.main([str(tmp_path / "missing.json"), "-o", str(tmp_path / "out.json")]) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"{tmp_path / 'missing.json'}: cannot read")


def test_an_output_directory_that_does_not_exist_exits_2(files, capsys):
    _, instance_path, out = files
    assert cli.main([str(instance_path), "-o", str(out.parent / "no" / "s.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_usage_errors_exit_2(files):
    _, instance_path, _ = files
    assert cli.main([str(instance_path)]) == 2  # no -o
    assert cli.main([str(instance_path), "-o", "x.json", "--time-limit", "-1"]) == 2
    assert cli.main([str(instance_path), "-o", "x.json", "--baseline", "random"]) == 2
    assert cli.main(["check", str(instance_path)]) == 2


def test_check_command(files, capsys):
    inst, instance_path, out = files
    assert cli.main([str(instance_path), "-o", str(out), "--baseline", "greedy"]) == 0
    assert cli.main(["check", str(instance_path), str(out)]) == 0
    assert "ok" in capsys.readouterr().out
    doc = read_solution(out)
    doc["objective"] += 1
    out.write_text(json.dumps(doc))
    assert cli.main(["check", str(instance_path), str(out)]) == 1
    assert capsys.readouterr().out.startswith("objective: ")
    out.write_text("{}")
    assert cli.main(["check", str(instance_path), str(out)]) == 2


def test_python_dash_m_solver_runs(files):
    inst, instance_path, out = files
    run = subprocess.run([sys.executable, "-m", "solver", str(instance_path), "-o", str(out),
                          "--baseline", "greedy"], cwd=ROOT, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("feasible: objective")
    check = subprocess.run([sys.executable, "-m", "solver", "check", str(instance_path),
                            str(out)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout + check.stderr
    bad = subprocess.run([sys.executable, "-m", "solver", str(out), "-o", str(out) + ".x"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and not Path(str(out) + ".x").exists()
    assert bad.stderr.splitlines()[0] == 'format: must be "rehab-net.instance/1"'
