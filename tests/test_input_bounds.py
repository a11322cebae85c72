"""Input the database cannot hold never reaches it (defect 7 of issue 11): page numbers, ids in
paths and quarters out of range are a 4xx naming what is wrong, on the API and on the pages,
never a 500. And the query string keeps docs/api.md's promises (defect 8): integer filters take
digit strings, an unknown parameter is a 422 naming it.

Endpoints are discovered from the app itself (the OpenAPI description and the URL map), so a new
list or a new `<int:...>` route is covered without editing this file."""
from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter

from rehab_net import create_app
from rehab_net.config import TestConfig

HUGE = 2**63  # past SQLite's INTEGER: OverflowError before the fix
PAST_INT4 = 2**31  # past PostgreSQL's INTEGER, the type of every id column

_app = create_app(TestConfig)  # for discovery only: no request reaches its database
SPEC = _app.test_client().get("/api/v1/openapi.json").get_json()


def _operations():
    for path, item in SPEC["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "patch", "delete"):
                params = [*item.get("parameters", []), *op.get("parameters", [])]
                yield path, method, op, params


def _fill(path: str) -> str:
    """A concrete URL for an OpenAPI path: 1 for integer ids, a code for the rest (validation of
    the query string runs before any lookup, so the object need not exist)."""
    return re.sub(r"\{(\w+)\}", lambda m: "1" if m[1].endswith("_id") else "X1", path)


PAGED = sorted(path for path, method, _op, params in _operations()
               if method == "get" and any(p.get("name") == "page" for p in params))
WITH_QUERY = sorted(path for path, method, _op, params in _operations()
                    if method == "get" and any(p.get("in") == "query" for p in params))
INT_ROUTES = sorted(
    (rule.rule, sorted(rule.methods - {"HEAD", "OPTIONS"}))
    for rule in _app.url_map.iter_rules()
    if any(isinstance(c, IntegerConverter) for c in rule._converters.values()))
HTML_LISTS = ("/persons", "/cases")  # the pages that are paged


def test_discovery_found_the_endpoints():
    assert len(PAGED) >= 20 and "/api/v1/holidays" not in PAGED
    assert "/api/v1/holidays" in WITH_QUERY
    rules = {r for r, _m in INT_ROUTES}
    assert {"/api/v1/slots/<int:slot_id>", "/api/v1/tokens/<int:token_id>",
            "/booking/slots/<int:slot_id>"} <= rules


def _fields(resp, location="query") -> set[str]:
    assert resp.mimetype == "application/problem+json", resp.get_data(as_text=True)[:300]
    return {e["field"] for e in resp.get_json().get("errors", []) if e.get("in") == location}


def test_a_page_out_of_range_is_a_422_naming_page(client):
    for path in PAGED:
        for page in (HUGE, PAST_INT4, 0, -1, "1.5", "1e3", " 1"):
            resp = client.get(_fill(path), query_string={"page": page})
            assert resp.status_code == 422, (path, page, resp.status_code)
            assert "page" in _fields(resp), path
        for size in (0, 101, HUGE):
            resp = client.get(_fill(path), query_string={"page_size": size})
            assert "page_size" in _fields(resp), path


def test_paging_parameters_are_still_taken(client):
    for path in PAGED:
        resp = client.get(_fill(path), query_string={"page": 2, "page_size": 5})
        assert resp.status_code < 500, path
        if resp.status_code == 422:  # a required filter (availability's service), not paging
            assert not {"page", "page_size"} & _fields(resp), path


@pytest.mark.parametrize("path", HTML_LISTS)
def test_a_list_page_out_of_range_is_a_422(client, path):
    for page in (HUGE, PAST_INT4, 0, -1):
        assert client.get(path, query_string={"page": page}).status_code == 422, page
    assert client.get(path, query_string={"page": 2}).status_code == 200


def test_no_page_answers_500_to_a_huge_page_number(client):
    """Every parameterless GET page with ?page=2**63: whatever it does with it, not a 500."""
    for rule in _app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments and not rule.rule.startswith(
                ("/api/", "/static")):
            resp = client.get(rule.rule, query_string={"page": HUGE})
            assert resp.status_code < 500, rule.rule


def test_an_id_out_of_range_in_a_path_is_a_404(client):
    assert len(INT_ROUTES) >= 25
    for rule, methods in INT_ROUTES:
        for value in (HUGE, PAST_INT4):
            url = re.sub(r"<int(\([^)]*\))?:\w+>", str(value), rule)
            url = re.sub(r"<[^>]+>", "X1", url)
            for method in methods:
                resp = client.open(url, method=method)
                assert resp.status_code == 404, (method, url, resp.status_code)
                if url.startswith("/api/"):
                    assert resp.mimetype == "application/problem+json"


def test_the_largest_id_is_looked_up_and_not_found(client):
    assert client.get(f"/api/v1/slots/{PAST_INT4 - 1}").status_code == 404
    assert client.get(f"/booking/slots/{PAST_INT4 - 1}").status_code == 404


def test_a_quarter_out_of_range_is_a_422_naming_quarter(client):
    for quarter in ("9999-Q4", "0000-Q1", "2026-Q5", "1999-Q4", "2101-Q1", "٢٠٢٦-Q1", "26-Q9"):
        for method in ("GET", "PUT"):
            resp = client.open(f"/api/v1/reports/quarterly/{quarter}", method=method)
            assert resp.status_code == 422, (method, quarter, resp.status_code)
            rules = [e["rule"] for e in resp.get_json()["errors"] if e["field"] == "quarter"]
            assert rules and "2000" in rules[0]
        assert client.get(f"/reports/{quarter}").status_code == 422
        assert client.get(f"/reports/{quarter}.xlsx").status_code == 422


def test_documented_integer_filters_take_digit_strings(client):
    resp = client.get("/api/v1/holidays?year=2026")  # docs/api.md's example
    assert resp.status_code == 200 and resp.get_json()
    assert client.get("/api/v1/cases?grade=1").status_code == 200


def test_an_integer_filter_still_refuses_what_is_not_a_whole_number(client):
    for value in ("1.5", "1e3", " 1", "1 ", "true", "1_0", "١", "5", "-1"):
        resp = client.get("/api/v1/cases", query_string={"grade": value})
        assert resp.status_code == 422 and "grade" in _fields(resp), value


def test_integers_in_a_json_body_stay_strict(client):
    for value in ("2", 2.5, True):
        resp = client.post("/api/v1/appointments", json={"referral_code": "R1", "slot_id": value})
        assert resp.status_code == 422 and "slot_id" in _fields(resp, "json"), value
    resp = client.post("/api/v1/appointments", json={"referral_code": "R1", "slot_id": HUGE})
    assert resp.status_code == 422 and "slot_id" in _fields(resp, "json")


def test_an_unknown_query_parameter_is_a_422_naming_it(client):
    for path in WITH_QUERY:
        resp = client.get(_fill(path), query_string={"bogus": "1"})
        assert resp.status_code == 422, (path, resp.status_code)
        assert "bogus" in _fields(resp), path
    # lists that do not sort say so rather than ignoring it
    assert "sort" in _fields(client.get("/api/v1/notifications?sort=id"))


def test_a_booking_form_with_an_id_out_of_range_is_a_422(app, w):
    from tests.factories import log_in
    from tests.responses import csrf_token as _csrf
    from tests.responses import idempotency_key as _key

    coord = app.test_client()
    log_in(coord, w["users"]["coord"])
    code = w["referrals"][0].code
    for slot_id in (str(HUGE), str(PAST_INT4), "0", "-1", "1.5", " 7"):
        html = coord.get(f"/referrals/{code}/book").get_data(as_text=True)
        got = coord.post(f"/referrals/{code}/book", data={
            "csrf_token": _csrf(html), "idempotency_key": _key(html), "mode": "book",
            "slot_id": slot_id})
        assert got.status_code == 422, slot_id


def _example(schema: dict) -> str:
    """A well-formed value of a documented query parameter (codes need not exist)."""
    if "enum" in schema:
        return str(schema["enum"][0])
    kind, fmt, pattern = schema.get("type"), schema.get("format"), schema.get("pattern", "")
    if kind == "integer":
        return str(schema.get("minimum", 1))
    return {"number": "1", "boolean": "true"}.get(kind) or {
        "date": "2026-11-16", "date-time": "2026-11-16T00:00:00+08:00"}.get(fmt) or (
        "centre" if "centre" in pattern else "1,2" if pattern.startswith("^\\d") else "X1")


DOCUMENTED = sorted({(path, p["name"], _example(p.get("schema", {})))
                     for path, method, _op, params in _operations() if method == "get"
                     for p in params if p.get("in") == "query"})


def test_every_documented_query_parameter_is_taken(client):
    """What the OpenAPI description lists is never refused as unknown, and digit strings pass
    integer parameters (holidays?year=, cases?grade=, page=)."""
    assert len(DOCUMENTED) >= 100
    for path, name, value in DOCUMENTED:
        resp = client.get(_fill(path), query_string={name: value})
        assert resp.status_code < 500, (path, name, value)
        if resp.status_code == 422:  # e.g. a code that does not exist: a rule, not "unknown"
            errors = resp.get_json().get("errors", [])
            assert not [e for e in errors if e.get("field") == name and (
                "Unknown" in e["rule"] or "integer" in e["rule"])], (path, name, errors)


def test_the_comparison_page_takes_no_id_it_cannot_look_up(client):
    for query in ("base=²", "plan=²&plan=1", f"base={HUGE}", f"plan={HUGE}&compare=1",
                  f"plans=1,{HUGE}"):
        assert client.get(f"/compare?{query}").status_code < 500, query
