"""A TestClient that fills in a page's hidden fields (CSRF token, idempotency key) the way
a browser sends them back, and remembers every URL it was sent to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fastapi.testclient import TestClient
from httpx import Response

from tests.patient_portal.portal_world import PortalPatientLogin

_HIDDEN = re.compile(r'name="(csrf_token|form_key)" value="([^"]+)"')


@dataclass
class PageClient:
    client: TestClient
    last: Response | None = None
    urls: list[str] = field(default_factory=list)

    def get(self, path: str) -> Response:
        self.last = self.client.get(path)
        self._seen(self.last)
        return self.last

    def post(self, path: str, data: dict[str, object], *, hidden: bool = True) -> Response:
        """Post `data` with the hidden fields of the page shown last (unless told not to)."""
        assert self.last is not None
        fields = dict(_HIDDEN.findall(self.last.text)) if hidden else {}
        self.last = self.client.post(path, data={**fields, **data})
        self._seen(self.last)
        return self.last

    def hidden_fields(self) -> dict[str, str]:
        assert self.last is not None
        return dict(_HIDDEN.findall(self.last.text))

    def sign_in(self, login: PortalPatientLogin) -> Response:
        self.get("/sign-in")
        born = login.date_of_birth
        return self.post("/sign-in", {"booking-reference": login.booking_reference,
                                      "date-of-birth-day": born.day,
                                      "date-of-birth-month": born.month,
                                      "date-of-birth-year": born.year})

    def hold_first_time(self, compare: str = "soonest") -> Response:
        """Through compare, site, date and time to the check page (the time is held)."""
        self.get("/compare")
        self.post("/compare", {"compare": compare})
        self.post("/site", {"site": self.radio_values("site")[0]})
        self.post("/date", {"date": self.radio_values("date")[0]})
        return self.post("/time", {"time": self.radio_values("time")[0]})

    def radio_values(self, name: str) -> list[str]:
        assert self.last is not None
        return re.findall(rf'name="{name}" type="radio" value="([^"]+)"', self.last.text)

    def title(self) -> str:
        assert self.last is not None
        found = re.search(r"<title>([^<]*)</title>", self.last.text)
        return found.group(1) if found else ""

    def _seen(self, response: Response) -> None:
        self.urls.extend(str(r.url) for r in response.history)
        self.urls.append(str(response.url))
