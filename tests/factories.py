"""Factories with overrides: each builds a valid object through the operations (so the rules
apply) and flushes. `tiny_network` gives the smallest tree that has every level; referrals,
appointments, schedule rules and plans are made as a user's request would make them, in an app
context of their own (the operations read the app's configuration: deadlines, the zone, the
booking window), with the test's session: `session.info["app"]` names the app
(tests/conftest.py)."""
from __future__ import annotations

import functools
import itertools
from datetime import date

from rehab_net.network import operations as network
from rehab_net.people import operations as people
from rehab_net.people.identifiers import make_resident_id

_seq = itertools.count(1)


def tiny_network(session) -> dict:
    """City 150700 > district 150702 > township 150702001 > villages ...001001 and ...001002;
    a centre and a station; services autism_training and physical_follow_up with capacities."""
    r = {}
    r["city"] = network.create_region(session, dict(
        code="150700", level="city", kind="city", name_zh="呼伦贝尔市", name_en="Hulunbuir",
        lat=49.21, lon=119.77))
    r["district"] = network.create_region(session, dict(
        code="150702", parent_code="150700", level="district", kind="district",
        name_zh="海拉尔区", name_en="Hailar District", lat=49.21, lon=119.77))
    r["township"] = network.create_region(session, dict(
        code="150702001", parent_code="150702", level="township", kind="street",
        name_zh="测试街道", name_en="Ceshi Street", lat=49.22, lon=119.75))
    for i in (1, 2):
        r[f"village{i}"] = network.create_region(session, dict(
            code=f"15070200100{i}", parent_code="150702001", level="village", kind="community",
            name_zh=f"测试社区{i}", name_en=f"Ceshi Community {i}", lat=49.2 + i / 100, lon=119.7))
    r["autism_training"] = network.create_service(session, dict(
        category="autism", kind="training", name_zh="孤独症康复训练", name_en="Autism training",
        tiers=["centre", "station"], home_ok=False, duration_minutes=60))
    r["physical_follow_up"] = network.create_service(session, dict(
        category="physical", kind="follow_up", name_zh="肢体随访", name_en="Physical follow-up",
        tiers=["station", "clinic"], home_ok=True, duration_minutes=30))
    r["centre"] = network.create_facility(session, dict(
        code="CT01", name_zh="市残疾人康复中心", name_en="City Rehab Centre", tier="centre",
        region_code="150702", lat=49.21, lon=119.77, ownership="public", designated=True,
        status="open"))
    r["station"] = network.create_facility(session, dict(
        code="ST150702001", name_zh="测试街道康复站", name_en="Ceshi Street Station",
        tier="station", region_code="150702001", lat=49.22, lon=119.75, ownership="public",
        designated=False, status="open"))
    network.set_capacity(session, r["centre"], dict(
        service_code="autism_training", effective_from=date(2026, 1, 1), weekly_intake=4,
        concurrent_places=20))
    network.set_capacity(session, r["station"], dict(
        service_code="physical_follow_up", effective_from=date(2026, 1, 1), weekly_intake=10,
        concurrent_places=40))
    return r


def other_station(session):
    """A second station, ST2, in tiny_network's township: the facility of a stranger to the
    station's and the centre's referrals and appointments."""
    return network.create_facility(session, dict(
        code="ST2", name_zh="另一康复站", name_en="Other station", tier="station",
        region_code="150702001", lat=49.3, lon=119.9, ownership="public", designated=False,
        status="open"))


def add_clinics(session, n: int, *, region_code: str = "150702001001") -> list:
    """n open clinics CL001.. in a village of tiny_network: a network-wide user's long list."""
    return [network.create_facility(session, dict(
        code=f"CL{i:03d}", name_zh=f"测试卫生室{i}", name_en=f"Test Clinic {i}", tier="clinic",
        region_code=region_code, lat=49.21, lon=119.7, ownership="public", designated=False,
        status="open")) for i in range(1, n + 1)]


def two_district_network(session) -> dict:
    """tiny_network (Hailar 150702: the centre CT01, the station ST150702001) and a second
    district, New Barag 150727, with township 150727001, village 150727001001 (``village3``)
    and the station ST150727001 (``station2``): for in-scope / out-of-scope tests."""
    r = tiny_network(session)
    r["district2"] = network.create_region(session, dict(
        code="150727", parent_code="150700", level="district", kind="banner", name_zh="新右旗",
        name_en="New Barag Right Banner", lat=48.67, lon=116.82))
    r["township2"] = network.create_region(session, dict(
        code="150727001", parent_code="150727", level="township", kind="sumu", name_zh="示例苏木",
        name_en="Shili Sumu", lat=48.5, lon=116.5))
    r["village3"] = network.create_region(session, dict(
        code="150727001001", parent_code="150727001", level="village", kind="gacha",
        name_zh="示例嘎查", name_en="Shili Gacha", lat=48.45, lon=116.4))
    r["station2"] = network.create_facility(session, dict(
        code="ST150727001", name_zh="示例苏木康复站", name_en="Shili Sumu Station", tier="station",
        region_code="150727001", lat=48.5, lon=116.5, ownership="public", designated=False,
        status="open"))
    return r


def create_person(session, **overrides):
    n = next(_seq)
    birth = overrides.pop("birth_date", date(1980, 5, 17))
    data = dict(code=f"P{n:06d}", name=f"测试{n}",
                resident_id=make_resident_id("150702", birth, n % 1000),
                home_region_code="150702001001", poverty_status="none")
    data.update(overrides)
    return people.create_person(session, data)


