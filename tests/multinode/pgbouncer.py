"""A real PgBouncer in transaction pooling in front of the test PostgreSQL server, as
deploy/pgbouncer/pgbouncer.ini configures it (Debian package `pgbouncer`; it refuses to run
as root, so as root it drops to the `postgres` user)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

BINARY = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
CONFIG = """[databases]
* = host={host} port={port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {listen}
unix_socket_dir =
auth_type = trust
auth_file = {folder}/users.txt
pool_mode = transaction
default_pool_size = 20
max_client_conn = 400
ignore_startup_parameters = extra_float_digits,options
logfile = {folder}/pgbouncer.log
pidfile = {folder}/pgbouncer.pid
"""


def available() -> bool:
    return Path(BINARY).exists()


@contextmanager
def running_pgbouncer(server_url: str, listen_port: int) -> Iterator[str]:
    """PgBouncer on 127.0.0.1:`listen_port` in front of `server_url`'s server; yields the
    same URL through it, with `?pgbouncer=true`."""
    server = make_url(server_url)
    folder = Path(tempfile.mkdtemp(prefix="cdip-pgbouncer-"))
    (folder / "users.txt").write_text(f'"{server.username}" ""\n')
    (folder / "pgbouncer.ini").write_text(CONFIG.format(
        host=server.host or "127.0.0.1", port=server.port or 5432, listen=listen_port,
        folder=folder))
    command = [BINARY, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres")
        for item in folder.iterdir():
            shutil.chown(item, "postgres")
        command[1:1] = ["-u", "postgres"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    through = server.set(host="127.0.0.1", port=listen_port).update_query_dict(
        {"pgbouncer": "true"})
    try:
        _wait_until_up(through.set(drivername="postgresql").render_as_string(
            hide_password=False).split("?")[0], process)
        yield through.render_as_string(hide_password=False)
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def _wait_until_up(url: str, process: subprocess.Popen, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited with {process.returncode}")
        try:
            with psycopg.connect(url, connect_timeout=1) as connection:
                connection.execute("SELECT 1")
                return
        except psycopg.OperationalError:
            time.sleep(0.1)
    raise RuntimeError("pgbouncer did not answer")
