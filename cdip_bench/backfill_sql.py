"""The backfill benchmark's figures, counted afterwards in SQL over the month's rows
(SQLite: the benchmark plays each policy on a copy of one SQLite world). A freed slot is a
booking given up before its start (cancelled, or moved away from); it is filled when a later
booking on the same slot is still booked at the end. Violations are checked again from the
rows, not taken from the service's word."""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import Engine, text

FREED = """
SELECT a.id, a.slot_id, a.cancelled_at, a.start_at,
       (julianday(a.start_at) - julianday(a.cancelled_at)) * 24 AS notice_h,
       EXISTS (SELECT 1 FROM appointment b WHERE b.slot_id = a.slot_id
               AND b.state = 'booked' AND b.created_at >= a.cancelled_at) AS filled
FROM appointment a
WHERE a.state = 'cancelled' AND a.booked_at IS NOT NULL AND a.cancelled_at < a.start_at
"""
DOUBLE_BOOKINGS = """
SELECT (SELECT count(*) FROM (SELECT slot_id FROM appointment
                              WHERE state IN ('held', 'booked')
                              GROUP BY slot_id HAVING count(*) > 1))
     + (SELECT count(*) FROM appointment x JOIN appointment y
          ON x.room_id = y.room_id AND x.id < y.id
         AND x.start_at < y.end_at AND y.start_at < x.end_at
       WHERE x.state IN ('held', 'booked') AND y.state IN ('held', 'booked'))
"""
VIOLATIONS = {
    "modality": """
SELECT count(*) FROM appointment a JOIN request r ON r.id = a.request_id
JOIN exam_type e ON e.code = r.exam_code JOIN slot s ON s.id = a.slot_id
WHERE a.channel = 'backfill' AND a.state = 'booked' AND e.modality != s.modality""",
    "exam_family_not_in_session": """
SELECT count(*) FROM appointment a JOIN request r ON r.id = a.request_id
JOIN exam_type e ON e.code = r.exam_code JOIN slot s ON s.id = a.slot_id
WHERE a.channel = 'backfill' AND a.state = 'booked'
  AND instr(';' || s.families || ';', ';' || e.family || ';') = 0""",
    "age_limit_of_site": """
SELECT count(*) FROM appointment a JOIN patient p ON p.id = a.patient_id
JOIN slot s ON s.id = a.slot_id JOIN site t ON t.site_id = s.site_id
WHERE a.channel = 'backfill' AND a.state = 'booked' AND t.age_limit_years IS NOT NULL
  AND (julianday(a.start_at) - julianday(p.date_of_birth)) / 365.25 >= t.age_limit_years""",
    "mr_unsafe_implant": """
SELECT count(*) FROM appointment a JOIN request r ON r.id = a.request_id
JOIN exam_type e ON e.code = r.exam_code
WHERE a.channel = 'backfill' AND a.state = 'booked' AND e.modality = 'MR'
  AND EXISTS (SELECT 1 FROM request_fact f WHERE f.request_id = r.id
              AND f.name = 'mr_unsafe_implant' AND json_extract(f.value, '$.value') = 1)""",
    "preparation_notice": """
SELECT count(*) FROM appointment a JOIN request r ON r.id = a.request_id
JOIN exam_type e ON e.code = r.exam_code
WHERE a.channel = 'backfill' AND a.state = 'booked'
  AND julianday(a.start_at) - julianday(a.created_at) < e.min_notice_days""",
    "patients_notice": """
SELECT count(*) FROM appointment a JOIN short_notice_entry n ON n.request_id = a.request_id
WHERE a.channel = 'backfill' AND a.state = 'booked' AND n.active
  AND (julianday(a.start_at) - julianday(a.created_at)) * 24 < n.notice_hours""",
    "not_yet_started": """
SELECT count(*) FROM appointment a
WHERE a.channel = 'backfill' AND a.start_at <= a.created_at""",
}


def counted_in_sql(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        freed = connection.execute(text(FREED)).all()
        ahead = [row for row in freed if row.notice_h >= 48]
        sent = connection.execute(text(
            "SELECT count(*) FROM backfill_offer WHERE sent_at IS NOT NULL")).scalar() or 0
        fills = connection.execute(text(
            "SELECT count(*) FROM freed_slot WHERE state = 'filled'")).scalar() or 0
        sooner = [row[0] for row in connection.execute(text(
            "SELECT days_sooner FROM backfill_offer WHERE state = 'accepted' "
            "AND days_sooner IS NOT NULL"))]
        depth = connection.execute(text("SELECT max(depth) FROM freed_slot")).scalar()
        held = connection.execute(text(
            "SELECT count(*) FROM freed_slot WHERE first_offer_at > freed_at")).scalar() or 0
        violations = {name: connection.execute(text(sql)).scalar() or 0
                      for name, sql in VIOLATIONS.items()}
        doubles = connection.execute(text(DOUBLE_BOOKINGS)).scalar() or 0
    return {
        "freed_slots": len(freed),
        "fill_rate_all": _share(sum(row.filled for row in freed), len(freed)),
        "fill_rate_48h_plus": _share(sum(row.filled for row in ahead), len(ahead)),
        "freed_48h_plus": len(ahead),
        "median_days_sooner": statistics.median(sooner) if sooner else None,
        "moved_sooner": len(sooner),
        "offers_per_fill": round(sent / fills, 2) if fills else None,
        "max_cascade_depth": depth or 0,
        "first_offer_held_for_quiet_hours": held,
        "double_bookings": doubles,
        "rule_violations": sum(violations.values()),
        "rule_violations_by_check": violations,
    }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None
