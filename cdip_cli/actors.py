"""Who a `cdip` command acts as, for the audit trail: the operating-system user."""

from __future__ import annotations

import getpass

from booking_api.audit.services import Actor
from booking_api.core.channel import Channel


def cli_actor() -> Actor:
    """`cli:<user>` through the system channel."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return Actor(f"cli:{user}", Channel.SYSTEM)
