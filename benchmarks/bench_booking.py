"""Booking under load (docs/performance.md, "Slot booking").

    python -m benchmarks.bench_booking [--clients 50] [--seconds 20] [--workers 4]
                                       [--think-ms 0] [--referrals 1500] [--slots 400]

A throwaway PostgreSQL cluster (as tests/pg.py starts one), migrated and seeded: one centre, 4
practitioners, `--slots` slots of 1-3 places over the next weeks, `--referrals` accepted
referrals of distinct children. The app is served by gunicorn (`--workers` sync workers) on
127.0.0.1; `--clients` clients (5 processes x threads) each book their own referrals into
random slots (POST /api/v1/appointments with an Idempotency-Key) as fast as they can, or with
`--think-ms` between requests, for `--seconds` at most. A full slot answers 409 and the client
tries another. Prints bookings/s, requests/s, p50/p99 latency, the 409s and errors, and the
double bookings found afterwards in the database (slots over their places, persons or
practitioners in two places at once): must be 0. Asserts nothing else; bounded in time; sends
traffic only to 127.0.0.1."""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
PROCESSES = 5


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine() -> str:
    """The line a benchmark prints first: which machine, which Python, when."""
    return (f"machine: {platform.node()} {os.cpu_count()} cores, {platform.machine()}, "
            f"python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")


@contextmanager
def served(url: str, workers: int, timeout: int):
    """The app on the database at ``url`` served by gunicorn (``workers`` sync workers, a request
    ``timeout`` in seconds) on a free port of 127.0.0.1: yields the port once it answers, and
    stops the server (its whole process group) afterwards."""
    from tests.factories import secrets_env

    port = free_port()
    env = {**os.environ, **secrets_env(), "REHAB_DATABASE_URL": url, "REHAB_LOG_LEVEL": "ERROR"}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(workers),
         "-b", f"127.0.0.1:{port}", "--backlog", "256", "--log-level", "warning",
         "--timeout", str(timeout), "rehab_net:create_app()"],
        cwd=ROOT, env=env, start_new_session=True)
    try:
        for _ in range(100):  # wait until it answers
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                    "GET", "/api/v1/openapi.json")
                break
            except OSError:
                time.sleep(0.2)
        yield port
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)


# --- seeding ------------------------------------------------------------------------------------
def migrated_app(url: str):
    """The app on a database at the newest migration (the benchmarks seed it, then serve it)."""
    from rehab_net import create_app, migrate
    from rehab_net.config import TestConfig
    from rehab_net.db import make_engine

    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    return create_app(type("Cfg", (TestConfig,), {"DATABASE_URL": url}))


def seed(url: str, n_referrals: int, n_slots: int) -> dict:
    from sqlalchemy import text

    from rehab_net.booking import generation, schedules
    from rehab_net.db import get_session
    from rehab_net.referrals.operations.workflow import create_referral, transition
    from tests.factories import create_case, create_person, create_user, tiny_network, token_for

    app = migrated_app(url)
    with app.app_context():
        session = get_session()
        today = date.today()
        w = tiny_network(session)
        practitioners = [schedules.create_practitioner(session, dict(
            code=f"DR{i}", name=f"医生{i}", profession="therapist", facility_codes=["CT01"]),
            principal=None, today=today) for i in range(4)]
        now = datetime.now(UTC)
        start = datetime.combine(today + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
        rng = random.Random(7)
        slot_ids = []
        for i in range(n_slots):  # each practitioner's slots back to back, 30 minutes
            p = practitioners[i % 4]
            begin = start + timedelta(minutes=30 * (i // 4))
            slot = generation.create_slot(
                session, practitioner_id=p.id, facility_id=w["centre"].id,
                service_id=w["autism_training"].id, starts_at=begin,
                ends_at=begin + timedelta(minutes=30), places=rng.choice((1, 2, 3)), now=now)
            slot_ids.append(slot.id)
        codes = []
        for i in range(n_referrals):
            person = create_person(session, birth_date=date(2022, 1, 1) + timedelta(days=i % 900))
            case = create_case(session, person)
            referral = create_referral(session, dict(
                case_code=case.code, sender_code="ST150702001", receiver_code="CT01",
                service_code="autism_training", direction="up", urgency="routine",
                reason="assessment"), principal=None, now=now, today=today, send=True)
            for step in ("receive", "accept"):
                transition(session, referral, step, principal=None, now=now)
            codes.append(referral.code)
            if i % 250 == 249:
                session.commit()
        user = create_user(session, "bench", grants=[("coordinator", w["centre"])])
        session.commit()
        token = token_for(session, user)
        places = session.execute(text("SELECT sum(places) FROM slot")).scalar()
    return {"token": token, "slots": slot_ids, "referrals": codes, "places": places}


# --- clients ------------------------------------------------------------------------------------
def client_process(port, token, slots, referral_groups, deadline, think, out_queue):
    results = []
    lock = threading.Lock()

    def run(codes):
        rng = random.Random(hash(codes[0]))
        mine = []
        if think:  # paced clients do not all start in the same millisecond
            time.sleep(rng.uniform(0, think / 1000))
        for code in codes:
            for _attempt in range(12):
                if time.time() >= deadline:
                    break
                slot = rng.choice(slots)
                body = json.dumps({"referral_code": code, "slot_id": slot})
                headers = {"Authorization": f"Bearer {token}", "Content-Type":
                           "application/json", "Idempotency-Key": f"{code}-{slot}"}
                t = time.perf_counter()
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    conn.request("POST", "/api/v1/appointments", body, headers)
                    resp = conn.getresponse()
                    resp.read()
                    status = resp.status
                    conn.close()
                except OSError:
                    status = 0
                mine.append((status, (time.perf_counter() - t) * 1000, time.time()))
                if think:
                    time.sleep(think / 1000)
                if status in (200, 201):
                    break
            if time.time() >= deadline:
                break
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=run, args=(g,)) for g in referral_groups]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    out_queue.put(results)


def warm_up(port: int, token: str, slot_id: int, n: int) -> None:
    """Each worker's first requests load catalogues and compile schemas: not measured."""
    def one():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", f"/api/v1/slots/{slot_id}",
                     headers={"Authorization": f"Bearer {token}"})
        conn.getresponse().read()
        conn.close()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)


