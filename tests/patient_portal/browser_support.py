"""Driving the portal in Debian's Chromium: a live uvicorn on a free port over a small
seeded SQLite database, outside requests blocked, axe-core run on every page, screenshots
of the main pages saved under test-artifacts/portal/."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from cdip_bench.booking import wait_until_up as serving
from patient_portal.app import frontend_installed

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
AXE_SOURCE = REPO_ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = REPO_ROOT / "test-artifacts" / "portal"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
SERVER_START_TIMEOUT_S = 90
"""Generous: a loaded 2-core machine can take most of a minute to import and start the app."""


def require_chromium() -> None:
    """Skip without Chromium (or without the npm packages) locally; under CI (CI=true)
    either missing is a failure."""
    if CHROMIUM.exists() and AXE_SOURCE.is_file() and frontend_installed():
        return
    message = (f"{CHROMIUM} is missing: apt-get install chromium" if not CHROMIUM.exists()
               else "axe-core or nhsuk-frontend is missing: run `make setup` (npm ci)")
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def headless_chromium() -> Iterator[Browser]:
    """Debian's Chromium, headless, for one module's browser tests (portal and console)."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    process: subprocess.Popen


@contextmanager
def live_server(database_url: str, hold_minutes: int = 10,
                environment: str = "test") -> Iterator[LiveServer]:
    """The real service (portal included) under uvicorn on 127.0.0.1 and a free port."""
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "CDIP_DATABASE_URL": database_url, "CDIP_ENVIRONMENT": environment,
           "CDIP_PUBLIC_BASE_URL": base_url, "CDIP_HOLD_MINUTES": str(hold_minutes)}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "cdip_web.app:create_app", "--factory",
         "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT, env=env)
    try:
        serving(base_url, process, SERVER_START_TIMEOUT_S, "the portal server")
        yield LiveServer(base_url, process)
    finally:
        process.terminate()
        process.wait(timeout=10)


def axe_violations(page: Page) -> list[str]:
    """axe-core's WCAG 2.2 A/AA (and best-practice) violations on the page, one line each.
    Evaluated through the browser's debugging protocol, so the page's CSP does not block it."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE_SOURCE.read_text())
    result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                           "resultTypes: ['violations']})", AXE_TAGS)
    return [f"{v['id']}: {v['help']} ({', '.join(n['target'][0] for n in v['nodes'][:3])})"
            for v in result["violations"]]


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
