"""Real `cdip serve` nodes for `cdip bench scale`: each a single uvicorn process on a free
loopback port of its own, with the slot index follower on; their memory and CPU read from
/proc, and the CPU of the PostgreSQL server's processes beside them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from cdip_bench.booking import wait_until_up
from cdip_bench.booking_data import CLERK_NAME, CLERK_PASSWORD

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class ServedNode:
    name: str
    base: str
    process: subprocess.Popen
    headers: dict[str, str]

    def memory_mb(self, field: str = "VmRSS") -> float:
        """Resident memory now (VmRSS) or its peak since start or the last reset (VmHWM)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError(f"no {field} for node {self.name}")

    def reset_peak_memory(self) -> None:
        """Start VmHWM again from the current resident size (Linux: clear_refs 5)."""
        Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")

    def cpu_s(self) -> float:
        return process_cpu_s(self.process.pid)


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS


def postgres_cpu_s(backend_pids: list[int]) -> float:
    """CPU seconds of the PostgreSQL backends serving one database (their pids from
    pg_stat_activity): the server is shared with other work on this machine."""
    return sum(process_cpu_s(pid) for pid in backend_pids)


@contextmanager
def running_nodes(database_url: str, nodes: dict[str, dict[str, str]]
                  ) -> Iterator[list[ServedNode]]:
    """`cdip serve` per name (with its extra environment), started at once, each signed in
    as the benchmark's clerk; killed afterwards."""
    with ExitStack() as stack:
        started = [stack.enter_context(_node(name, database_url, env))
                   for name, env in nodes.items()]
        for node in started:
            wait_until_up(node.base, node.process, timeout_s=300, what=f"node {node.name}")
            answer = httpx.post(f"{node.base}/api/auth/staff/sign-in", timeout=60,
                                json={"username": CLERK_NAME, "password": CLERK_PASSWORD})
            answer.raise_for_status()
            node.headers = {"Authorization": f"Bearer {answer.json()['access_token']}"}
        yield started


@contextmanager
def _node(name: str, database_url: str, environment: dict[str, str]) -> Iterator[ServedNode]:
    port = _free_port()
    folder = tempfile.mkdtemp(prefix=f"cdip-bench-{name}-")
    env = {**os.environ, "CDIP_DATABASE_URL": database_url, "CDIP_ENVIRONMENT": "test",
           "CDIP_INDEX_FOLLOW_SECONDS": "0.25", "CDIP_RUN_JOBS_IN_SERVER": "false",
           **environment}
    cdip = Path(sys.executable).with_name("cdip")
    process = subprocess.Popen([str(cdip), "serve", "--host", "127.0.0.1", "--port", str(port)],
                               env=env, cwd=folder, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        yield ServedNode(name, f"http://127.0.0.1:{port}", process, {})
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
