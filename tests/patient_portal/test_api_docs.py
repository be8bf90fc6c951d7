"""/docs works offline (issue 17, item 7): Swagger UI's script and styles come from this
service, never a CDN; a browser that can reach nothing else still shows the API."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect


def test_the_docs_page_loads_its_files_from_this_service(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/") for s in sources), sources
    for source in sources:
        assert client.get(source).status_code == 200, source


def test_the_docs_page_draws_the_api_with_every_outside_request_blocked(page: Page) -> None:
    outside: list[str] = []
    page.on("requestfailed", lambda request: outside.append(request.url))
    page.goto("/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text(
        "CDIP imaging network scheduling")
    assert [url for url in outside if "127.0.0.1" not in url] == []
