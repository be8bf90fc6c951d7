"""One small synthetic history for the whole forecasting test session (written once).

Tests run the models on one thread: on a shared two-core machine OpenMP's spinning threads
can make a gradient-boosting fit ten times slower when another process holds a core."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from threadpoolctl import threadpool_limits

from domain.history import History, read_history
from tests.forecasting.history_fixture import FixtureSpec, write_history


@pytest.fixture(scope="session", autouse=True)
def one_thread() -> Iterator[None]:
    with threadpool_limits(limits=1):
        yield


@pytest.fixture(scope="session")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_history(tmp_path_factory.mktemp("history"), FixtureSpec())


@pytest.fixture(scope="session")
def history(history_dir: Path) -> History:
    return read_history(history_dir)
