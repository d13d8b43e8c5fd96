"""Fixtures for the report tests (helpers live in reports_fixtures.py)."""
import pytest

from reports_fixtures import make_evaluation


@pytest.fixture
def evaluation():
    return make_evaluation()
