"""Booking whole courses under load (docs/performance.md, "Courses of therapy").

    python -m benchmarks.bench_courses [--clients 50] [--workers 4] [--sessions 80] [--places 10]

A throwaway PostgreSQL cluster (as tests/pg.py starts one), migrated and seeded: one centre, one
therapist with a weekly rule Monday to Friday 14:00-18:00 (hourly group sessions of `--places`
seats), `--clients` accepted referrals of distinct children. The app is served by gunicorn
(`--workers` sync workers) on 127.0.0.1. Each of `--clients` coordinators (threads, started
together) previews a course of `--sessions` sessions, 2 a week (a pair of weekdays and an hour
of its own, so courses share group sessions), then books it with one POST /api/v1/courses. The
sessions reach far past the generated window: the first booker generates the slots. Prints the
p50/p99 per course (preview, confirm, both), the 409s, and the double bookings found afterwards
(slots over their seats, persons or practitioners in two places at once: must be 0) and whether
every course was booked whole or not at all. Sends traffic only to 127.0.0.1."""
from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import threading
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.bench_booking import (  # noqa: E402
    double_bookings,
    machine,
    migrated_app,
    percentile,
    served,
)

PAIRS = ((1, 3), (2, 4), (3, 5), (1, 4), (2, 5))
HOURS = ("14:00", "15:00", "16:00", "17:00")


def seed(url: str, clients: int, places: int) -> dict:
    from datetime import time as clock

    from rehab_net.booking import schedules
    from rehab_net.db import get_session
    from rehab_net.referrals.operations.workflow import create_referral, transition
    from tests.factories import create_case, create_person, create_user, tiny_network, token_for

    app = migrated_app(url)
    with app.app_context():
        session = get_session()
        today = date.today()
        now = datetime.now(UTC)
        w = tiny_network(session)
        schedules.create_practitioner(session, dict(
            code="TH0", name="治疗师", profession="therapist", facility_codes=["CT01"]),
            principal=None, today=today)
        schedules.create_rule(session, {
            "practitioner_code": "TH0", "facility_code": "CT01",
            "service_code": "autism_training", "weekdays": [1, 2, 3, 4, 5],
            "start_time": clock(14), "end_time": clock(18), "slot_minutes": 60,
            "places": places, "valid_from": today}, principal=None, today=today, now=now)
        codes = []
        for i in range(clients):
            person = create_person(session, birth_date=date(2022, 1, 1) + timedelta(days=i))
            case = create_case(session, person)
            referral = create_referral(session, dict(
                case_code=case.code, sender_code="ST150702001", receiver_code="CT01",
                service_code="autism_training", direction="up", urgency="routine",
                reason="training"), principal=None, now=now, today=today, send=True)
            for step in ("receive", "accept"):
                transition(session, referral, step, principal=None, now=now)
            codes.append(referral.code)
        user = create_user(session, "bench", grants=[("coordinator", w["centre"])])
        session.commit()
        token = token_for(session, user)
    return {"token": token, "referrals": codes}


def post(port: int, token: str, path: str, body: dict) -> tuple[int, dict, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    t = time.perf_counter()
    conn.request("POST", path, body=json.dumps(body), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"{}")
    return resp.status, data, (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--sessions", type=int, default=80)
    parser.add_argument("--places", type=int, default=10)
    args = parser.parse_args()

    from tests import pg

    print(machine())
    first = date.today() + timedelta(days=7 - date.today().weekday())  # next Monday
    weeks = args.sessions // 2 + 2  # room for a holiday or two
    results: list = [None] * args.clients
    with pg.cluster() as admin_url:
        url = pg.create_database(admin_url, "rehab_bench_courses")
        world = seed(url, args.clients, args.places)
        with served(url, args.workers, 300) as port:
            # warm every worker up first (not measured): a preview of the first referral each
            warm = {"referral_code": world["referrals"][0], "weekdays": [1, 3],
                    "start_time": "14:00", "weeks": 2, "first_day": first.isoformat()}
            warmers = [threading.Thread(target=post, args=(
                port, world["token"], "/api/v1/courses/preview", warm))
                for _ in range(args.workers * 4)]
            for t in warmers:
                t.start()
            for t in warmers:
                t.join(120)
            barrier = threading.Barrier(args.clients)

            def coordinator(i: int, code: str) -> None:
                body = {"referral_code": code, "weekdays": list(PAIRS[i % len(PAIRS)]),
                        "start_time": HOURS[(i // len(PAIRS)) % len(HOURS)],
                        "sessions": args.sessions, "weeks": weeks,
                        "first_day": first.isoformat(), "group_only": True}
                barrier.wait()
                s1, preview, t1 = post(port, world["token"], "/api/v1/courses/preview", body)
                picks = [{"starts_at": s["starts_at"],
                          "practitioner_code": s["practitioner_code"]}
                         for s in preview.get("sessions", [])]
                s2, _course, t2 = post(port, world["token"], "/api/v1/courses",
                                       {**body, "to_book": picks})
                results[i] = (s1, s2, t1, t2, len(picks))

            started = time.time()
            threads = [threading.Thread(target=coordinator, args=(i, c))
                       for i, c in enumerate(world["referrals"])]
            for t in threads:
                t.start()
            for t in threads:
                t.join(600)
            elapsed = time.time() - started
        found = double_bookings(url)
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        with psycopg.connect(host=u.host, port=u.port, user=u.username,
                             dbname=u.database) as conn:
            per_referral = [n for (n,) in conn.execute(
                "SELECT count(a.id) FROM referral r LEFT JOIN appointment a ON "
                "a.referral_id = r.id AND a.status = 'booked' GROUP BY r.id")]
            courses = conn.execute("SELECT count(*) FROM course").fetchone()[0]
    done = [r for r in results if r is not None]
    booked = [r for r in done if r[1] == 201]
    print(f"{args.clients} coordinators at once, {args.workers} gunicorn workers, "
          f"{args.sessions}-session courses (2 a week), group sessions of {args.places} seats; "
          f"{elapsed:.1f} s in all")
    print(f"courses booked: {len(booked)} (in the database: {courses}); 409: "
          f"{sum(1 for r in done if r[1] == 409)}; other answers: "
          f"{sorted({r[1] for r in done if r[1] not in (201, 409)})}; sessions previewed per "
          f"course: min {min(r[4] for r in done)}, max {max(r[4] for r in done)}")
    for name, values in (("preview", [r[2] for r in done]), ("confirm", [r[3] for r in done]),
                         ("preview + confirm", [r[2] + r[3] for r in done])):
        print(f"per course, {name}: p50 {statistics.median(values):.0f} ms, "
              f"p99 {percentile(values, 0.99):.0f} ms, max {max(values):.0f} ms")
    doubles = found["slots_over_places"] + found["person_overlaps"] + \
        found["practitioner_overlaps"]
    print(f"double bookings: {doubles} {json.dumps(found)}")
    whole = all(n in (0, args.sessions) for n in per_referral)
    print(f"every course whole or not at all: {'yes' if whole else 'NO'} "
          f"(sessions per referral: {sorted(set(per_referral))})")


if __name__ == "__main__":
    main()
