"""What access tells the holder of an account about, noted on the session (`core.changes`)
like the appointments' changes: the outbox, a context above this one, turns a patient's into
a text and an email as the transaction commits. Access never imports the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SignInThrottled:
    """Failed sign-ins with a patient's booking reference have started its delays."""

    patient_id: int
    at: datetime
