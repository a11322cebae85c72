"""KPIs of a small hand-checked instance, exactly."""
from __future__ import annotations

from rehab_net.planning import kpis

INSTANCE = {
    "format": "rehab-net.instance/1", "name": "hand", "horizon_weeks": 12,
    "policy": {},
    "facilities": [
        {"id": "C", "tier": "centre", "lat": 0, "lon": 0, "capacity": {"s": 1}},        # 12
        {"id": "S", "tier": "station", "lat": 0, "lon": 0, "capacity": {"s": [1] + [0] * 11}},
    ],
    "cases": [
        {"id": "c1", "service": "s", "priority": "child", "lat": 0, "lon": 0},
        {"id": "c2", "service": "s", "priority": "child", "lat": 0, "lon": 0,
         "release_week": 2},
        {"id": "c3", "service": "s", "priority": "severe", "lat": 0, "lon": 0},
        {"id": "c4", "service": "s", "priority": "standard", "lat": 0, "lon": 0},
        {"id": "c5", "service": "s", "priority": "poor", "lat": 0, "lon": 0},
    ],
}
SOLUTION = {
    "status": "optimal", "objective": 1234.5,
    "assignments": [
        {"case": "c1", "facility": "S", "week": 0, "road_km": 10.0},
        {"case": "c2", "facility": "C", "week": 5, "road_km": 250.0},   # waited 3 weeks
        {"case": "c3", "facility": "C", "week": 11, "road_km": 40.0},
    ],
    "unassigned": [{"case": "c4", "reason": "capacity"},
                   {"case": "c5", "reason": "no_eligible_facility"}],
}
CASE_DISTRICT = {"c1": "A", "c2": "A", "c3": "B", "c4": "B", "c5": None}
FACILITY_DISTRICT = {"C": "A", "S": "B"}


def test_kpis_of_a_hand_checked_instance():
    k = kpis.compute(INSTANCE, SOLUTION, CASE_DISTRICT, FACILITY_DISTRICT)
    assert k["objective"] == 1234.5 and k["cases"] == 5 and k["placed"] == 3
    assert k["by_priority"] == {"child": {"cases": 2, "placed": 2},
                                "severe": {"cases": 1, "placed": 1},
                                "poor": {"cases": 1, "placed": 0},
                                "standard": {"cases": 1, "placed": 0}}
    assert (k["children_within_4_weeks"], k["children_within_12_weeks"]) == (1, 2)
    assert (k["wait_weeks_median"], k["wait_weeks_p90"]) == (3.0, 11.0)   # waits 0, 3, 11
    assert (k["road_km_median"], k["road_km_p90"]) == (40.0, 250.0)
    assert k["share_over_200_km"] == round(1 / 3, 4)
    assert k["unplaced_by_reason"] == {"capacity": 1, "no_eligible_facility": 1}
    assert k["utilisation"]["tier"]["centre"] == {"used": 2, "offered": 12, "share": 0.1667}
    assert k["utilisation"]["tier"]["station"] == {"used": 1, "offered": 1, "share": 1.0}
    assert k["utilisation"]["tier"]["clinic"] == {"used": 0, "offered": 0, "share": None}
    assert k["utilisation"]["district"]["B"]["share"] == 1.0
    assert k["districts"]["A"]["placed"] == 2 and k["districts"]["B"]["placed"] == 1
    assert k["districts"]["None"]["unplaced_by_reason"] == {"no_eligible_facility": 1}


def test_deltas_subtract_every_shared_number():
    base = kpis.compute(INSTANCE, SOLUTION, CASE_DISTRICT, FACILITY_DISTRICT)
    better = dict(SOLUTION, objective=1000.0, unassigned=[{"case": "c5",
                  "reason": "no_eligible_facility"}],
                  assignments=SOLUTION["assignments"] + [
                      {"case": "c4", "facility": "C", "week": 1, "road_km": 5.0}])
    d = kpis.deltas(base, kpis.compute(INSTANCE, better, CASE_DISTRICT, FACILITY_DISTRICT))
    assert d["objective"] == -234.5 and d["placed"] == 1
    assert d["by_priority"]["standard"] == {"cases": 0, "placed": 1}


def test_changes_never_touch_the_input_and_do_what_they_say():
    import copy

    import pytest

    from rehab_net.planning import changes

    attrs = {c["id"]: {"district": CASE_DISTRICT[c["id"]], "category": "autism"}
             for c in INSTANCE["cases"]}
    before = copy.deepcopy(INSTANCE)
    out, new_attrs = changes.apply(INSTANCE, [
        {"kind": "capacity", "facility": "C", "service": "s", "from_week": 0, "to_week": 1,
         "delta": 2},
        {"kind": "outreach", "facility": "S", "service": "s", "week": 3, "places": 5},
        {"kind": "open_facility", "code": "N", "tier": "station", "lat": 1, "lon": 1,
         "capacity": {"s": 3}},
        {"kind": "demand", "district": "A", "percent": 50},
        {"kind": "demand", "priority": "standard", "count": -1},
        {"kind": "policy", "values": {"wait_cost_per_week": 1.0}},
    ], attrs)
    assert INSTANCE == before  # the live instance is never changed
    caps = {f["id"]: f["capacity"] for f in out["facilities"]}
    assert caps["C"]["s"][:3] == [3, 3, 1] and caps["S"]["s"][3] == 5 and caps["N"] == {"s": 3}
    ids = [c["id"] for c in out["cases"]]
    assert "c1+1" in ids and "c4" not in ids and len(ids) == 5  # +1 of 2 in A, -1 standard
    assert new_attrs["c1+1"]["district"] == "A"
    assert out["policy"] == {"wait_cost_per_week": 1.0}
    with pytest.raises(changes.ChangeError, match=r"changes\[0\].facility: X is not"):
        changes.apply(INSTANCE, [{"kind": "close_facility", "facility": "X"}], attrs)



def test_a_policy_change_merges_weight_tables_key_by_key():
    from rehab_net.planning import changes

    base = dict(INSTANCE, policy={"priority_weights": {"child": 8, "severe": 4},
                                  "wait_cost_per_week": 100.0})
    out, _ = changes.apply(base, [{"kind": "policy", "values": {
        "priority_weights": {"child": 12}}}], {})
    assert out["policy"] == {"priority_weights": {"child": 12, "severe": 4},
                             "wait_cost_per_week": 100.0}
