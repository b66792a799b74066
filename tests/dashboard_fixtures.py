"""Fixtures shared by the dashboard's tests (test client and browser): a site and two accounts.

Registered for the whole suite by ``pytest_plugins`` in ``tests/conftest.py``; a test module's own
fixture of the same name (``site`` in test_door.py, say) takes precedence.
"""

from __future__ import annotations

import pytest

from tests.e2e.seed import make_moderator, make_site


@pytest.fixture
def site(db):
    return make_site(db, "demo")[0]


@pytest.fixture
def linh(db, site) -> int:
    return make_moderator(db, "linh")


@pytest.fixture
def chief(db, site) -> int:
    return make_moderator(db, "chief", role="admin")
