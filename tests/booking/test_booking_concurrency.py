"""Races, on SQLite and PostgreSQL, through the real request path: 50 threads (and several
processes) after the same last place, overlapping sessions of one practitioner at two
facilities, reschedules racing new bookings, twin requests with one Idempotency-Key. Exactly
the allowed number succeed, the rest get 409, and nothing is lost or half-written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from rehab_net.booking import operations as ops
from rehab_net.booking.models import Appointment, ScheduleRule
from tests.booking_world import (
    at,
    invariants,
    make_slot,
    new_child_referral,
    next_monday,
)
from tests.factories import create_user, secrets_env, token_for

NOW = datetime.now(UTC)
THREADS = 50


def race(app, calls):
    """Run each (method, url, body, headers) at once from its own thread and client; the
    responses' (status, json) in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i, method, url, body, headers):
        client = app.test_client()
        barrier.wait()
        resp = client.open(url, method=method, json=body, headers=headers)
        results[i] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=run, args=(i, *call)) for i, call in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert all(r is not None for r in results), "a request never finished"
    return results


def statuses(results) -> dict[int, int]:
    out: dict[int, int] = {}
    for status, _ in results:
        out[status] = out.get(status, 0) + 1
    return out


def many_referrals(session, w, n):
    referrals = [new_child_referral(session, w) for _ in range(n)]
    session.commit()
    return referrals


def test_fifty_threads_after_the_last_place(app, w, session):
    slot = make_slot(session, w, at(next_monday(), 9), places=3)
    first = w["referrals"][:2]
    with app.app_context():
        for r in first:
            ops.book(session, referral=r, slot_id=slot.id, hold=False, principal=None, now=NOW)
    referrals = many_referrals(session, w, THREADS)
    auth = {"Authorization": f"Bearer {w['tokens']['coord']}"}
    results = race(app, [("POST", "/api/v1/appointments",
                          {"referral_code": r.code, "slot_id": slot.id}, auth)
                         for r in referrals])
    assert statuses(results) == {201: 1, 409: THREADS - 1}, results
    assert all(body["title"] == "Conflict" for status, body in results if status == 409)
    session.expire_all()
    active = session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.slot_id == slot.id, Appointment.status == "booked"))
    assert active == 3
    assert invariants(session) == {"over_capacity": [], "practitioner_overlap": [],
                                   "person_overlap": []}


def test_twin_requests_with_one_idempotency_key_book_once(app, w, session):
    slot = make_slot(session, w, at(next_monday(), 9), places=5)
    session.commit()
    headers = {"Authorization": f"Bearer {w['tokens']['coord']}", "Idempotency-Key": "twin-7"}
    body = {"referral_code": w["referrals"][0].code, "slot_id": slot.id}
    results = race(app, [("POST", "/api/v1/appointments", body, headers)] * 20)
    assert set(statuses(results)) <= {200, 201} and statuses(results).get(201) == 1, results
    assert len({body["code"] for _, body in results}) == 1
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_overlapping_sessions_of_one_practitioner_at_two_facilities(app, w, session):
    day = next_monday()
    auth = {"Authorization": f"Bearer {w['tokens']['coord']}"}
    admin = create_user(session, "both", grants=[("coordinator", w["centre"]),
                                                 ("clinic", w["station"])])
    session.commit()
    auth = {"Authorization": f"Bearer {token_for(session, admin)}"}
    calls = []
    for i in range(THREADS):  # every one contains 09:49-10:00: all overlap pairwise
        start = datetime(2000, 1, 1, 9, i)
        end = start + timedelta(hours=1)
        calls.append(("POST", "/api/v1/schedule-rules", {
            "kind": "session", "on": day.isoformat(), "practitioner_code": "DR1",
            "facility_code": "CT01" if i % 2 else "ST150702001",
            "service_code": "autism_training", "start_time": start.strftime("%H:%M"),
            "end_time": end.strftime("%H:%M"), "slot_minutes": 60}, auth))
    results = race(app, calls)
    assert statuses(results) == {201: 1, 409: THREADS - 1}, statuses(results)
    session.expire_all()
    assert invariants(session)["practitioner_overlap"] == []
    # the losers left nothing behind: one rule, one slot
    assert session.scalar(select(func.count()).select_from(ScheduleRule)) == 1


def test_reschedules_racing_new_bookings(app, w, session):
    monday = next_monday()
    target = make_slot(session, w, at(monday, 14), places=1)
    movers = many_referrals(session, w, 5)
    bookers = many_referrals(session, w, 20)
    moving = []
    with app.app_context():
        for i, r in enumerate(movers):
            slot = make_slot(session, w, at(monday, 8 + i), practitioner=w["therapist"])
            moving.append(ops.book(session, referral=r, slot_id=slot.id, hold=False,
                                   principal=None, now=NOW)[0])
    session.commit()
    auth = {"Authorization": f"Bearer {w['tokens']['coord']}"}
    calls = [("POST", f"/api/v1/appointments/{a.code}/reschedule", {"slot_id": target.id}, auth)
             for a in moving]
    calls += [("POST", "/api/v1/appointments", {"referral_code": r.code, "slot_id": target.id},
               auth) for r in bookers]
    results = race(app, calls)
    won = [r for r in results if r[0] in (200, 201)]
    assert len(won) == 1 and statuses(results)[409] == len(calls) - 1, statuses(results)
    session.expire_all()
    # nothing lost: every mover still holds exactly one active appointment
    for referral in movers:
        held = session.scalars(select(Appointment).where(
            Appointment.referral_id == referral.id, Appointment.status == "booked")).all()
        assert len(held) == 1
    assert session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.slot_id == target.id, Appointment.status == "booked")) == 1
    assert invariants(session) == {"over_capacity": [], "practitioner_overlap": [],
                                   "person_overlap": []}


WORKER = """
import json, sys
from rehab_net import create_app
from rehab_net.config import TestConfig
url, token, slot, codes = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(",")
app = create_app(type("Cfg", (TestConfig,), {"DATABASE_URL": url}))
import threading
barrier = threading.Barrier(len(codes))
out = []
def run(code):
    client = app.test_client()
    barrier.wait()
    r = client.post("/api/v1/appointments", json={"referral_code": code, "slot_id": slot},
                    headers={"Authorization": "Bearer " + token})
    out.append(r.status_code)
threads = [threading.Thread(target=run, args=(c,)) for c in codes]
for t in threads: t.start()
for t in threads: t.join(120)
print(json.dumps(out))
"""


def test_several_processes_after_the_last_places(app, w, session):
    """4 processes x 8 threads, each its own engine and connection pool, after 2 places."""
    slot = make_slot(session, w, at(next_monday(), 9), places=2)
    referrals = many_referrals(session, w, 32)
    url = app.config["DATABASE_URL"]
    env = {**os.environ, **secrets_env()}
    procs = []
    for k in range(4):
        codes = ",".join(r.code for r in referrals[k * 8:(k + 1) * 8])
        procs.append(subprocess.Popen(
            [sys.executable, "-c", WORKER, url, w["tokens"]["coord"], str(slot.id), codes],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    codes = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err[-2000:]
        codes += json.loads(out.strip().splitlines()[-1])
    assert sorted(codes).count(201) == 2 and codes.count(409) == 30, codes
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Appointment).where(
        Appointment.slot_id == slot.id, Appointment.status == "booked")) == 2
    assert invariants(session)["over_capacity"] == []
