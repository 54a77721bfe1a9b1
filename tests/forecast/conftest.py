"""Fixtures of the forecast tests: one model size at a time, its runs."""

import pytest
from curves import DATA, SIZES, load_run


@pytest.fixture(scope="session", params=SIZES)
def size(request):
    return request.param


@pytest.fixture(scope="session")
def runs(size):
    return {p.stem: load_run(size, p.stem) for p in sorted((DATA / size).glob("*.csv"))}
