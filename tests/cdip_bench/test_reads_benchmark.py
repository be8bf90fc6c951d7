"""`cdip bench reads` at a small scale, on SQLite and PostgreSQL: it reports the logged and
unlogged read times in-process and over HTTP, and every logged read left exactly one row in
the access log."""

from __future__ import annotations

import pytest

from cdip_bench.reads import reads_benchmark


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_a_small_run_reports_its_figures_and_logs_every_read_once(
        kind: str, request: pytest.FixtureRequest) -> None:
    server = "" if kind == "sqlite" else request.getfixturevalue("postgres_database_url")

    figures = reads_benchmark(server, appointments=10, service_reads=20, http_reads=10)

    assert figures["database"] == kind
    assert figures["log_rows"] == figures["logged_reads"] == 30
    assert figures["service_logged_p50_ms"] > 0 and figures["http_slot_read_p50_ms"] > 0
    assert figures["service_logged_over_unlogged_p50"] > 0
