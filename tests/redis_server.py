"""A throwaway Redis server for the tests of the RQ queue: `redis-server` on a free loopback port,
nothing saved to disk, in a temporary directory, stopped at the end. Debian's redis-server package
provides it (tools/system-deps.sh installs it); without it the tests that need it are skipped."""
from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager

MISSING = ("redis-server is not installed: run `bash tools/system-deps.sh` (installs Debian's "
           "redis-server package) to test the RQ queue")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server():
    """Yields the URL of a fresh Redis server; raises LookupError(MISSING) without the binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise LookupError(MISSING)
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    directory = tempfile.mkdtemp(prefix="rehab-net-redis-")
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", directory, "--daemonize", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                Redis.from_url(url).ping()
                break
            except RedisConnectionError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start: "
                                       + server.stderr.read().decode(errors="replace")) from None
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        shutil.rmtree(directory, ignore_errors=True)
