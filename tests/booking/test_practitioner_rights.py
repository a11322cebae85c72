"""A practitioner is changed, and given one more site, only by staff of a facility where they
already practise (and, for a new site, of that one too); anyone else gets the 404 booking answers
for what lies outside a user's facilities. TH1 practises at the centre CT01 only."""
from __future__ import annotations

from rehab_net.booking.models import ScheduleRule
from tests.booking_world import api, rule_body
from tests.factories import create_user, token_for

SITES = "/api/v1/practitioners/TH1/facilities"
ITEM = "/api/v1/practitioners/TH1"


def sites_of(anonymous, w, who="coord"):
    got = api(anonymous, w, who, "GET", ITEM)
    assert got.status_code == 200
    return sorted(got.json["facility_codes"])


def test_staff_of_another_facility_cannot_take_over_a_practitioner(anonymous, w, session):
    rule = api(anonymous, w, "coord", "POST", "/api/v1/schedule-rules",
               rule_body(practitioner_code="TH1"))
    assert rule.status_code == 201
    grab = api(anonymous, w, "staff", "POST", SITES, {"facility_code": "ST150702001"})
    assert grab.status_code == 404 and grab.json["status"] == 404
    retire = api(anonymous, w, "staff", "PATCH", ITEM, {"active": False})
    assert retire.status_code == 404
    rename = api(anonymous, w, "staff", "PATCH", ITEM, {"name": "x"})
    assert rename.status_code == 404
    assert sites_of(anonymous, w) == ["CT01"]
    session.expire_all()
    assert all(r.active for r in session.query(ScheduleRule).all())


def test_staff_where_the_practitioner_practises_change_them(anonymous, w, session):
    assert api(anonymous, w, "coord", "PATCH", ITEM, {"name": "王医生"}).status_code == 200
    # the centre's coordinator may not add a site that is not theirs
    other = api(anonymous, w, "coord", "POST", SITES, {"facility_code": "ST150702001"})
    assert other.status_code == 422 and other.json["errors"][0]["field"] == "facility_code"
    both = create_user(session, "both", grants=[("coordinator", w["centre"]),
                                                ("clinic", w["station"])])
    session.commit()
    w["tokens"]["both"] = token_for(session, both)
    added = api(anonymous, w, "both", "POST", SITES, {"facility_code": "ST150702001"})
    assert added.status_code == 201
    assert sites_of(anonymous, w) == ["CT01", "ST150702001"]
    # now the station's staff may change TH1 too
    assert api(anonymous, w, "staff", "PATCH", ITEM, {"active": False}).status_code == 200
