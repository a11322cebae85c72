"""Users, role grants, API tokens and logins. Operations flush; the caller commits."""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from rehab_net.auth import audit, throttle
from rehab_net.auth.models import ApiToken, LoginAttempt, RoleGrant, User
from rehab_net.auth.permissions import Scope
from rehab_net.db import utcnow
from rehab_net.errors import Conflict, DomainError, NotFound, field_error
from rehab_net.network import operations as network
from rehab_net.vocab import FACILITY_ROLES, ROLES

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified when the username is unknown, so a wrong name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("not a password")
MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "rn_"


class TooManyAttempts(DomainError):
    """``reason`` is "address" (too many failures from there) or "username" (from there, for
    that name); ``retry_after`` is in seconds."""
    status, title = 429, "Too many requests"

    def __init__(self, detail: str, *, reason: str, retry_after: int):
        super().__init__(detail, headers={"Retry-After": str(retry_after)})
        self.reason, self.retry_after = reason, retry_after


class LoginFailed(DomainError):
    status, title = 401, "Unauthorized"


# --- passwords ----------------------------------------------------------------------------------
def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise field_error(field, f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if password.strip() != password or not password.strip():
        raise field_error(field, "must not begin or end with spaces")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# --- users --------------------------------------------------------------------------------------
def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower())
                          .options(selectinload(User.grants)))
    if user is None:
        raise NotFound(f"There is no user {username}.")
    return user


def list_users(*, scope: Scope | None = None):
    """Users an admin may manage: those whose every grant lies in the admin's scope."""
    stmt = select(User).options(selectinload(User.grants)).order_by(User.username)
    if scope is not None and not scope.everywhere:
        outside = select(RoleGrant.id).where(RoleGrant.user_id == User.id).where(
            _grant_region(RoleGrant).is_(None) | ~scope.region_filter(_grant_region(RoleGrant)))
        stmt = stmt.where(~outside.exists())
    return stmt


def _grant_region(grant_cls):
    """SQL: the region a grant covers (the facility's region for facility roles)."""
    from rehab_net.network.models import Facility

    return func.coalesce(grant_cls.region_id, select(Facility.region_id)
                         .where(Facility.id == grant_cls.facility_id).scalar_subquery())


def create_user(session: Session, *, username: str, display_name: str, password: str) -> User:
    username = username.strip().lower()
    if session.scalar(select(User.id).where(User.username == username)):
        raise Conflict(f"User {username} exists already.")
    check_password_rules(password)
    user = User(username=username, display_name=display_name.strip(),
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: User, password: str) -> None:
    check_password_rules(password)
    user.password_hash = hash_password(password)
    user.session_epoch += 1  # sessions opened with the old password end
    session.flush()


def set_active(session: Session, user: User, active: bool) -> None:
    user.active = active
    if not active:
        user.session_epoch += 1
        for token in user_tokens(session, user):
            token.revoked_at = token.revoked_at or utcnow()
    session.flush()


def parse_place(session: Session, role: str, place: str | None) -> dict:
    """A grant's place from its code: a facility for facility roles, a region (or none = the
    whole network) for the others."""
    if role not in ROLES:
        raise field_error("role", f"must be one of {', '.join(ROLES)}")
    if role in FACILITY_ROLES:
        if not place:
            raise field_error("place", f"a {role} is granted at a facility: give its code")
        try:
            facility = network.get_facility(session, place)
        except NotFound:
            raise field_error("place", f"facility {place} does not exist") from None
        if role == "coordinator" and facility.tier != "centre":
            raise field_error("place", "a coordinator works at a centre or designated institution")
        if role == "clinic" and facility.tier == "centre":
            raise field_error("place", "clinic staff work at a station or a clinic")
        return {"facility": facility}
    if not place:
        return {}
    try:
        return {"region": network.get_region(session, place)}
    except NotFound:
        raise field_error("place", f"region {place} does not exist") from None


