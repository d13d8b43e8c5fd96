"""Fixtures for the report tests (helpers live in reports_fixtures.py)."""
import pytest

from tests.reports.reports_fixtures import make_evaluation


@pytest.fixture
def evaluation():
    return make_evaluation()
