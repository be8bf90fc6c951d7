"""What the outbox writes, from the settings: the reminder schedule per exam family, whether
bookings are scored by the saved DNA model (for the extra reminder), and a doorbell that
the process's runner listens to so a message written here is sent at once, not at the
next poll."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import time

from booking_api.core.config import Settings
from notifications.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours
from notifications.reminders import ReminderPolicy, reminder_policy_from_setting


class Doorbell:
    """Callbacks run after a transaction that wrote messages commits (in that thread)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []

    def listen(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._listeners.append(callback)

    def ring(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for callback in listeners:
            callback()


@dataclass(frozen=True)
class MessagePolicy:
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    score_dna_risk: bool = False
    """Queue a DNA-risk scoring job per booking (a saved model is configured)."""
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS
    """No text goes in them: it waits until they end."""
    doorbell: Doorbell = field(default_factory=Doorbell, compare=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> MessagePolicy:
        return cls(reminders=reminder_policy_from_setting(settings.reminder_days,
                                                          "CDIP_REMINDER_DAYS"),
                   score_dna_risk=settings.dna_model_path is not None,
                   quiet_hours=quiet_hours_from_setting(settings.sms_quiet_hours))


def quiet_hours_from_setting(text: str) -> QuietHours:
    """'21:00-08:00' (the window, UK time), or 'off' for none."""
    if text == "off":
        return QuietHours(starts=time(0, 0), ends=time(0, 0))
    starts, ends = (time.fromisoformat(part) for part in text.split("-"))
    return QuietHours(starts=starts, ends=ends)
