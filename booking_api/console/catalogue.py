"""The exam catalogue as the console's forms offer it: code and name, by name."""

from __future__ import annotations

from sqlalchemy import select

from booking_api.core.db import Database
from booking_api.network.models import ExamType


def exam_choices(db: Database) -> tuple[tuple[str, str], ...]:
    with db.reading() as session:
        return tuple((code, f"{name} ({code})") for code, name in session.execute(
            select(ExamType.code, ExamType.name).order_by(ExamType.name)))
