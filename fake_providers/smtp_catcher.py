"""A real SMTP server (aiosmtpd) on a local port that keeps every message it receives, in
memory and, when given a folder, in a Maildir there (so the demo's "what was sent" page, in
another process, can read it with `caught_emails`). It can be told to refuse messages for a
while (a 4xx or 5xx reply), and stopping it makes connections fail as a down relay's would.

aiosmtpd cannot bind port 0: a free port is picked first."""

from __future__ import annotations

import mailbox
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from fake_providers.serving import free_port


@dataclass(frozen=True)
class CaughtEmail:
    envelope_from: str
    recipients: tuple[str, ...]
    message: EmailMessage
    received_at: datetime

    @property
    def subject(self) -> str:
        return str(self.message["Subject"] or "")


class CatchingHandler:
    """aiosmtpd handler: keeps messages, or refuses them while told to."""

    def __init__(self, maildir: Path | None = None) -> None:
        self.maildir = mailbox.Maildir(maildir, create=True) if maildir is not None else None
        self._lock = threading.Lock()
        self._caught: list[CaughtEmail] = []
        self._refusals: list[str] = []
        self.refused_recipients: set[str] = set()

    def refuse_next(self, count: int = 1, reply: str = "451 4.3.0 Try again later") -> None:
        """Answer the next `count` messages with `reply` (4xx: retry later; 5xx: never)."""
        with self._lock:
            self._refusals.extend([reply] * count)

    def caught(self) -> list[CaughtEmail]:
        with self._lock:
            return list(self._caught)

    def clear(self) -> None:
        with self._lock:
            self._caught.clear()
            self._refusals.clear()

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower() in self.refused_recipients:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._refusals:
                return self._refusals.pop(0)
        content = envelope.original_content or envelope.content
        message = message_from_bytes(content, policy=policy.default)
        caught = CaughtEmail(envelope.mail_from, tuple(envelope.rcpt_tos), message,
                             datetime.now(UTC))
        with self._lock:
            self._caught.append(caught)
            if self.maildir is not None:
                self.maildir.add(content)
        return "250 Message accepted for delivery"


@dataclass(frozen=True)
class RunningSmtpCatcher:
    host: str
    port: int
    handler: CatchingHandler
    controller: Controller


@contextmanager
def running_smtp_catcher(maildir: Path | None = None, host: str = "127.0.0.1",
                         port: int | None = None) -> Iterator[RunningSmtpCatcher]:
    """An SMTP catcher on `host` and `port` (default: a free port) until the block ends."""
    handler = CatchingHandler(maildir)
    controller = Controller(handler, hostname=host, port=port or free_port(host))
    controller.start()
    try:
        yield RunningSmtpCatcher(host, controller.port, handler, controller)
    finally:
        controller.stop()


def caught_emails(maildir: Path) -> list[EmailMessage]:
    """The messages a catcher stored in `maildir`, oldest first."""
    box = mailbox.Maildir(maildir, factory=None, create=False)
    return [message_from_bytes(box.get_bytes(key), policy=policy.default)
            for key in sorted(box.iterkeys())]  # keys start with the time of delivery
