"""A hypothesis state machine over book / hold / confirm / cancel / reschedule / expire, on
SQLite and PostgreSQL. A small model predicts each step's outcome (taken or refused); after every
step the database's live appointments must equal the model's and the three invariants hold:
no slot over its places, no practitioner in two places at once, no person in two appointments at
once."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from rehab_net.booking import operations as ops
from rehab_net.booking import places, schedules
from rehab_net.booking.models import Appointment
from rehab_net.errors import DomainError
from tests.booking_world import (
    at,
    invariants,
    make_slot,
    new_child_referral,
    next_monday,
)

_seq = itertools.count(1)
HOLD = timedelta(minutes=10)
ACTIVE = ("proposed", "pending", "booked", "arrived", "fulfilled")


class BookingMachine(RuleBasedStateMachine):
    world: dict = {}
    test_session = None  # the test's `session`

    def __init__(self):
        super().__init__()
        s = self.session = self.test_session
        w = self.world
        n = next(_seq)
        p1, p2 = (schedules.create_practitioner(s, dict(
            code=f"HP{n}{x}", name="测试", profession="therapist", facility_codes=["CT01"]),
            principal=None, today=next_monday()) for x in "ab")
        day = next_monday()
        # p1: 09-10 (2 places), 10-11 (1); p2: 09:30-10:30 (1), 11-12 (2): a person booked at
        # 09:00 cannot be at 09:30 too.
        self.slots = [make_slot(s, w, at(day, 9), places=2, practitioner=p1),
                      make_slot(s, w, at(day, 10), places=1, practitioner=p1),
                      make_slot(s, w, at(day, 9, 30), places=1, practitioner=p2),
                      make_slot(s, w, at(day, 11), places=2, practitioner=p2)]
        self.referrals = [new_child_referral(s, w) for _ in range(3)]
        s.commit()
        self.now = datetime.now(UTC)
        self.model: dict[int, dict] = {}  # appointment id -> slot, referral, status, expires

    # --- the model ------------------------------------------------------------------------------
    def live(self, a: dict) -> bool:
        return a["status"] in ACTIVE and (a["expires"] is None or a["expires"] > self.now)

    def can_take(self, slot_i: int, ref_i: int, moving: int | None = None) -> bool:
        slot = self.slots[slot_i]
        lives = [(k, a) for k, a in self.model.items() if self.live(a) and k != moving]
        if sum(1 for _, a in lives if a["slot"] == slot_i) >= slot.places:
            return False
        for _, a in lives:
            other = self.slots[a["slot"]]
            if a["ref"] == ref_i and other.starts_at < slot.ends_at \
                    and slot.starts_at < other.ends_at:
                return False
        return True

    def pick(self, k: int) -> tuple[int, dict] | None:
        if not self.model:
            return None
        key = sorted(self.model)[k % len(self.model)]
        return key, self.model[key]

    def attempt(self, call):
        try:
            result = call()
        except DomainError:  # 409 (or 422): refused, nothing written
            self.session.rollback()
            return None
        self.session.commit()
        return result

    # --- the steps ------------------------------------------------------------------------------
    @rule(slot_i=st.integers(0, 3), ref_i=st.integers(0, 2), hold=st.booleans())
    def book(self, slot_i, ref_i, hold):
        expected = self.can_take(slot_i, ref_i)
        result = self.attempt(lambda: ops.book(
            self.session, referral=self.referrals[ref_i], slot_id=self.slots[slot_i].id,
            hold=hold, principal=None, now=self.now))
        assert (result is not None) == expected, (slot_i, ref_i, self.model)
        if result is not None:
            appt = result[0]
            self.model[appt.id] = {"slot": slot_i, "ref": ref_i,
                                   "status": "pending" if hold else "booked",
                                   "expires": self.now + HOLD if hold else None}

    @rule(k=st.integers(0, 50))
    def confirm(self, k):
        picked = self.pick(k)
        if picked is None:
            return
        key, a = picked
        expected = a["status"] == "booked" or (a["status"] == "pending" and self.live(a))
        appt = self.session.get(Appointment, key)
        result = self.attempt(lambda: ops.confirm(self.session, appt, principal=None,
                                                  now=self.now))
        assert (result is not None) == expected, (a, self.now)
        if result is not None:
            a.update(status="booked", expires=None)

    @rule(k=st.integers(0, 50))
    def cancel(self, k):
        picked = self.pick(k)
        if picked is None:
            return
        key, a = picked
        appt = self.session.get(Appointment, key)
        result = self.attempt(lambda: ops.cancel(self.session, appt, reason="family_request",
                                                 note=None, principal=None, now=self.now))
        assert result is not None
        a.update(status="cancelled", expires=None)

    @rule(k=st.integers(0, 50), slot_i=st.integers(0, 3))
    def reschedule(self, k, slot_i):
        picked = self.pick(k)
        if picked is None:
            return
        key, a = picked
        expected = (self.live(a) and a["status"] in ("pending", "booked")
                    and a["slot"] != slot_i and self.can_take(slot_i, a["ref"], moving=key))
        appt = self.session.get(Appointment, key)
        result = self.attempt(lambda: ops.reschedule(
            self.session, appt, slot_id=self.slots[slot_i].id, principal=None, now=self.now))
        assert (result is not None) == expected, (a, slot_i, self.model)
        if result is not None:
            new = result[0]
            self.model[new.id] = {"slot": slot_i, "ref": a["ref"], "status": a["status"],
                                  "expires": self.now + HOLD if a["status"] == "pending"
                                  else None}
            a.update(status="cancelled", expires=None)

    @rule(minutes=st.sampled_from([3, 11]))
    def time_passes(self, minutes):
        """The clock moves on and the periodic clean-up runs: holds past their time expire."""
        self.now += timedelta(minutes=minutes)
        ops.expire_and_offer(self.session, self.now)
        self.session.commit()

    # --- after every step -----------------------------------------------------------------------
    @invariant()
    def the_database_agrees_with_the_model(self):
        self.session.expire_all()
        rows = self.session.execute(select(Appointment.id, Appointment.slot_id).where(
            Appointment.slot_id.in_([s.id for s in self.slots]), places.live(self.now))).all()
        expected = {(k, self.slots[a["slot"]].id) for k, a in self.model.items()
                    if self.live(a)}
        assert set(rows) == expected

    @invariant()
    def the_invariants_hold(self):
        assert invariants(self.session) == {"over_capacity": [], "practitioner_overlap": [],
                                            "person_overlap": []}


def test_booking_state_machine(app, w, session):
    BookingMachine.world, BookingMachine.test_session = w, session
    with app.app_context():  # the operations read the app's configuration
        run_state_machine_as_test(BookingMachine, settings=settings(
            max_examples=20, stateful_step_count=20, deadline=None, derandomize=True,
            database=None, suppress_health_check=list(HealthCheck)))
