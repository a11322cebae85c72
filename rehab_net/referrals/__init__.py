"""Two-way referrals."""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Staff of a facility also read the persons of the referrals it sent or received."""
    from rehab_net.auth.principal import add_person_source
    from rehab_net.referrals.operations import referred_person_ids

    add_person_source("referrals", referred_person_ids)
