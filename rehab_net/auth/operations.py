"""Users, role grants, API tokens and logins. Operations flush; the caller commits."""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from rehab_net.auth import audit, throttle
from rehab_net.auth import messages as _messages  # noqa: F401 - registers the codes
from rehab_net.auth.models import ApiToken, LoginAttempt, RoleGrant, User
from rehab_net.auth.permissions import ROLE_PERMISSIONS, Scope
from rehab_net.db import utcnow
from rehab_net.errors import Conflict, DomainError, Forbidden, NotFound, field_error
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
        raise field_error(field, "auth.password_short", min=MIN_PASSWORD_LENGTH)
    if password.strip() != password or not password.strip():
        raise field_error(field, "auth.password_spaces")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# --- users --------------------------------------------------------------------------------------
def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower())
                          .options(selectinload(User.grants)))
    if user is None:
        raise NotFound("auth.user_not_found", username=username)
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
        raise Conflict("auth.user_exists", username=username)
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
        raise field_error("role", "auth.role_unknown", roles=", ".join(ROLES))
    if role in FACILITY_ROLES:
        if not place:
            raise field_error("place", "auth.facility_role_place", role=role)
        try:
            facility = network.get_facility(session, place)
        except NotFound:
            raise field_error("place", "auth.facility_unknown", code=place) from None
        if role == "coordinator" and facility.tier != "centre":
            raise field_error("place", "auth.coordinator_place")
        if role == "clinic" and facility.tier == "centre":
            raise field_error("place", "auth.clinic_place")
        return {"facility": facility}
    if not place:
        return {}
    try:
        return {"region": network.get_region(session, place)}
    except NotFound:
        raise field_error("place", "auth.region_unknown", code=place) from None


# Roles whose holder reads personal records or other people's audit trail. Only an administrator
# of the whole network grants them, so a regional administrator cannot reach personal data by
# granting such a role to an account it controls (itself, or one it just created).
PERSONAL_DATA_ROLES = frozenset(role for role, rights in ROLE_PERMISSIONS.items()
                                if rights & {"person.read", "case.read", "audit.read"})


def _grant_place_label(grant_: RoleGrant) -> str | None:
    place = grant_.facility or grant_.region
    return place.code if place is not None else None


def check_may_grant(session: Session, by: User | None, target: User, role: str,
                    region_id: int | None, within: Scope | None) -> None:
    """The grant rules (docs/security.md): nobody grants to themselves; an administrator grants
    only inside the region it administers; a role that reads personal data, or the audit log,
    only an administrator of the whole network grants. ``by``/``within`` None: the command line
    (whoever runs it owns the server)."""
    if by is not None and by.id == target.id:
        raise Forbidden("auth.grant_self")
    if within is None or within.everywhere:
        return
    if region_id is None or not within.covers(session, region_id):
        raise field_error("place", "auth.grant_outside_region")
    if role in PERSONAL_DATA_ROLES:
        raise field_error("role", "auth.grant_network_admin_only")


def grant(session: Session, user: User, role: str, place: str | None,
          *, within: Scope | None = None, by: User | None = None) -> RoleGrant:
    where = parse_place(session, role, place)
    region_id = (where["facility"].region_id if "facility" in where
                 else where["region"].id if "region" in where else None)
    check_may_grant(session, by, user, role, region_id, within)
    for g_ in user.grants:
        if (g_.role == role and g_.facility is where.get("facility")
                and g_.region is where.get("region")):
            raise Conflict("auth.grant_exists", username=user.username)
    new = RoleGrant(role=role, **where)
    user.grants.append(new)
    user.session_epoch += 1  # the new rights show from the next login
    session.flush()
    audit.record(session, "grant", "user", user.username,
                 detail={"role": role, "place": _grant_place_label(new)})
    return new


def revoke_grant(session: Session, user: User, grant_id: int, *, by: User | None = None) -> None:
    match = next((g_ for g_ in user.grants if g_.id == grant_id), None)
    if match is None:
        raise NotFound("auth.grant_not_found", username=user.username, id=grant_id)
    if by is not None and by.id == user.id and match.role == "admin":
        # An administrator's own last word on users: another administrator takes it away.
        raise Forbidden("auth.revoke_own_admin")
    audit.record(session, "revoke", "user", user.username,
                 detail={"role": match.role, "place": _grant_place_label(match)})
    user.grants.remove(match)
    user.session_epoch += 1
    session.flush()


