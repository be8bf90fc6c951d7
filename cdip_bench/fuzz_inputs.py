"""The hostile values `cdip bench fuzz` and the property tests put into every field: text no
store can hold (lone surrogates, NUL, control characters), numbers that are not numbers (NaN,
the infinities), integers past 32 and 64 bits, ids of the wrong type (`"7"`, `true`), dates at
and past the calendar's edges; and how each is written into JSON, a URL or a form the way a
hostile client writes it (a surrogate as `\\ud800` in JSON, as the bytes ED A0 80 in a URL)."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote


@dataclass(frozen=True)
class Hostile:
    label: str
    value: Any


HOSTILE: tuple[Hostile, ...] = (
    Hostile("lone high surrogate", "\ud800"),
    Hostile("lone low surrogate in text", "ab\udfffcd"),
    Hostile("NUL in text", "a\x00b"),
    Hostile("only NUL", "\x00"),
    Hostile("bell", "\x07"),
    Hostile("escape sequence", "\x1b[2J"),
    Hostile("DEL", "a\x7fb"),
    Hostile("right-to-left override", "\u202eabc"),
    Hostile("replacement character", "\ufffd"),
    Hostile("empty", ""),
    Hostile("spaces", "   "),
    Hostile("20 digits", "9" * 20),
    Hostile("3000 characters", "x" * 3000),
    Hostile("NaN", math.nan),
    Hostile("Infinity", math.inf),
    Hostile("-Infinity", -math.inf),
    Hostile("1e308", 1e308),
    Hostile("-1e308", -1e308),
    Hostile("2^31", 2**31),
    Hostile("2^63", 2**63),
    Hostile("10^20", 10**20),
    Hostile("-10^20", -(10**20)),
    Hostile("-1", -1),
    Hostile("0", 0),
    Hostile("1.5", 1.5),
    Hostile("true", True),
    Hostile("false", False),
    Hostile("null", None),
    Hostile("id as a string", "7"),
    Hostile("a list", [1]),
    Hostile("an object", {"a": 1}),
    Hostile("year 9999", "9999-12-31"),
    Hostile("year 1", "0001-01-01"),
    Hostile("year 10000", "10000-01-01"),
    Hostile("30 February", "2026-02-30"),
    Hostile("negative year", "-0001-01-01"),
    Hostile("leap second", "2026-12-31T23:59:60Z"),
    Hostile("datetime in year 9999", "9999-12-31T23:59:59+14:00"),
)
TEXT_ONLY: tuple[Hostile, ...] = tuple(h for h in HOSTILE if isinstance(h.value, str))
"""What a form field or a URL can carry (everything there is text)."""
CORE_LABELS = ("lone high surrogate", "NUL in text", "bell", "20 digits", "NaN", "Infinity",
               "-Infinity", "2^63", "10^20", "-1", "true", "null", "id as a string",
               "a list", "an object", "year 9999", "year 1")
CORE: tuple[Hostile, ...] = tuple(h for h in HOSTILE if h.label in CORE_LABELS)
"""The issue's inputs, one of each kind: what the full sweep of `cdip bench fuzz` sends by
default (the rest come in its random examples, or all with --values all)."""


def json_body(value: Any) -> bytes:
    """JSON as a hostile client writes it: NaN and Infinity as bare words, lone surrogates
    as `\\uXXXX` escapes (ASCII output), integers of any size."""
    return json.dumps(value, allow_nan=True, ensure_ascii=True).encode("ascii")


def url_text(value: Any) -> str:
    """A value as it appears, percent-encoded, in a path segment or query string; a lone
    surrogate becomes the bytes a careless UTF-8 encoder writes (ED A0 80)."""
    return quote(plain_text(value).encode("utf-8", "surrogatepass"), safe="")


def plain_text(value: Any) -> str:
    """A value as text (what a form field or URL would carry)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def form_body(fields: list[tuple[str, str]]) -> bytes:
    """`application/x-www-form-urlencoded`, surrogates as their raw (invalid) bytes."""
    return "&".join(f"{quote(name.encode('utf-8', 'surrogatepass'), safe='')}="
                    f"{quote(value.encode('utf-8', 'surrogatepass'), safe='')}"
                    for name, value in fields).encode("ascii")
