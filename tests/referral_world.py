"""The referral tests' world, the fixture `net` (registered as a plugin in tests/conftest.py;
a test module's own `net` overrides it): tiny_network with a second station, the child KCHILD's
case, staff, two coordinators, a stranger and a planner with their tokens; `drive` takes a new
referral from the station up to the centre into any state through the operations. Modules with
a world of their own build it from `referral_network` and `add_child`."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from rehab_net.network import operations as network
from rehab_net.referrals.models import Referral
from tests.factories import (
    REFERRAL_STEP_TEXT,
    create_case,
    create_person,
    create_referral,
    create_user,
    other_station,
    tiny_network,
    token_for,
)

MONDAY_9 = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # 09:00 in Asia/Shanghai


def referral_network(session, *, with_other_station: bool = False,
                     with_centre2: bool = False) -> dict:
    """tiny_network whose station offers autism training, with (when asked) a second station ST2
    and a second centre CT02 offering it too: what the referral tests refer between."""
    r = tiny_network(session)
    network.set_capacity(session, r["station"], dict(
        service_code="autism_training", effective_from=date(2026, 1, 1), weekly_intake=5,
        concurrent_places=10))
    if with_other_station:
        r["other_station"] = other_station(session)
    if with_centre2:
        r["centre2"] = network.create_facility(session, dict(
            code="CT02", name_zh="第二康复中心", name_en="Second Rehab Centre", tier="centre",
            region_code="150702", lat=49.25, lon=119.8, ownership="public", designated=True,
            status="open"))
        network.set_capacity(session, r["centre2"], dict(
            service_code="autism_training", effective_from=date(2026, 1, 1), weekly_intake=3,
            concurrent_places=8))
    return r


def add_child(session, r: dict) -> None:
    """The child PCHILD (born 2022-05-01) and their case KCHILD, whom `drive` refers."""
    r["child"] = create_person(session, code="PCHILD", birth_date=date(2022, 5, 1))
    r["case"] = create_case(session, r["child"], code="KCHILD")


@pytest.fixture
def net(session):
    r = referral_network(session, with_other_station=True)
    add_child(session, r)
    users = {"staff": create_user(session, "staff", grants=[("clinic", r["station"])]),
             "coord": create_user(session, "coord", grants=[("coordinator", r["centre"])]),
             "coord2": create_user(session, "coord2", grants=[("coordinator", r["centre"])]),
             "stranger": create_user(session, "stranger", grants=[("clinic", r["other_station"])]),
             "planner": create_user(session, "planner", grants=[("planner", r["district"])])}
    session.commit()
    r["users"] = users
    r["tokens"] = {k: token_for(session, u) for k, u in users.items()}
    return r



def up_body(**over):
    return {"case_code": "KCHILD", "receiver_code": "CT01", "direction": "up",
            "urgency": "routine", "reason": "needs an autism assessment", **over}


GOOD = REFERRAL_STEP_TEXT  # what the steps that need words are given


def drive(session, net, state) -> Referral:
    """A referral of KCHILD from the station up to the centre, in ``state``, committed."""
    referral = create_referral(session, state, now=MONDAY_9, today=date(2026, 11, 16),
                               **up_body(), sender_code="ST150702001")
    session.commit()
    assert referral.state == state
    return referral
