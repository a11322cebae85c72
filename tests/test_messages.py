"""Errors carry codes (issue 13, item 5): every refusal is a code of the catalogue
(rehab_net/messages.py) with parameters. The API body names the code and the parameters next to
the English text; a page shows the catalogue's text in the user's language. Checked here: the
catalogue is complete in Chinese, every code the source raises is defined, a problem body, and
four refusals on zh-CN pages (a referral to the wrong tier, a resident ID's check character, a
grant refusal, a booking conflict)."""
from __future__ import annotations

import ast
import re
from datetime import UTC, date, datetime
from importlib import import_module
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from marshmallow import ValidationError, validate

import rehab_net
from rehab_net.booking import operations as booking
from rehab_net.errors import Conflict, field_error
from rehab_net.messages import CATALOGUE, Message, message
from tests.booking_world import at, make_slot, next_monday
from tests.factories import create_case, create_person, log_in
from tests.responses import csrf_token, idempotency_key

ROOT = Path(rehab_net.__file__).parent
ZH_PO = ROOT / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
PACKAGES = ("auth", "booking", "catalogue", "certificates", "coverage", "network", "people",
            "planning", "referrals", "reports")
CODE = re.compile(r"^[a-z_]+\.[a-z_]+$")
# Calls whose first string argument is a code (field_error: the second).
RAISERS = {"DomainError", "Forbidden", "NotFound", "Conflict", "Invalid", "PreconditionFailed",
           "PreconditionRequired", "Unauthenticated", "TooManyAttempts", "LoginFailed",
           "QueueUnavailable", "IdentifierError", "message", "Message"}


def _all_codes() -> dict[str, str]:
    for package in PACKAGES:
        import_module(f"rehab_net.{package}.messages")
    return CATALOGUE


def test_every_code_has_a_chinese_translation_with_the_same_placeholders():
    with open(ZH_PO, "rb") as f:
        catalog = read_po(f)
    bad = []
    for code, msgid in _all_codes().items():
        entry = catalog.get(msgid)
        if entry is None or not entry.string or entry.fuzzy:
            bad.append((code, msgid, "no translation"))
        elif not set(PLACEHOLDER.findall(entry.string)) <= set(PLACEHOLDER.findall(msgid)):
            # a translation may leave one out (Chinese has no article), never add one
            bad.append((code, msgid, "placeholders differ"))
    assert bad == []


NOT_PARAMS = {"errors", "headers", "audit", "location", "reason", "retry_after"}


def _literal_codes():
    """(file, line, code, the parameters given) of every code literal given to a raise helper in
    rehab_net/."""
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            args = node.args[1:2] if name == "field_error" else (
                node.args[:1] if name in RAISERS else [])
            for arg in args:
                for const in ast.walk(arg):  # also "a" if x else "b"
                    if isinstance(const, ast.Constant) and isinstance(const.value, str) \
                            and CODE.match(const.value):
                        given = {k.arg for k in node.keywords} - NOT_PARAMS
                        yield path.relative_to(ROOT), node.lineno, const.value, given


def test_every_code_raised_in_the_source_is_defined():
    catalogue = _all_codes()
    found = list(_literal_codes())
    assert len(found) > 200  # the scan sees the raise sites
    assert [f for f in found if f[2] not in catalogue] == []
    # and with the parameters its message names (a missing one would be a 500)
    assert [f for f in found if f[3] != set(PLACEHOLDER.findall(catalogue[f[2]]))] == []


def test_a_message_is_its_english_text_and_keeps_code_and_params():
    _all_codes()
    rule = message("referral.service_not_offered", code="CT01", service="autism_training")
    assert rule == "CT01 does not offer autism_training" and isinstance(rule, str)
    assert (rule.code, rule.params) == ("referral.service_not_offered",
                                       {"code": "CT01", "service": "autism_training"})
    err = field_error("service_code", "referral.service_not_offered", code="CT01",
                      service="autism_training")
    assert err.detail == "service_code: CT01 does not offer autism_training"
    assert err.code == "referral.service_not_offered"
    assert Conflict("Plain text, not coded yet.").code == "conflict"  # the status's code
    # a marshmallow validator's error keeps its code (they .format() it)
    with pytest.raises(ValidationError) as caught:
        validate.Regexp("^x$", error=message("field.code_format"))("y")
    assert caught.value.messages[0].code == "field.code_format"
    assert isinstance(Conflict("referral.not_found", code="R1").detail, Message)


