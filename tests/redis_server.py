"""A throwaway Redis server for the tests of the RQ queue: `redis-server` on a free loopback port,
nothing saved to disk, in a temporary directory, stopped at the end. Debian's redis-server package
provides it (tools/system-deps.sh installs it); without it the tests that need it are skipped.
``RedisServer.restart`` stops it and starts it again on the same port, as an operator's restart
of an unpersisted Redis does: every job is gone."""
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


class RedisServer:
    def __init__(self, binary: str, directory: str):
        self.binary, self.directory, self.port = binary, directory, _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        from redis import Redis
        from redis.exceptions import ConnectionError as RedisConnectionError

        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.directory, "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 15
        while True:
            try:
                Redis.from_url(self.url).ping()
                return
            except RedisConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("redis-server did not start: " + self.process.stderr
                                       .read().decode(errors="replace")) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


@contextmanager
def redis_process():
    """Yields a started RedisServer; raises LookupError(MISSING) without the binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise LookupError(MISSING)
    directory = tempfile.mkdtemp(prefix="rehab-net-redis-")
    server = RedisServer(binary, directory)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@contextmanager
def redis_server():
    """Yields the URL of a fresh Redis server; raises LookupError(MISSING) without the binary."""
    with redis_process() as server:
        yield server.url