def grant(session: Session, user: User, role: str, place: str | None,
          *, within: Scope | None = None) -> RoleGrant:
    where = parse_place(session, role, place)
    region_id = (where["facility"].region_id if "facility" in where
                 else where["region"].id if "region" in where else None)
    if within is not None and not (within.everywhere or (
            region_id is not None and within.covers(session, region_id))):
        raise field_error("place", "is outside the region you administer")
    for g_ in user.grants:
        if (g_.role == role and g_.facility is where.get("facility")
                and g_.region is where.get("region")):
            raise Conflict(f"{user.username} holds that role there already.")
    new = RoleGrant(role=role, **where)
    user.grants.append(new)
    user.session_epoch += 1  # the new rights show from the next login
    session.flush()
    return new


def revoke_grant(session: Session, user: User, grant_id: int) -> None:
    match = next((g_ for g_ in user.grants if g_.id == grant_id), None)
    if match is None:
        raise NotFound(f"{user.username} has no grant {grant_id}.")
    user.grants.remove(match)
    user.session_epoch += 1
    session.flush()


# --- logins -------------------------------------------------------------------------------------
def authenticate(session: Session, username: str, password: str, remote_addr: str, *,
                 rules: throttle.Rules, now: datetime | None = None
                 ) -> tuple[User, throttle.MissedFailures | None]:
    """The user, if the password is right and this address may try now (rehab_net/auth/throttle.py),
    with the failed logins for the name since its previous login. Every checked attempt is stored;
    the caller commits even on failure (so failures count)."""
    username = (username or "").strip().lower()[:64]
    remote_addr = (remote_addr or "-")[:64]
    now = now or utcnow()
    throttle.serialize(session, remote_addr)
    refused = throttle.refusal(session, username, remote_addr, now, rules)
    if refused is not None:
        raise TooManyAttempts("Too many failed logins. Try again later.", reason=refused.reason,
                              retry_after=refused.seconds)
    user = session.scalar(select(User).where(User.username == username))
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    ok = ok and user.active
    session.add(LoginAttempt(username=username, remote_addr=remote_addr, succeeded=ok, at=now))
    if not ok:
        audit.record(session, "login_failed", "user", username, actor=username or "anonymous")
        raise LoginFailed("Wrong username or password.")
    missed = throttle.missed_failures(session, username, user.last_login_at or user.created_at)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = now
    audit.record(session, "login", "user", username, actor=username, user_id=user.id)
    session.flush()
    return user, missed


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password or "")
    except (VerificationError, InvalidHashError):
        return False


# --- API tokens ---------------------------------------------------------------------------------
def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(session: Session, user: User, name: str,
                 expires_at: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token; the plain value is returned once and never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user=user, name=name.strip(), token_hash=_digest(plain),
                     prefix=plain[:8], expires_at=expires_at)
    session.add(token)
    session.flush()
    audit.record(session, "token_create", "api_token", str(token.id), detail={"name": token.name})
    return token, plain


def user_tokens(session: Session, user: User) -> list[ApiToken]:
    return list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)
                                .order_by(ApiToken.id)))


def get_token(session: Session, user: User, token_id: int) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.id == token_id,
                                                  ApiToken.user_id == user.id))
    if token is None:
        raise NotFound(f"You have no token {token_id}.")
    return token


def revoke_token(session: Session, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, "token_revoke", "api_token", str(token.id))
    session.flush()


def user_for_token(session: Session, plain: str) -> User | None:
    """The active user owning a live token, or None; stamps its last use (at most per minute)."""
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(plain))
                           .options(selectinload(ApiToken.user).selectinload(User.grants)))
    now = utcnow()
    if (token is None or token.revoked_at is not None or not token.user.active
            or (token.expires_at is not None and token.expires_at <= now)):
        return None
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.commit()
    return token.user


# --- the audit log ------------------------------------------------------------------------------
def list_audit_events(*, actor=None, action=None, object_type=None, object_code=None,
                      since=None, until=None):
    from rehab_net.auth.models import AuditEvent

    stmt = select(AuditEvent)
    for column, value in ((AuditEvent.actor, actor), (AuditEvent.action, action),
                          (AuditEvent.object_type, object_type),
                          (AuditEvent.object_code, object_code)):
        if value:
            stmt = stmt.where(column == value)
    if since:
        stmt = stmt.where(AuditEvent.at >= since)
    if until:
        stmt = stmt.where(AuditEvent.at < until)
    return stmt


def count_of(stmt):
    """A count of a select's rows, as a scalar select."""
    return select(func.count()).select_from(stmt.order_by(None).subquery()).scalar_subquery()
