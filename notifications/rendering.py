"""The Jinja2 environments the message templates (`notifications/templates/`) render in:
strict about undefined names, HTML escaped in `.html.j2` files only, with the date and time
filters of `wording`."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from notifications import wording


@cache
def template_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("notifications", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=False)
    env.filters["long_date"] = wording.long_date
    env.filters["short_date"] = wording.short_date
    env.filters["clock"] = wording.clock_time
    return env


def render(template: str, values: Mapping[str, Any]) -> str:
    return template_environment().get_template(template).render(**values)


def template_exists(template: str) -> bool:
    return template in template_environment().list_templates()
