"""The network API on both databases: listing, filters, sorting, pagination, creation, updates
with If-Match, and problem+json for every failure."""
import json
from urllib.parse import quote

import pytest

from tests.factories import tiny_network
from tests.responses import fields_of, problem


@pytest.fixture
def net(session):
    r = tiny_network(session)
    session.commit()
    return r


def test_list_facilities_with_filters_sort_and_pagination(client, net):
    resp = client.get("/api/v1/facilities?sort=-code&page_size=1")
    assert resp.status_code == 200
    assert [f["code"] for f in resp.get_json()] == ["ST150702001"]
    paging = json.loads(resp.headers["X-Pagination"])
    assert paging["total"] == 2 and paging["total_pages"] == 2 and paging["next_page"] == 2
    resp = client.get("/api/v1/facilities?sort=-code&page_size=1&page=2")
    assert [f["code"] for f in resp.get_json()] == ["CT01"]
    assert [f["code"] for f in client.get("/api/v1/facilities?tier=station").get_json()] == \
        ["ST150702001"]
    # a region filter includes everything below it
    assert len(client.get("/api/v1/facilities?region=150700").get_json()) == 2
    assert [f["code"] for f in client.get("/api/v1/facilities?region=150702001").get_json()] == \
        ["ST150702001"]
    assert [f["code"] for f in
            client.get("/api/v1/facilities?service=autism_training").get_json()] == ["CT01"]


def test_list_regions_by_level_and_parent(client, net):
    villages = client.get("/api/v1/regions?level=village").get_json()
    assert [r["code"] for r in villages] == ["150702001001", "150702001002"]
    assert all(r["parent_code"] == "150702001" for r in villages)
    assert [r["code"] for r in client.get("/api/v1/regions?parent=150700").get_json()] == \
        ["150702"]
    assert client.get("/api/v1/regions?q=Hailar").get_json()[0]["code"] == "150702"


@pytest.mark.parametrize("q", ["%", "_", "Hail_r", "1507%", "\\"])
def test_search_wildcards_are_letters(client, net, q):
    """`%` and `_` in a search match themselves: `q=%` is not "everything"."""
    for url in (f"/api/v1/regions?q={quote(q)}", f"/api/v1/facilities?q={quote(q)}"):
        got = client.get(url)
        assert got.status_code == 200 and got.get_json() == [], (url, got.get_json())
    assert client.get("/api/v1/regions?q=1507").get_json()


@pytest.mark.parametrize("query, field", [
    ("tier=hospital", "tier"),
    ("sort=password", "sort"),
    ("page=0", "page"),
    ("page_size=100000", "page_size"),
    ("designated=perhaps", "designated"),
    ("region=999999", "region"),
    ("service=nope_training", "service"),
])
def test_bad_list_parameters_are_422_naming_the_parameter(client, net, query, field):
    body = problem(client.get(f"/api/v1/facilities?{query}"), 422)
    assert field in fields_of(body)
    assert all(e["in"] == "query" for e in body["errors"])


def test_get_one_and_404(client, net):
    resp = client.get("/api/v1/facilities/CT01")
    assert resp.status_code == 200 and resp.headers["ETag"]
    assert resp.get_json()["region_code"] == "150702"
    body = problem(client.get("/api/v1/facilities/NOPE"), 404)
    assert "NOPE" in body["detail"]


def test_create_facility_and_its_validation(client, net):
    good = dict(code="ST2", name_zh="新站", name_en="New Station", tier="station",
                region_code="150702001", lat=49.3, lon=119.8, ownership="contracted")
    resp = client.post("/api/v1/facilities", json=good)
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["status"] == "open" and resp.get_json()["designated"] is False
    problem(client.post("/api/v1/facilities", json=good), 409)
    bad = dict(good, code="bad code!", lat=91, tier="hospital", extra=1)
    body = problem(client.post("/api/v1/facilities", json=bad), 422)
    assert set(fields_of(body)) == {"code", "lat", "tier", "extra"}
    body = problem(client.post("/api/v1/facilities", json=dict(good, code="ST3",
                                                                region_code="000000")), 422)
    assert fields_of(body) == {"region_code": "000000 does not exist"}


@pytest.mark.parametrize("payload", [
    "not json", "[1, 2]", '{"lat": NaN}', "", '{"code": null}',
])
def test_malformed_bodies_are_4xx_never_500(client, net, payload):
    resp = client.post("/api/v1/facilities", data=payload, content_type="application/json")
    assert 400 <= resp.status_code < 500
    assert resp.mimetype == "application/problem+json"


def test_update_needs_if_match_and_detects_lost_updates(client, net):
    url = "/api/v1/facilities/CT01"
    etag = client.get(url).headers["ETag"]
    problem(client.patch(url, json={"designated": False}), 428)
    resp = client.patch(url, json={"designated": False}, headers={"If-Match": etag})
    assert resp.status_code == 200 and resp.get_json()["designated"] is False
    assert resp.get_json()["version"] == 2
    # the old ETag no longer matches: a second writer with a stale copy is refused
    problem(client.patch(url, json={"status": "closed"}, headers={"If-Match": etag}), 412)
    assert client.get(url).get_json()["status"] == "open"