def double_bookings(url: str) -> dict:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    active = "('proposed', 'pending', 'booked', 'arrived', 'fulfilled')"
    with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database) as conn:
        over = conn.execute(
            "SELECT count(*) FROM (SELECT s.id FROM slot s JOIN appointment a ON a.slot_id = s.id"
            f" WHERE a.status IN {active} GROUP BY s.id, s.places HAVING count(*) > s.places) x"
        ).fetchone()[0]
        person = conn.execute(
            "SELECT count(*) FROM appointment a JOIN appointment b ON a.person_id = b.person_id "
            f"AND a.id < b.id AND a.status IN {active} AND b.status IN {active} "
            "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at").fetchone()[0]
        practitioner = conn.execute(
            "SELECT count(*) FROM slot a JOIN slot b ON a.practitioner_id = b.practitioner_id "
            "AND a.id < b.id AND a.status = 'open' AND b.status = 'open' "
            "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at").fetchone()[0]
        booked = conn.execute(f"SELECT count(*) FROM appointment WHERE status IN {active}"
                              ).fetchone()[0]
    return {"slots_over_places": over, "person_overlaps": person,
            "practitioner_overlaps": practitioner, "active_appointments": booked}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--think-ms", type=float, default=0.0)
    parser.add_argument("--referrals", type=int, default=1500)
    parser.add_argument("--slots", type=int, default=400)
    args = parser.parse_args()

    from tests import pg

    print(machine())
    with pg.cluster() as admin_url:
        url = pg.create_database(admin_url, "rehab_bench")
        t = time.perf_counter()
        world = seed(url, args.referrals, args.slots)
        print(f"seeded {len(world['referrals'])} accepted referrals, {len(world['slots'])} "
              f"slots ({world['places']} places) in {time.perf_counter() - t:.1f} s")
        with served(url, args.workers, 60) as port:
            warm_up(port, world["token"], world["slots"][0], args.workers * 20)
            codes = world["referrals"]
            per_client = len(codes) // args.clients
            groups = [codes[i * per_client:(i + 1) * per_client] for i in range(args.clients)]
            load_before = os.getloadavg()[0]
            queue = multiprocessing.Queue()
            started = time.time()
            deadline = started + args.seconds
            procs = [multiprocessing.Process(target=client_process, args=(
                port, world["token"], world["slots"], groups[k::PROCESSES], deadline,
                args.think_ms, queue)) for k in range(PROCESSES)]
            for p in procs:
                p.start()
            results = []
            for _ in procs:
                results += queue.get(timeout=args.seconds + 120)
            for p in procs:
                p.join(30)
            elapsed = max(r[2] for r in results) - started if results else args.seconds
        found = double_bookings(url)
    latencies = [r[1] for r in results]
    ok = [r for r in results if r[0] in (200, 201)]
    conflicts = sum(1 for r in results if r[0] == 409)
    errors = len(results) - len(ok) - conflicts
    print(f"{args.clients} clients, {args.workers} gunicorn workers, think {args.think_ms} ms, "
          f"{elapsed:.1f} s; load average before {load_before:.2f}, after "
          f"{os.getloadavg()[0]:.2f} (other work on the machine shows here)")
    print(f"requests: {len(results)} ({len(results) / elapsed:.0f}/s); bookings: {len(ok)} "
          f"({len(ok) / elapsed:.0f}/s); 409 full or busy: {conflicts}; errors: {errors}")
    print(f"latency all requests: p50 {statistics.median(latencies):.1f} ms, "
          f"p99 {percentile(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms")
    booked_lat = [r[1] for r in ok]
    if booked_lat:
        print(f"latency of bookings:  p50 {statistics.median(booked_lat):.1f} ms, "
              f"p99 {percentile(booked_lat, 0.99):.1f} ms")
    doubles = found["slots_over_places"] + found["person_overlaps"] + \
        found["practitioner_overlaps"]
    print(f"double bookings: {doubles} {json.dumps(found)}")
    print(f"appointments in the database {found['active_appointments']} = bookings answered "
          f"{len(ok)}: {'yes' if found['active_appointments'] == len(ok) else 'NO'}")


if __name__ == "__main__":
    main()
