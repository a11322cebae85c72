"""What each role may do, and where. One table: every check in the app reads it.

A permission is granted by a role; its *scope* is the union of the places of the user's grants
that carry it: a facility's region, a region, or the whole network. An object outside the scope is
treated as if it did not exist (404), so no one learns another facility's data by guessing codes.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    # Centre coordinator: the network, the persons and cases of the centre's area.
    "coordinator": frozenset({"network.read", "person.read", "case.read", "referral.read",
                              "referral.write", "booking.read", "booking.write"}),
    # Station / clinic staff: register persons and cases of their area, and keep the
    # disability certificates of its holders (issue, reissue, renew, move out, transfer, cancel).
    "clinic": frozenset({"network.read", "person.read", "person.write", "case.read",
                         "case.write", "certificate.write", "referral.read", "referral.write",
                         "booking.read", "booking.write"}),
    # Planner: the network, plans (results limited to the planner's region); no personal record.
    "planner": frozenset({"network.read", "plan.read", "plan.run", "policy.write",
                          "referral.read", "booking.read"}),
    # Admin: users, facilities, services, capacities; no personal record.
    "admin": frozenset({"network.read", "network.write", "user.manage"}),
    # Auditor: the audit log and nothing else.
    "auditor": frozenset({"audit.read"}),
}
PERMISSIONS = frozenset().union(*ROLE_PERMISSIONS.values())
# Permissions that act on the whole network (plans solve all of it; services are network-wide):
# only a grant without a region, or at the root region, carries them.
NETWORK_WIDE = frozenset({"plan.run", "policy.write"})


@dataclass(frozen=True)
class Scope:
    """Where a permission holds: ``everywhere``, or the subtrees of ``region_ids``; for persons
    and cases also ``person_ids`` (a select): those referred to or by the user's facilities."""

    everywhere: bool
    region_ids: frozenset[int]
    person_ids: object = None  # a select of person ids, or None

    @property
    def nowhere(self) -> bool:
        return not self.everywhere and not self.region_ids and self.person_ids is None

    def person_filter(self, person_id, home_region_id):
        """SQL: a person (by id and home region) lies in the scope."""
        condition = self.region_filter(home_region_id)
        if self.person_ids is not None and not self.everywhere:
            condition = or_(condition, person_id.in_(self.person_ids))
        return condition

    def region_filter(self, column):
        """A SQL condition: ``column`` (a region id) lies in the scope."""
        if self.everywhere:
            return true()
        if not self.region_ids:
            return false()
        from rehab_net.network.operations import subtree_ids

        return column.in_(subtree_ids(self.region_ids))

    def covers(self, session: Session, region_id: int | None) -> bool:
        if self.everywhere:
            return True
        if region_id is None or not self.region_ids:
            return False
        from rehab_net.network.models import Region

        probe = select(Region.id).where(Region.id == region_id,
                                        self.region_filter(Region.id))
        return session.scalar(probe) is not None


EVERYWHERE = Scope(True, frozenset())
NOWHERE = Scope(False, frozenset())


def scope_of(grants, permission: str) -> Scope:
    """The scope of ``permission`` over a user's grants."""
    regions: set[int] = set()
    for grant in grants:
        if permission not in ROLE_PERMISSIONS[grant.role]:
            continue
        region_id = grant.scope_region_id
        root = region_id is None or (grant.facility is None and grant.region is not None
                                     and grant.region.parent_id is None)
        if root:
            return EVERYWHERE
        if permission in NETWORK_WIDE:
            continue
        regions.add(region_id)
    return Scope(False, frozenset(regions))


def permissions_of(grants) -> frozenset[str]:
    return frozenset().union(*(ROLE_PERMISSIONS[g.role] for g in grants)) if grants else frozenset()
