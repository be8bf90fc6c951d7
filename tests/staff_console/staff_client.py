"""A TestClient for the console's pages that sends back a page's hidden fields (CSRF token,
form key) as a browser would, and signs in as a given role."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.testclient import TestClient
from httpx import Response

from tests.booking_api.access_support import PASSWORD
from tests.staff_console.console_world import STAFF

_HIDDEN = re.compile(r'name="(csrf_token|form_key)" value="([^"]+)"')


@dataclass
class StaffClient:
    client: TestClient
    last: Response | None = None

    def get(self, path: str) -> Response:
        self.last = self.client.get(path)
        return self.last

    def post(self, path: str, data: dict[str, object] | None = None, *,
             hidden: bool = True) -> Response:
        """Post `data` with the hidden fields of the page shown last (unless told not to)."""
        assert self.last is not None
        fields = dict(_HIDDEN.findall(self.last.text)) if hidden else {}
        self.last = self.client.post(path, data={**fields, **(data or {})})
        return self.last

    def sign_in(self, role: str, password: str = PASSWORD) -> Response:
        self.get("/staff/sign-in")
        return self.post("/staff/sign-in", {"username": STAFF[role], "password": password})

    def title(self) -> str:
        assert self.last is not None
        found = re.search(r"<title>([^<]*)</title>", self.last.text)
        return found.group(1) if found else ""

    def path(self) -> str:
        assert self.last is not None
        return self.last.url.path
