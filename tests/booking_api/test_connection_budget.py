"""The connection budget: what each process's pools allow, against the server's limit."""

from __future__ import annotations

import pytest

from booking_api.core.connection_budget import ADMIN_MARGIN, budget, process_connections
from booking_api.database import open_database


def test_a_process_counts_its_main_and_bookkeeping_pools(database_url: str) -> None:
    database = open_database(database_url, pool_size=7, max_overflow=3)
    try:
        per_process = process_connections(database)
    finally:
        database.dispose()

    bookkeeping = 10 if database.kind == "postgresql" else 0
    assert per_process == 7 + 3 + bookkeeping


@pytest.mark.postgres
@pytest.mark.parametrize(("pool", "fits"), [(5, True), (60, False)])
def test_the_budget_is_checked_against_the_servers_limit(postgres_database_url: str,
                                                         pool: int, fits: bool) -> None:
    database = open_database(postgres_database_url, pool_size=pool, max_overflow=0)
    try:
        figures = budget(database, web_nodes=2, workers=1)
    finally:
        database.dispose()

    assert figures.total == (pool + 10) * 3 + ADMIN_MARGIN
    assert figures.server_limit is not None and figures.fits is fits


def test_behind_pgbouncer_the_server_is_not_the_limit(postgres_database_url: str) -> None:
    database = open_database(f"{postgres_database_url}?pgbouncer=true", pool_size=5)
    try:
        figures = budget(database, web_nodes=4, workers=2, ask_server=False)
    finally:
        database.dispose()

    assert figures.pgbouncer and figures.fits is None
