"""The booking tests' world itself (tests/booking_world.py): one physician at two sites,
accepted referrals, no invariant broken."""
from tests.booking_world import invariants


def test_the_world_has_two_sites_for_one_physician(w, session):
    assert sorted(f.code for f in w["dr"].facilities) == ["CT01", "ST150702001"]
    assert all(r.state == "accepted" for r in w["referrals"])
    assert invariants(session) == {"over_capacity": [], "practitioner_overlap": [],
                                   "person_overlap": []}
