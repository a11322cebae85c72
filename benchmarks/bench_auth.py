"""What people and permissions cost per request (docs/performance.md, "Accounts and audit").

    python -m benchmarks.bench_auth [--requests N]

On a temporary SQLite copy of the sample region (loaded by this script): an argon2id password
check (a login), and the latency of API and page requests as a clinic user of a station and an
operator of the whole network: token lookup, scope filter over the region tree, the audited read
or list, the encrypted identifiers decrypted and masked. Prints figures; asserts nothing."""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp())
    os.environ.update(REHAB_DATABASE_URL=f"sqlite:///{tmp / 'bench.sqlite3'}",
                      REHAB_TODAY="2026-11-16")
    from click.testing import CliRunner

    from rehab_net.cli import main as cli

    runner = CliRunner()
    for command in (["db", "upgrade"], ["load-sample"], ["users", "demo"]):
        result = runner.invoke(cli, command)
        assert result.exit_code == 0, result.output
    from rehab_net import create_app
    from rehab_net.auth import operations as ops

    app = create_app()
    started = time.perf_counter()
    for _ in range(10):
        ops.hash_password("a long password here")
    print(f"machine: {platform.node()} {os.cpu_count()} cores, python {platform.python_version()}")
    print(f"argon2id hash: {(time.perf_counter() - started) / 10 * 1000:.0f} ms")
    tokens = {name: runner.invoke(cli, ["users", "token", name]).output.strip().splitlines()[-1]
              for name in ("station", "admin", "coordinator")}
    client = app.test_client()
    cases = [("clinic: GET /api/v1/cases (page of 10, audited list)", "station", "/api/v1/cases"),
             ("clinic: GET /api/v1/persons/{code} (audited read)", "station", None),
             ("coordinator: GET /api/v1/cases?sort=priority (district scope)", "coordinator",
              "/api/v1/cases?sort=priority&page_size=100"),
             ("admin: GET /api/v1/facilities (no personal data)", "admin", "/api/v1/facilities")]
    person = client.get("/api/v1/persons", headers={
        "Authorization": f"Bearer {tokens['station']}"}).json[0]["code"]
    print(f"{'request':<64} {'p50 ms':>7} {'p99 ms':>7}")
    for label, who, url in cases:
        url = url or f"/api/v1/persons/{person}"
        headers = {"Authorization": f"Bearer {tokens[who]}"}
        times = []
        for _ in range(args.requests):
            t = time.perf_counter()
            resp = client.get(url, headers=headers)
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, resp.get_json()
        print(f"{label:<64} {statistics.median(times):7.1f} {percentile(times, 0.99):7.1f}")


if __name__ == "__main__":
    main()