def test_a_problem_body_names_the_code_and_params(anonymous, world):
    headers = {"Authorization": f"Bearer {world['tokens']['admin']}"}
    got = anonymous.post("/api/v1/users/managed/grants", headers=headers,
                         json={"role": "auditor", "place": "150702"})
    assert got.status_code == 422
    body = got.get_json()
    assert body["detail"] == "role: only an administrator of the whole network grants this role"
    assert body["code"] == "auth.grant_network_admin_only" and body["params"] == {"field": "role"}
    assert body["errors"] == [{"in": "json", "field": "role", "code": body["code"], "params": {},
                               "rule": "only an administrator of the whole network grants "
                                       "this role"}]
    got = anonymous.get("/api/v1/users/nobody", headers=headers)
    assert got.status_code == 404
    assert (got.get_json()["code"], got.get_json()["params"]) == (
        "auth.user_not_found", {"username": "nobody"})
    got = anonymous.get("/api/v1/regions?page=0", headers=headers)  # marshmallow's own rule
    assert got.status_code == 422
    assert got.get_json()["code"] == "invalid"
    assert all(e["code"] == "field.invalid" for e in got.get_json()["errors"])


# --- refusals on zh-CN pages ---------------------------------------------------------------------
def _error(html: str, field: str) -> str:
    return re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', html, re.S).group(1)


def test_a_grant_refusal_on_the_users_page_is_chinese(app, world):
    c = app.test_client()
    log_in(c, world["users"]["admin"])
    html = c.get("/admin/users/managed").get_data(as_text=True)
    got = c.post("/admin/users/managed", data={"action": "grant", "role": "auditor",
                                               "place": "150702", "csrf_token": csrf_token(html)})
    assert got.status_code == 422
    assert "只有全网管理员可以授予此角色" in _error(got.get_data(as_text=True), "role")


def test_a_resident_id_check_character_on_the_case_form_is_chinese(client, session):
    from tests.factories import tiny_network

    tiny_network(session)
    person = create_person(session, birth_date=date(2021, 3, 4))
    session.commit()
    rid = person.resident_id
    wrong = rid[:17] + ("0" if rid[17] != "0" else "1")
    html = client.get(f"/cases/new?person={person.code}").get_data(as_text=True)
    form = {"csrf_token": csrf_token(html), "code": "KCERT", "person_code": person.code,
            "category": "physical", "grade": "2", "service_code": "physical_follow_up",
            "registered_on": "2026-01-05", "certificate_number": wrong + "42"}
    got = client.post("/cases/new", data=form)
    assert got.status_code == 422
    assert "校验码不符" in _error(got.get_data(as_text=True), "certificate_number")
    # a parameter that is a vocabulary value shows its label: the category, not "physical"
    got = client.post("/cases/new", data={**form, "certificate_number": rid + "62"})
    error = _error(got.get_data(as_text=True), "certificate_number")
    assert "类别位 6" in error and "physical" not in error


def test_a_referral_to_the_wrong_tier_on_the_form_is_chinese(app, session):
    from tests.factories import create_user, tiny_network

    net = tiny_network(session)
    child = create_person(session, birth_date=date(2022, 5, 1))
    create_case(session, child, code="KTIER")
    staff = create_user(session, "tierstaff", grants=[("clinic", net["station"])])
    session.commit()
    c = app.test_client()
    log_in(c, staff)
    html = c.get("/referrals/new?case=KTIER").get_data(as_text=True)
    got = c.post("/referrals/new", data={
        "csrf_token": csrf_token(html), "case_code": "KTIER", "receiver_code": "CT01",
        "direction": "down", "urgency": "routine", "reason": "assessment", "send": "1"})
    assert got.status_code == 422
    error = _error(got.get_data(as_text=True), "direction")
    assert "下转" in error and "lower tier" not in error


def test_a_booking_conflict_on_the_booking_page_is_chinese(app, w, session):
    coord = app.test_client()
    log_in(coord, w["users"]["coord"])
    monday = next_monday()
    slot = make_slot(session, w, at(monday, 9))
    session.commit()
    code = w["referrals"][1].code
    html = coord.get(f"/referrals/{code}/book?start={monday.isoformat()}").get_data(as_text=True)
    with app.app_context():
        booking.book(session, referral=w["referrals"][0], slot_id=slot.id, hold=False,
                     principal=None, now=datetime.now(UTC))
        session.commit()
    got = coord.post(f"/referrals/{code}/book", data={
        "csrf_token": csrf_token(html), "idempotency_key": idempotency_key(html), "mode": "book",
        "slot_id": str(slot.id), "start": monday.isoformat()})
    assert got.status_code == 409
    text = got.get_data(as_text=True)
    assert "has no free place" not in text and "Every place" not in text
    said = re.search(r'<p class="flash flash-error" role="alert" id="slot-error">(.*?)</p>',
                     text, re.S).group(1)
    assert "该时段的名额已被约满" in said  # the page's own sentence for booking.slot_full_rule


def test_a_page_shows_vocabulary_parameters_by_their_labels(app):
    _all_codes()
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        said = message("auth.facility_role_place", role="coordinator").translated()
        assert "康复中心协调员" in said and "coordinator" not in said
        said = message("referral.changed_meanwhile", state="accepted").translated()
        assert "accepted" not in said and said.startswith("他人已先修改此转诊")
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert message("referral.changed_meanwhile", state="accepted").translated() == (
            "Someone else changed this referral first: it is now Accepted.")
