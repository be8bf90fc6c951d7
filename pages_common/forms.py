"""Reading a posted form: its CSRF token checked first, then every field refused if it holds
what no answer contains (NUL, other control characters, unpaired surrogates: the checks the
JSON API applies, `booking_api.core.inputs`), naming the field; fields sent more than once
kept as lists, and the single-valued view the idempotency fingerprint covers."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request

from booking_api.core.inputs import text_problem
from pages_common.security import check_csrf

Errors = dict[str, str]
FormData = dict[str, str | list[str]]


async def posted_form(request: Request) -> FormData:
    """The submitted form, after its CSRF token is checked (CsrfFailed otherwise). A field
    sent more than once (checkboxes) becomes a list."""
    raw = await request.form()
    data: FormData = {}
    for name in raw:
        values = [str(v) for v in raw.getlist(name)]
        data[name] = values if len(values) > 1 or name.endswith("[]") else values[0]
    check_csrf(request, text_of(data, "csrf_token"))
    _refuse_unreadable(data)
    return data


class UnreadableField(Exception):
    """A form field holds characters no answer contains; nothing was done with the form."""

    def __init__(self, field: str, problem: str) -> None:
        self.label = _label(field)
        super().__init__(f"{self.label} {problem}")


def _refuse_unreadable(data: FormData) -> None:
    for name, value in data.items():
        for text in ([value] if isinstance(value, str) else value):
            problem = text_problem(name, multiline=False) or text_problem(text)
            if problem is not None:
                raise UnreadableField(name, problem)


def _label(field: str) -> str:
    """`reason-details` → `Reason details`; a name that cannot be shown is shown escaped."""
    shown = field.encode("ascii", "backslashreplace").decode("ascii")[:60]
    return shown.replace("-", " ").replace("_", " ").strip().capitalize() or "A field"


def ascii_digits(text: str, most: int) -> bool:
    """Whether `text` is 1 to `most` ASCII digits (`str.isdigit` also takes '²' and '٣',
    which `int` then refuses, and a long run of digits overflows a column)."""
    return 0 < len(text) <= most and all("0" <= c <= "9" for c in text)


def text_fields(data: FormData) -> dict[str, str]:
    """The single-valued fields (what the idempotency fingerprint covers with the lists)."""
    return {k: v if isinstance(v, str) else ",".join(v) for k, v in data.items()}


def text_of(data: Mapping[str, str | list[str]], field: str) -> str:
    """One field's text ('' when absent; the first value of a repeated field)."""
    value = data.get(field, "")
    return value if isinstance(value, str) else (value[0] if value else "")