def create_case(session, person=None, **overrides):
    person = person or create_person(session)
    n = next(_seq)
    data = dict(code=f"K{n:06d}", person_code=person.code, category="autism", grade=3,
                service_code="autism_training", registered_on=date(2026, 10, 1))
    data.update(overrides)
    return people.create_case(session, data, today=date(2026, 11, 16))


# --- referrals, appointments, schedules, plans -------------------------------------------------
def app_context_of(session):
    """An app context of the app whose database ``session`` is on (set by the `session`
    fixture): for the operations below, which read the app's configuration."""
    return session.info["app"].app_context()


REFERRAL_PATHS = {  # how to reach each state from a new draft
    "draft": [], "sent": ["send"], "received": ["send", "receive"],
    "accepted": ["send", "receive", "accept"], "declined": ["send", "receive", "decline"],
    "returned": ["send", "receive", "return"],
    "in_progress": ["send", "receive", "accept", "start"],
    "completed": ["send", "receive", "accept", "start", "complete"],
    "closed": ["send", "receive", "accept", "start", "complete", "acknowledge"],
    "cancelled": ["cancel"], "expired": ["send", "expire"],
}
# What the steps that need words are given.
REFERRAL_STEP_TEXT = {"reason": "a reason given", "reason_code": "no_capacity",
                      "outcome": "assessed; 12 weeks"}
_STEP_NEEDS = {"return": ("reason",), "cancel": ("reason",), "decline": ("reason", "reason_code"),
               "complete": ("outcome",)}


def create_referral(session, state="draft", *, now, today, **overrides):
    """A referral created and walked into ``state`` through the operations, all at ``now``.
    ``overrides`` are its fields: case_code, sender_code and receiver_code at least."""
    from rehab_net.referrals.operations import workflow

    data = dict(direction="up", urgency="routine", reason="needs an autism assessment")
    data.update(overrides)
    with app_context_of(session):
        referral = workflow.create_referral(session, data, principal=None, now=now, today=today)
        for step in REFERRAL_PATHS[state]:
            workflow.transition(session, referral, step, principal=None, now=now,
                                **{k: REFERRAL_STEP_TEXT[k] for k in _STEP_NEEDS.get(step, ())})
    return referral


def create_appointment(session, referral, slot, *, now, hold=False):
    """A place of ``slot`` booked (or, with ``hold``, held) for ``referral``."""
    from rehab_net.booking import operations as booking

    with app_context_of(session):
        appointment, _created = booking.book(session, referral=referral, slot_id=slot.id,
                                             hold=hold, principal=None, now=now)
    return appointment


def create_schedule(session, *, today, now, **overrides):
    """A weekly rule of DR1 at CT01, autism training, Monday to Friday 09:00-12:00 in 60-minute
    slots of one place, and its slots: returns (rule, counts) as the operation does."""
    from datetime import time

    from rehab_net.booking import schedules

    data = dict(practitioner_code="DR1", facility_code="CT01", service_code="autism_training",
                weekdays=[1, 2, 3, 4, 5], start_time=time(9), end_time=time(12), slot_minutes=60,
                places=1)
    data.update(overrides)
    with app_context_of(session):
        return schedules.create_rule(session, data, principal=None, today=today, now=now)


def create_plan(session, *, today, **overrides):
    """A queued plan; ``overrides`` are the request's fields (horizon_weeks, policy, ...)."""
    from rehab_net.planning import operations as plans

    with app_context_of(session):
        return plans.create_plan(session, overrides, today=today, default_time_limit=10)


# --- users ----------------------------------------------------------------------------------------
TEST_PASSWORD = "correct horse battery"


def create_user(session, username="user", *, grants=(), password=TEST_PASSWORD,
                display_name=None):
    """A user with ``grants``: (role, place) pairs, the place a Facility, a Region or None (the
    whole network). Rows are made directly, so a test may give any role any place."""
    from rehab_net.auth.models import RoleGrant, User
    from rehab_net.network.models import Facility

    user = User(username=username, display_name=display_name or username.title(),
                password_hash=_hash(password))
    for role, place in grants:
        if isinstance(place, Facility):
            user.grants.append(RoleGrant(role=role, facility=place))
        else:
            user.grants.append(RoleGrant(role=role, region=place))
    session.add(user)
    session.flush()
    return user


@functools.cache
def _hash(password: str) -> str:
    """argon2id is slow on purpose; tests hash each password once."""
    from rehab_net.auth.operations import hash_password

    return hash_password(password)


def token_for(session, user) -> str:
    from rehab_net.auth.operations import create_token

    _token, plain = create_token(session, user, "tests")
    session.commit()
    return plain


def log_in(client, user) -> None:
    """Open a page session for ``user`` in a Flask test client (as a successful login does)."""
    import time

    now = time.time()
    with client.session_transaction() as sess:
        sess.update(uid=user.id, epoch=user.session_epoch, since=now, seen=now)
        sess.permanent = True


def secrets_env() -> dict[str, str]:
    """The test keys as REHAB_* variables, for commands run in a subprocess."""
    from rehab_net.config import TestConfig

    return {f"REHAB_{k}": getattr(TestConfig, k) for k in ("SECRET_KEY", "DATA_KEYS", "INDEX_KEY")}
