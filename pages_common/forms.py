"""Reading a posted form: its CSRF token checked first, fields sent more than once kept as
lists, and the single-valued view the idempotency fingerprint covers."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import Request

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
    return data


def text_fields(data: FormData) -> dict[str, str]:
    """The single-valued fields (what the idempotency fingerprint covers with the lists)."""
    return {k: v if isinstance(v, str) else ",".join(v) for k, v in data.items()}


def text_of(data: Mapping[str, str | list[str]], field: str) -> str:
    """One field's text ('' when absent; the first value of a repeated field)."""
    value = data.get(field, "")
    return value if isinstance(value, str) else (value[0] if value else "")