def test_changing_tier_keeps_capacities_deliverable(client, net):
    url = "/api/v1/facilities/CT01"
    etag = client.get(url).headers["ETag"]
    body = problem(client.patch(url, json={"tier": "clinic"}, headers={"If-Match": etag}), 422)
    assert "autism_training" in fields_of(body)["tier"]


def test_capacities_history_and_in_force(client, net):
    url = "/api/v1/facilities/CT01/capacities"
    resp = client.post(url, json=dict(service_code="autism_training", effective_from="2027-01-01",
                                      weekly_intake=6, concurrent_places=30))
    assert resp.status_code == 201
    history = client.get(url).get_json()
    assert [(c["effective_from"], c["weekly_intake"]) for c in history] == \
        [("2026-01-01", 4), ("2027-01-01", 6)]
    assert [c["weekly_intake"] for c in client.get(url + "?on=2026-12-31").get_json()] == [4]
    assert [c["weekly_intake"] for c in client.get(url + "?on=2027-01-01").get_json()] == [6]
    assert client.get(url + "?on=2025-12-31").get_json() == []
    problem(client.post(url, json=dict(service_code="autism_training",
                                       effective_from="2027-01-01", weekly_intake=7,
                                       concurrent_places=30)), 409)
    body = problem(client.post(url, json=dict(service_code="physical_follow_up",
                                              effective_from="2027-01-01", weekly_intake=1,
                                              concurrent_places=1)), 422)
    assert "not delivered at tier centre" in fields_of(body)["service_code"]
    body = problem(client.post(url, json=dict(service_code="autism_training",
                                              effective_from="2027-02-01", weekly_intake=2.5,
                                              concurrent_places=-1)), 422)
    assert set(fields_of(body)) == {"weekly_intake", "concurrent_places"}


def test_services_catalogue(client, net):
    resp = client.post("/api/v1/services", json=dict(
        category="hearing", kind="assessment", name_zh="听力评估", name_en="Hearing assessment",
        tiers=["centre"], duration_minutes=90))
    assert resp.status_code == 201 and resp.get_json()["code"] == "hearing_assessment"
    body = problem(client.post("/api/v1/services", json=dict(
        category="hearing", kind="surgery", name_zh="x", name_en="x", tiers=["centre", "centre"],
        duration_minutes=0)), 422)
    assert set(fields_of(body)) == {"tiers", "duration_minutes"}
    codes = [s["code"] for s in client.get("/api/v1/services?tier=clinic").get_json()]
    assert codes == ["physical_follow_up"]
    url = "/api/v1/services/autism_training"
    etag = client.get(url).headers["ETag"]
    body = problem(client.patch(url, json={"tiers": ["station"]}, headers={"If-Match": etag}),
                   422)
    assert "centre" in fields_of(body)["tiers"]


def test_region_rules(client, net):
    body = problem(client.post("/api/v1/regions", json=dict(
        code="150702001003", parent_code="150702", level="village", kind="gacha", name_zh="x",
        name_en="x", lat=49, lon=119)), 422)
    assert "must be a township" in fields_of(body)["parent_code"]
    body = problem(client.post("/api/v1/regions", json=dict(
        code="150702002", parent_code="150702", level="township", kind="gacha", name_zh="x",
        name_en="x", lat=49, lon=119)), 422)
    assert "kind" in fields_of(body)


def test_method_not_allowed_keeps_allow_header(client, net):
    resp = client.delete("/api/v1/facilities")
    problem(resp, 405)
    assert "GET" in resp.headers["Allow"]


def test_openapi_is_served(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/facilities/{code}" in spec["paths"]
    assert "/api/v1/cases" in spec["paths"]


def test_summary_counts_per_tier_and_district(client, net):
    s = client.get("/api/v1/summary").get_json()
    assert s["facilities"] == {"centre": 1, "station": 1, "clinic": 0}
    assert s["districts"][0]["code"] == "150702" and s["districts"][0]["station"] == 1


def test_database_enforces_vocabularies(session, net):
    """The CHECK constraints hold even for writes that bypass the operations."""
    from sqlalchemy import update
    from sqlalchemy.exc import IntegrityError

    from rehab_net.network.models import Facility

    with pytest.raises(IntegrityError):
        session.execute(update(Facility).where(Facility.code == "CT01").values(tier="hospital"))
        session.flush()
    session.rollback()


def test_nul_characters_are_refused_not_a_500(client, net):
    """Found by the fuzzer: PostgreSQL cannot store NUL; refuse it at the edge on both databases."""
    body = problem(client.post("/api/v1/facilities", json=dict(
        code="X1", name_zh="a\x00b", name_en="x", tier="station", region_code="150702001",
        lat=49, lon=119, ownership="public")), 422)
    assert fields_of(body) == {"name_zh": "must not contain NUL characters"}
    body = problem(client.get("/api/v1/facilities?service=D%00"), 422)
    assert fields_of(body) == {"service": "must not contain NUL characters"}
    problem(client.get("/api/v1/facilities/CT%00"), 404)
