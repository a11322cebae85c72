"""Who acts where: the user behind a request with the grants loaded once, and the scope of each
permission derived from them.

Modules above auth may widen what a principal's facilities read about persons: referrals adds
"staff also see the persons of their referrals" through ``add_person_source`` at app init
(rehab_net.referrals.init_app), so auth needs no import of referrals.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from sqlalchemy import union

from rehab_net.access import SELF_SERVICE
from rehab_net.auth.models import RoleGrant, User
from rehab_net.auth.permissions import ROLE_PERMISSIONS, Scope, scope_of

# name -> function(facility ids) -> a select of person ids those facilities also read. Keyed by
# name so that building the app again (tests build many) registers a source once.
_PERSON_SOURCES: dict[str, Callable[[set[int]], object]] = {}


def add_person_source(name: str, source: Callable[[set[int]], object]) -> None:
    """Let the staff of a facility read (person.read, case.read) the persons ``source`` selects
    for their facilities, beyond their regions."""
    _PERSON_SOURCES[name] = source


def _persons_of(facilities: set[int]):
    selects = [source(facilities) for source in _PERSON_SOURCES.values()]
    if not selects:
        return None
    return selects[0] if len(selects) == 1 else union(*selects)


@dataclass
class Principal:
    """The user behind a request, with the grants loaded once."""

    user: User
    grants: list[RoleGrant] = field(default_factory=list)
    via: str = "session"  # or "token"

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def username(self) -> str:
        return self.user.username

    @property
    def display_name(self) -> str:
        return self.user.display_name

    @cached_property
    def _scopes(self) -> dict[str, Scope]:
        return {}

    def scope(self, permission: str) -> Scope:
        if permission not in self._scopes:
            found = scope_of(self.grants, permission)
            if permission in ("person.read", "case.read") and not found.everywhere:
                found = self._with_referred_persons(found, permission)
            self._scopes[permission] = found
        return self._scopes[permission]

    def _with_referred_persons(self, found: Scope, permission: str) -> Scope:
        """A centre reads the persons referred to it from anywhere, a clinic those it referred:
        staff of a facility (with the permission) see the persons of its referrals (the sources
        registered through add_person_source)."""
        facilities = {g.facility_id for g in self.grants if g.facility_id is not None
                      and permission in ROLE_PERMISSIONS[g.role]}
        persons = _persons_of(facilities) if facilities else None
        if persons is None:
            return found
        return Scope(found.everywhere, found.region_ids, persons)

    def can(self, permission: str) -> bool:
        return permission == SELF_SERVICE or not self.scope(permission).nowhere
