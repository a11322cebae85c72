"""Numbers the optimiser cannot turn into exact int64 costs are refused when the instance is read
(exit 2, the JSON path and the rule, nothing written), never solved into an "optimal" plan
without an objective (defect 12 of issue 11). See solver/limits.py for the bounds."""
from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from rehab_net.planning import optimiser_child, worker
from rehab_net.planning.models import Plan, Scenario
from solver.io import InstanceError, parse_instance, read_solution, write_solution
from solver.limits import MAX_AMOUNT
from solver.solve import solve
from tests.planning_helpers import waiting_list
from tests.solver.builders import case, document, facility

ROOT = Path(__file__).resolve().parents[2]


def small(policy: dict, priority: str = "standard") -> dict:
    """Two cases 1 degree of latitude (~144 road km) from one place a week for two weeks."""
    return document([facility("F1", lat=50.0, s=1)],
                    [case("C1", priority=priority), case("C2", priority=priority)],
                    horizon=2, policy=policy)


def nested(path: str, value) -> dict:
    """{"a": {"b": value}} for "a.b"."""
    head, _, rest = path.partition(".")
    return {head: nested(rest, value) if rest else value}


def run_cli(tmp_path: Path, text: str, *args: str) -> subprocess.CompletedProcess:
    instance = tmp_path / "instance.json"
    instance.write_text(text, encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "solver", str(instance), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


# json.dumps writes the tokens Infinity, -Infinity and NaN, which Python's json module reads back.
BAD = [1e308, float("inf"), float("-inf"), float("nan"), -1, 10**400]
POLICY_PATHS = ["unassigned_cost", "wait_cost_per_week", "travel_cost_per_km", "road_factor",
                "reassign_cost", "priority_weights.child", "tier_cost.centre"]


@pytest.mark.parametrize("value", BAD, ids=["1e308", "inf", "-inf", "nan", "-1", "10^400"])
def test_the_cli_refuses_an_absurd_unassigned_cost_naming_its_path(tmp_path, value):
    out = tmp_path / "solution.json"
    done = run_cli(tmp_path, json.dumps(small({"unassigned_cost": value})), "-o", str(out))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("policy.unassigned_cost: must be"), done.stderr
    assert not out.exists()


@pytest.mark.parametrize("path", POLICY_PATHS)
def test_every_policy_number_is_bounded(path):
    for value in (1e308, float("inf"), float("nan"), MAX_AMOUNT * 2):
        with pytest.raises(InstanceError) as refused:
            parse_instance(small(nested(path, value)))
        assert refused.value.problems[0].startswith(f"policy.{path}: must be"), value


def test_the_message_says_the_bound_and_why(tmp_path):
    done = run_cli(tmp_path, json.dumps(small({"unassigned_cost": 1e308})), "-o",
                   str(tmp_path / "s.json"))
    assert done.stderr.strip() == ("policy.unassigned_cost: must be at most 9007199254740992 "
                                   "(2^53: a larger amount cannot become an exact integer cost)")


def test_values_fine_alone_but_overflowing_together_are_refused(tmp_path):
    # 1e10 x 1e9 per unassigned case: each below 2^53, the product beyond int64 at any scale.
    text = json.dumps(small({"priority_weights": {"severe": 1e10}, "unassigned_cost": 1e9}))
    done = run_cli(tmp_path, text, "-o", str(tmp_path / "s.json"))
    assert done.returncode == 2
    assert done.stderr.startswith("policy.priority_weights.severe: too large for this "
                                  "instance: a case can cost up to 1e+19"), done.stderr
    assert not (tmp_path / "s.json").exists()


def test_the_largest_amount_is_accepted_and_solved_to_a_checked_optimum(tmp_path):
    out = tmp_path / "solution.json"
    text = json.dumps(small({"unassigned_cost": MAX_AMOUNT, "travel_cost_per_km": 10.0}))
    done = run_cli(tmp_path, text, "-o", str(out))
    assert done.returncode == 0, done.stderr
    solution = read_solution(out)
    assert solution["status"] == "optimal" and solution["unassigned"] == []
    assert solution["objective"] == pytest.approx(2 * 10 * 1.3 * 111.19 + 100, rel=1e-3)
    checked = subprocess.run([sys.executable, "-m", "solver", "check", str(tmp_path /
                              "instance.json"), str(out)], cwd=ROOT, capture_output=True,
                             text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_an_instance_built_around_the_validation_is_an_error_not_an_optimum():
    inst = parse_instance(small({}))
    huge = dataclasses.replace(inst, policy=dataclasses.replace(inst.policy,
                                                                unassigned_cost=1e308))
    solution = solve(huge)
    assert solution.status == "error" and solution.objective is None
    assert "too large" in solution.message


def test_no_solution_file_claims_a_status_without_an_objective(tmp_path):
    inst = parse_instance(small({}))
    solution = solve(inst)
    assert solution.status == "optimal"
    for objective in (None, float("inf"), float("nan")):
        bad = dataclasses.replace(solution, objective=objective)
        with pytest.raises(ValueError, match="only status error may lack one"):
            write_solution(bad, inst, tmp_path / "s.json")
        assert not (tmp_path / "s.json").exists()


# --- the app ----------------------------------------------------------------------------------
def test_the_optimiser_child_refuses_it_with_the_path():
    outcome = optimiser_child.run_in_child(small({"unassigned_cost": 1e308}), 5)
    assert outcome.kind == "error"
    assert outcome.message.startswith("The instance was refused by the optimiser: "
                                      "policy.unassigned_cost: must be at most")


def test_a_scenario_with_absurd_policy_weights_is_refused_naming_the_path(client, session):
    waiting_list(session, n=2)
    session.commit()
    for values, field in (({"unassigned_cost": 1e308}, "changes[0].values.unassigned_cost"),
                          ({"priority_weights": {"child": 1e9}},
                           "changes[0].values.priority_weights.child"),
                          ({"road_factor": -1}, "changes[0].values.road_factor")):
        got = client.post("/api/v1/scenarios", json={
            "name": "absurd", "changes": [{"kind": "policy", "values": values}]})
        assert got.status_code == 422, got.get_json()
        assert got.json["errors"][0]["field"] == field


def test_a_stored_scenario_with_absurd_weights_fails_its_plan_with_the_reason(app, client,
                                                                              session):
    waiting_list(session, n=2)
    # As written before the schema bounded scenario weights: straight into the table.
    scenario = Scenario(name="old", changes=[{"kind": "policy",
                                               "values": {"unassigned_cost": 1e308}}],
                        created_by="test")
    session.add(scenario)
    session.commit()
    got = client.post(f"/api/v1/scenarios/{scenario.id}/run", json={"horizon_weeks": 1})
    assert got.status_code == 202, got.get_json()
    plan_id = got.json["id"]
    assert worker.claim_next(app) == plan_id
    assert worker.run_claimed_plan(app, plan_id) == "error"
    session.expire_all()
    plan = session.get(Plan, plan_id)
    assert plan.status == "error"
    assert "policy.unassigned_cost: must be at most" in plan.message
