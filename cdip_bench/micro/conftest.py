"""One small booking world on SQLite for the search and booking micro-benchmarks: a week of
the reference network's diaries (a third of its sessions open), built once per run and opened
the way the service opens its database."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits

from booking_api.core.db import Database
from booking_api.database import open_database
from cdip_bench.booking_data import BenchWorld, build_world, scratch_database

WORLD_REQUESTS = 80
"""Appointable one-slot X-ray requests: one for the search, the rest for bookings."""


@pytest.fixture(scope="session")
def booking_world() -> Iterator[BenchWorld]:
    with scratch_database(None) as url:
        world = build_world(url, weeks=1, simple=WORLD_REQUESTS, varied=1, seed=7,
                            session_share=0.3)
        try:
            yield world
        finally:
            world.engine.dispose()


@pytest.fixture(scope="session")
def service_database(booking_world: BenchWorld) -> Iterator[Database]:
    database = open_database(booking_world.url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def one_thread() -> Iterator[None]:
    """Numerical libraries on one thread: on two shared cores, OpenMP's spinning threads make
    timings swing with whatever else the machine is doing."""
    with threadpool_limits(limits=1):
        yield


@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter,
                            config: pytest.Config) -> None:
    """Say how busy the machine was: with more runnable processes than cores, medians of the
    longer benchmarks swing by up to twice, and a comparison means little."""
    if config.getoption("benchmark_disable") and not config.getoption("benchmark_enable"):
        return
    one, five, _ = os.getloadavg()
    cores = os.cpu_count() or 1
    busy = " (busy: rerun when it is quieter before trusting a comparison)" if five > cores else ""
    terminalreporter.write_line(f"load average {one:.1f} (1 min), {five:.1f} (5 min) "
                                f"on {cores} cores{busy}")
