"""The benchmark generator: valid contract files, deterministic per seed, with the intended mix."""
from __future__ import annotations

import numpy as np

from benchmarks.generate_instances import HORIZON, generate, main
from solver.check import check_solution
from solver.greedy import greedy
from solver.io import read_instance, solution_to_dict, write_instance
from tests.solver.builders import assert_instances_equal


def test_generated_file_is_valid_and_deterministic(tmp_path):
    assert main(["--cases", "3000", "--seed", "5", "-o", str(tmp_path / "a.json")]) == 0
    assert main(["--cases", "3000", "--seed", "5", "-o", str(tmp_path / "b.json")]) == 0
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    inst = read_instance(tmp_path / "a.json")
    assert len(inst.cases) == 3000 and inst.horizon_weeks == HORIZON


def test_generated_instance_is_what_the_file_holds(tmp_path):
    inst = generate(2000, seed=3, region="province")
    assert inst.services == sorted(inst.services)
    write_instance(inst, tmp_path / "p.json")
    assert_instances_equal(read_instance(tmp_path / "p.json"), inst)


def test_mix_of_cases_and_capacity():
    inst = generate(20_000, seed=2, region="city")
    c, f = inst.cases, inst.facilities
    shares = np.bincount(c.priority, minlength=4) / len(c)
    assert np.allclose(shares, [0.15, 0.35, 0.15, 0.35], atol=0.02)
    assert abs((c.release == 0).mean() - 0.8) < 0.02
    assert abs(np.isfinite(c.max_travel_km).mean() - 0.5) < 0.02
    assert 0.01 < (c.current_facility >= 0).mean() < 0.03
    children = c.priority == 0
    inside = (c.deadline[children] < HORIZON).mean()
    assert 0.02 < inside < 0.06 and (c.deadline[~children] == np.iinfo(np.int32).max).all()
    supply = f.capacity.sum(axis=(0, 2)) / np.bincount(c.service, minlength=len(inst.services))
    assert 0.7 <= f.capacity.sum() / len(c) <= 0.9
    assert supply[inst.services.index("autism_training")] < 0.55
    assert supply[inst.services.index("hearing_training")] < 0.6
    # Cases live in villages: far fewer distinct places than cases.
    assert len(set(zip(c.lat.tolist(), c.lon.tolist(), strict=True))) < 1500


def test_province_geography_and_a_valid_baseline_plan():
    inst = generate(5_000, seed=1, region="province")
    f = inst.facilities
    assert 97 <= f.lon.min() and f.lon.max() <= 126 and 37 <= f.lat.min() and f.lat.max() <= 53
    assert np.bincount(f.tier, minlength=3)[1] > 900  # a station per township
    solution = greedy(inst)
    assert check_solution(inst, solution_to_dict(solution, inst)) == []
