"""How the service connects: SQLite in WAL with foreign keys, a busy timeout and write
transactions that queue instead of failing; PostgreSQL URLs steered to psycopg 3."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import IntegrityError, OperationalError

from booking_api.core import migrate
from booking_api.core.db import (
    SQLITE_BUSY_TIMEOUT_MS,
    DatabaseUrlError,
    make_engine,
    normalise_url,
    read_only,
    transaction,
)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'folder' / 'cdip.sqlite3'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE tally (n INTEGER NOT NULL)"))
    yield engine
    engine.dispose()


def test_sqlite_connections_use_wal_foreign_keys_and_a_busy_timeout(sqlite_engine: Engine
                                                                    ) -> None:
    with sqlite_engine.connect() as connection:
        pragmas = {name: connection.execute(text(f"PRAGMA {name}")).scalar()
                   for name in ("journal_mode", "foreign_keys", "busy_timeout")}

    assert pragmas == {"journal_mode": "wal", "foreign_keys": 1,
                       "busy_timeout": SQLITE_BUSY_TIMEOUT_MS}


def test_sqlite_engine_makes_the_database_folder(tmp_path: Path) -> None:
    make_engine(f"sqlite:///{tmp_path / 'var' / 'cdip.sqlite3'}").dispose()

    assert (tmp_path / "var").is_dir()


def test_sqlite_refuses_a_row_whose_foreign_key_points_nowhere(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cdip.sqlite3'}"
    migrate.upgrade(url)
    engine = make_engine(url)
    with pytest.raises(IntegrityError, match="FOREIGN KEY"), engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO room (room_id, site_id, name, modality, capabilities, max_weight_kg) "
            "VALUES ('R1', 'NO-SUCH-SITE', 'Room', 'XR', '', 200)"))
    engine.dispose()


def test_concurrent_read_then_write_transactions_do_not_fail_as_locked(
    sqlite_engine: Engine,
) -> None:
    # A deferred transaction that reads and then writes fails at once with "database is
    # locked" when another writer committed in between; BEGIN IMMEDIATE makes it wait.
    writers, rounds = 4, 25
    errors: list[BaseException] = []
    start = threading.Barrier(writers)

    def write() -> None:
        start.wait()
        try:
            for _ in range(rounds):
                with sqlite_engine.begin() as connection:
                    count = connection.execute(text("SELECT count(*) FROM tally")).scalar()
                    connection.execute(text("INSERT INTO tally (n) VALUES (:n)"), {"n": count})
        except BaseException as error:  # collected and asserted on below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    with sqlite_engine.connect() as connection:
        counts = connection.execute(text("SELECT n FROM tally ORDER BY n")).scalars().all()
    assert counts == list(range(writers * rounds))


def test_a_read_only_transaction_does_not_wait_for_a_writer(sqlite_engine: Engine) -> None:
    with sqlite_engine.begin() as writer:
        writer.execute(text("INSERT INTO tally (n) VALUES (1)"))
        with read_only(sqlite_engine).connect() as reader:
            seen = reader.execute(text("SELECT count(*) FROM tally")).scalar()

    assert seen == 0


def test_transaction_rolls_everything_back_on_error(sqlite_engine: Engine) -> None:
    with pytest.raises(RuntimeError), transaction(sqlite_engine) as session:
        session.execute(text("INSERT INTO tally (n) VALUES (1)"))
        raise RuntimeError("half-way")

    with sqlite_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tally")).scalar() == 0


def _begins_issued(engine: Engine) -> list[str]:
    """The BEGIN statements sent to SQLite through `engine`, as they are sent."""
    issued: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            issued.append(statement)
    return issued


def _write_in_thread(engine: Engine) -> threading.Thread:
    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO tally (n) VALUES (2)"))
    thread = threading.Thread(target=write)
    thread.start()
    return thread


def test_a_second_writer_of_the_process_queues_at_the_gate_not_at_sqlites_lock(
        sqlite_engine: Engine) -> None:
    # SQLite's busy handler polls at up to 100 ms and lets newcomers in first; a writer
    # waiting at the process's gate is woken when the one before it ends.
    issued = _begins_issued(sqlite_engine)
    with sqlite_engine.begin() as first:
        first.execute(text("INSERT INTO tally (n) VALUES (1)"))
        second = _write_in_thread(sqlite_engine)
        second.join(timeout=0.3)
        assert second.is_alive()
        assert issued == ["BEGIN IMMEDIATE"]
    second.join(timeout=5)

    assert not second.is_alive()
    assert issued == ["BEGIN IMMEDIATE", "BEGIN IMMEDIATE"]


def test_engines_on_one_file_queue_at_one_gate(sqlite_engine: Engine) -> None:
    other = make_engine(str(sqlite_engine.url))
    issued = _begins_issued(other)
    try:
        with sqlite_engine.begin() as first:
            first.execute(text("INSERT INTO tally (n) VALUES (1)"))
            second = _write_in_thread(other)
            second.join(timeout=0.3)
            assert issued == []
        second.join(timeout=5)
    finally:
        other.dispose()

    assert issued == ["BEGIN IMMEDIATE"]


def test_a_transaction_abandoned_without_commit_lets_the_next_writer_in(
        sqlite_engine: Engine) -> None:
    connection = sqlite_engine.connect()
    connection.begin()
    connection.execute(text("INSERT INTO tally (n) VALUES (1)"))
    connection.close()  # the pool rolls it back on return

    writer = _write_in_thread(sqlite_engine)
    writer.join(timeout=5)

    assert not writer.is_alive()
    with sqlite_engine.connect() as reader:
        assert reader.execute(text("SELECT n FROM tally")).scalars().all() == [2]


def test_a_begin_that_fails_lets_the_next_writer_in(sqlite_engine: Engine) -> None:
    other_process = sqlite3.connect(sqlite_engine.url.database, isolation_level=None)
    other_process.execute("BEGIN IMMEDIATE")
    with sqlite_engine.connect() as connection:
        driver = connection.connection.driver_connection
        driver.execute("PRAGMA busy_timeout=0")  # not through SQLAlchemy: no BEGIN
        with pytest.raises(OperationalError):
            connection.execute(text("INSERT INTO tally (n) VALUES (1)"))
        driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    other_process.execute("ROLLBACK")
    other_process.close()

    writer = _write_in_thread(sqlite_engine)
    writer.join(timeout=5)

    assert not writer.is_alive()


@pytest.mark.parametrize("url", [
    "postgresql://postgres@127.0.0.1:5432/cdip",
    "postgres://postgres@127.0.0.1:5432/cdip",
    "postgresql+psycopg2://postgres@127.0.0.1:5432/cdip",
])
def test_postgresql_urls_use_psycopg_3(url: str) -> None:
    assert normalise_url(url).drivername == "postgresql+psycopg"


@pytest.mark.parametrize("url", ["mysql://root@localhost/cdip", "not a url"])
def test_unusable_database_url_names_the_setting(url: str) -> None:
    with pytest.raises(DatabaseUrlError, match="CDIP_DATABASE_URL"):
        normalise_url(url)
