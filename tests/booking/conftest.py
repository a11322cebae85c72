"""The booking page tests' clients: a test client logged in as the booking world's coordinator
(`coord`) or the station's clinic staff (`staff`), for tests/booking/test_*_pages.py."""
from __future__ import annotations

import pytest

from tests.factories import log_in


def _client_of(app, user):
    client = app.test_client()
    log_in(client, user)
    return client


@pytest.fixture
def coord(app, w):
    return _client_of(app, w["users"]["coord"])


@pytest.fixture
def staff(app, w):
    return _client_of(app, w["users"]["staff"])