def check_may_take_over(session: Session, by: User | None, target: User,
                        within: Scope | None) -> None:
    """Setting someone's password hands their account over: an administrator may do it only to
    accounts whose every role it could have granted itself (otherwise a regional administrator
    would reach personal data by resetting a clinic worker's password)."""
    if within is None or within.everywhere or (by is not None and by.id == target.id):
        return
    if any(g_.role in PERSONAL_DATA_ROLES for g_ in target.grants):
        raise Forbidden("auth.take_over_personal_data")


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
        raise TooManyAttempts("auth.too_many_logins", reason=refused.reason,
                              retry_after=refused.seconds)
    user = session.scalar(select(User).where(User.username == username))
    ok = _verify(user.password_hash if user else _DUMMY_HASH, password) and user is not None
    ok = ok and user.active
    session.add(LoginAttempt(username=username, remote_addr=remote_addr, succeeded=ok, at=now))
    if not ok:
        audit.record(session, "login_failed", "user", username, actor=username or "anonymous")
        raise LoginFailed("auth.login_failed")
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
        raise NotFound("auth.token_not_found", id=token_id)
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
        token.last_used_at = now  # committed by the caller (auth.guard), even if the request fails
    return token.user


# --- the audit log ------------------------------------------------------------------------------
def list_audit_events(*, actor=None, action=None, object_type=None, object_code=None,
                      since=None, until=None, person=None, scope: Scope | None = None):
    """Audit events, newest last unless sorted. With a regional ``scope`` (an auditor of a
    region): the events of that region's staff and about its persons, cases and users. With
    ``person`` (a person's code): the events about that person and every record of theirs the
    modules registered through add_person_records (cases, referrals, appointments)."""
    from rehab_net.auth.models import AuditEvent

    stmt = select(AuditEvent)
    if scope is not None and not scope.everywhere:
        stmt = stmt.where(_audit_in_scope(AuditEvent, scope))
    if person:
        stmt = stmt.where(_about_person(AuditEvent, person))
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


# object type -> function(scope) -> a select of the codes of that type inside the scope. Modules
# above auth register theirs at app init (people: persons and cases), so auth imports none of them.
_AUDIT_SUBJECTS: dict[str, Callable[[Scope], object]] = {}


def add_audit_subject(object_type: str, codes_in: Callable[[Scope], object]) -> None:
    """Let a region's auditors read the events about the ``object_type`` records ``codes_in``
    selects for their scope (keyed by type: building the app again registers it once)."""
    _AUDIT_SUBJECTS[object_type] = codes_in


# object type -> function(person code) -> a select of the codes of that type that are the
# person's, or the codes themselves where they are not a column (appointments: A + id). people:
# the person and their cases; referrals; booking: appointments.
_PERSON_RECORDS: dict[str, Callable[[str], object]] = {}


def add_person_records(object_type: str, codes_of: Callable[[str], object]) -> None:
    """Let the audit log's person filter find the ``object_type`` records of a person."""
    _PERSON_RECORDS[object_type] = codes_of


def _about_person(event, person_code: str):
    """SQL: the event is about the person or one of their registered records."""
    from sqlalchemy import and_, or_

    kinds = _PERSON_RECORDS or {"person": lambda code: [code]}
    return or_(*(and_(event.object_type == kind, event.object_code.in_(codes(person_code)))
                 for kind, codes in kinds.items()))


def _audit_in_scope(event, scope: Scope):
    """SQL: an event belongs to the region: done by one of its staff (a user whose every grant
    lies in it), or about one of its staff accounts or of the records registered through
    add_audit_subject (persons, cases). Events of users working in several regions, and of
    anonymous callers, are for the network's auditors."""
    from sqlalchemy import and_, or_

    staff = list_users(scope=scope).where(
        select(RoleGrant.id).where(RoleGrant.user_id == User.id).exists())
    staff_ids = staff.with_only_columns(User.id).order_by(None)
    staff_names = staff.with_only_columns(User.username).order_by(None)
    return or_(
        event.user_id.in_(staff_ids),
        and_(event.object_type == "user", event.object_code.in_(staff_names)),
        *(and_(event.object_type == object_type, event.object_code.in_(codes_in(scope)))
          for object_type, codes_in in _AUDIT_SUBJECTS.items()),
    )


def count_of(stmt):
    """A count of a select's rows, as a scalar select."""
    return select(func.count()).select_from(stmt.order_by(None).subquery()).scalar_subquery()
