"""The shared lookup of one row by its integer id: a 404 naming what and which, for an id the
database has no row for and for one it could not even hold."""
from __future__ import annotations

import pytest

from rehab_net.errors import NotFound
from rehab_net.listing import get_or_404
from rehab_net.network.models import Region
from rehab_net.schemas import MAX_ID
from tests.factories import tiny_network


@pytest.mark.parametrize("app", ["sqlite"], indirect=True)
def test_get_or_404_finds_the_row_or_names_the_missing_id(session):
    region = tiny_network(session)["district"]
    session.commit()
    assert get_or_404(session, Region, region.id, "region") is region
    for missing in (0, -1, region.id + 1000, MAX_ID, MAX_ID + 1, 2**63):
        with pytest.raises(NotFound, match=f"^There is no region {missing}\\.$"):
            get_or_404(session, Region, missing, "region")
