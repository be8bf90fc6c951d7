"""How backfill offers: waves, how long an offer lasts, the weekly limit per patient, when a
slot is too close for offers (the clerks' list instead), the quiet hours, how deep a cascade
may go, and the ranking engine's own policy. Made from the settings; tests and the benchmark
build their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from booking_api.core.config import Settings
from booking_api.outbox.policy import quiet_hours_from_setting
from notifications.quiet_hours import DEFAULT_QUIET_HOURS, QuietHours
from optimiser.backfill import BackfillPolicy


@dataclass(frozen=True)
class OfferPolicy:
    wave_size: int = 3
    offer_minutes: int = 15
    weekly_offer_limit: int = 3
    min_notice: timedelta = timedelta(hours=3)
    """A freed slot closer than this is put on the clerks' list, not offered."""
    max_candidates: int = 30
    """Ranked candidates kept per freed slot (the waves run through them)."""
    max_cascade_depth: int = 8
    quiet_hours: QuietHours = DEFAULT_QUIET_HOURS
    """No offer is sent in them (a text could not go, and an offer lasts minutes)."""
    everyone_at_once: bool = False
    """The naive policy (for comparison only): one wave of every candidate."""
    ranking: BackfillPolicy = field(default_factory=BackfillPolicy)

    @property
    def offer_time(self) -> timedelta:
        return timedelta(minutes=self.offer_minutes)

    @classmethod
    def from_settings(cls, settings: Settings) -> OfferPolicy:
        return cls(wave_size=settings.backfill_wave_size,
                   offer_minutes=settings.backfill_offer_minutes,
                   weekly_offer_limit=settings.backfill_weekly_offer_limit,
                   min_notice=timedelta(hours=settings.backfill_min_notice_hours),
                   quiet_hours=quiet_hours_from_setting(settings.sms_quiet_hours))
