"""Login throttling, kept in the database (the login_attempt rows) so it holds across web workers.

Guessing is slowed where it comes from, never by locking the account: a username is never
refused as such, so a colleague typing wrong passwords (or an attacker) somewhere else cannot
keep its owner out.

- Per (username, address): failures count for ``pair_window`` (a day) back, and only since the
  last success from that address for that name. The first ``free_failures`` cost nothing; after
  the n-th the next attempt waits ``base_delay * 2 ** (n - free_failures)`` seconds after the last
  failure, at most ``max_delay``.
- Per address: ``address_max_failures`` failures (any usernames) within ``window`` (15 minutes)
  refuse every further attempt from it until the oldest of them is older than the window.

Refused attempts check no password and are not stored, so waiting always helps. The numbers are
in docs/security.md ("Login throttling")."""
from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from rehab_net.auth.models import LoginAttempt


@dataclass(frozen=True)
class Rules:
    window: timedelta = timedelta(minutes=15)
    pair_window: timedelta = timedelta(hours=24)
    free_failures: int = 3
    base_delay: float = 1.0
    max_delay: float = 300.0
    address_max_failures: int = 30

    @classmethod
    def from_config(cls, config) -> Rules:
        return cls(window=timedelta(minutes=config["LOGIN_WINDOW_MINUTES"]),
                   pair_window=timedelta(hours=config["LOGIN_DELAY_WINDOW_HOURS"]),
                   free_failures=config["LOGIN_FREE_FAILURES"],
                   base_delay=config["LOGIN_DELAY_SECONDS"],
                   max_delay=config["LOGIN_MAX_DELAY_SECONDS"],
                   address_max_failures=config["LOGIN_ADDRESS_MAX_FAILURES"])


@dataclass(frozen=True)
class Refusal:
    reason: str  # "address" or "username"
    seconds: int  # until the next attempt is allowed (Retry-After)


@dataclass(frozen=True)
class MissedFailures:
    """Failed logins for a username since its previous successful login."""
    count: int
    last_at: datetime
    last_addr: str


def serialize(session: Session, remote_addr: str) -> None:
    """Attempts from one address wait for each other until the caller commits, so parallel
    guesses cannot all pass the check before any is stored. SQLite needs nothing here: every
    transaction begins IMMEDIATE (rehab_net.db), which already serialises writers."""
    if session.get_bind().dialect.name == "postgresql":
        key = int.from_bytes(hashlib.sha256(b"login:" + remote_addr.encode()).digest()[:8],
                             "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def refusal(session: Session, username: str, remote_addr: str, now: datetime,
            rules: Rules) -> Refusal | None:
    """Why (and how long) an attempt for ``username`` from ``remote_addr`` must wait, if it must."""
    failed = (LoginAttempt.remote_addr == remote_addr, ~LoginAttempt.succeeded,
              LoginAttempt.at >= now - rules.window)
    oldest_counted = session.scalar(
        select(LoginAttempt.at).where(*failed).order_by(LoginAttempt.at.desc())
        .offset(rules.address_max_failures - 1).limit(1))
    if oldest_counted is not None:
        return Refusal("address", _ceil(oldest_counted + rules.window - now))
    pair = (LoginAttempt.username == username, LoginAttempt.remote_addr == remote_addr)
    since = now - rules.pair_window
    last_success = session.scalar(select(func.max(LoginAttempt.at)).where(
        *pair, LoginAttempt.succeeded, LoginAttempt.at >= since))
    count, last_failure = session.execute(select(func.count(), func.max(LoginAttempt.at)).where(
        *pair, ~LoginAttempt.succeeded,
        LoginAttempt.at >= (since if last_success is None else max(since, last_success)))).one()
    if count < rules.free_failures or last_failure is None:
        return None
    doublings = min(count - rules.free_failures, 40)  # past the cap long before; no overflow
    delay = min(rules.max_delay, rules.base_delay * 2 ** doublings)
    wait = last_failure + timedelta(seconds=delay) - now
    return Refusal("username", _ceil(wait)) if wait > timedelta(0) else None


def missed_failures(session: Session, username: str, since: datetime | None
                    ) -> MissedFailures | None:
    """The failed logins for ``username`` after ``since`` (its previous login), if any."""
    where = [LoginAttempt.username == username, ~LoginAttempt.succeeded]
    if since is not None:
        where.append(LoginAttempt.at > since)
    count = session.scalar(select(func.count()).select_from(LoginAttempt).where(*where))
    if not count:
        return None
    last = session.scalars(select(LoginAttempt).where(*where)
                           .order_by(LoginAttempt.at.desc(), LoginAttempt.id.desc()).limit(1)).one()
    return MissedFailures(count, last.at, last.remote_addr)


def mask_address(addr: str) -> str:
    """Enough of an address to recognise one's own network, not a person's machine:
    203.0.113.* for IPv4, the /48 for IPv6."""
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return "?"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return ".".join(str(ip).split(".")[:3] + ["*"])
    return str(ipaddress.ip_network(f"{ip}/48", strict=False))


def _ceil(delta: timedelta) -> int:
    return max(1, math.ceil(delta.total_seconds()))
