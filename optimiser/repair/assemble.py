"""A neighbourhood plan put into words: moves with where from, where to and why; lists that
change and why; patients left for the worklist with the reason."""

from __future__ import annotations

from optimiser.repair.closures import Closures
from optimiser.repair.diary import Diary, Run, slots_needed
from optimiser.repair.disruption import Effects
from optimiser.repair.reasons import unplaced_reason
from optimiser.repair.result import Move, Place, SessionChange, Unplaced
from optimiser.repair.solution import Context, Plan

BUMPED = "moved to free a slot for a patient whose list was lost"
LIST_CHANGED = "their list was changed to take patients whose list was lost"


def place_of(diary: Diary, run: Run, template_id: str) -> Place:
    room_id, day, period = run.key
    start, end = diary.run_start(run, template_id)
    return Place(room_id, diary.site_of(room_id), day, period, template_id, start, end)


def moves_and_unplaced(context: Context, plan: Plan, effects: Effects,
                       closures: Closures) -> tuple[list[Move], list[Unplaced]]:
    diary, positions = context.positions.diary, context.positions
    forced = set(context.hood.forced)
    gone = effects.removed | closures.closed
    moves, unplaced = [], []
    for a, row in sorted(plan.place.items()):
        booking, run = diary.bookings[a], diary.runs[a]
        source = place_of(diary, run, diary.plan[run.key])
        reason = gone[run.key] if a in forced else _why_bumped(context, plan, a)
        if row is None:
            unplaced.append(Unplaced(a, booking.request_id, booking.patient_id,
                                     booking.priority, source, a in forced,
                                     f"{reason}; not re-booked: {unplaced_reason(context, a)}"))
            continue
        space = context.hood.spaces[int(positions.space[row])]
        template = diary.templates[positions.template[row]]
        target_run = Run(space.key, int(positions.index[row]),
                         slots_needed(template, booking.request.duration_min))
        target = place_of(diary, target_run, template.template_id)
        km = positions.extra_km(booking, positions.table.site[[row]])
        moves.append(Move(
            a, booking.request_id, booking.patient_id, booking.priority, source, target,
            a in forced, reason, (target.date - source.date).days,
            None if km is None else round(float(km[0]), 1),
            booking.breach_date is not None and target.date > booking.breach_date))
    return moves, unplaced


def _why_bumped(context: Context, plan: Plan, appointment_id: int) -> str:
    s = context.positions.space_of[context.positions.diary.runs[appointment_id].key]
    return LIST_CHANGED if plan.choice[s] != context.hood.spaces[s].current else BUMPED


def session_changes(context: Context, plan: Plan, effects: Effects,
                    closures: Closures) -> list[SessionChange]:
    diary = context.positions.diary
    changes = []
    for key, reason in sorted(effects.removed.items()):
        changes.append(_change(diary, key, diary.plan[key], None, True, reason))
    for key, (template_id, reason) in sorted(effects.added.items()):
        changes.append(_change(diary, key, None, template_id, True, reason))
    for key, reason in sorted(closures.closed.items()):
        changes.append(_change(diary, key, diary.plan[key], None, False, reason))
    for s, space in enumerate(context.hood.spaces):
        after = plan.choice[s]
        if after != space.current:
            changes.append(_change(diary, space.key, space.current, after, False,
                                   _why_changed(space.current, after)))
    return changes


def _why_changed(before: str | None, after: str | None) -> str:
    if before is None:
        return "list opened to take patients who had to move"
    if after is None:
        return "list closed to free its staff for patients who had to move"
    return "list changed to take patients who had to move"


def _change(diary: Diary, key, before, after, by_disruption: bool, reason: str) -> SessionChange:
    room_id, day, period = key
    return SessionChange(room_id, diary.site_of(room_id), day, period, before, after,
                         by_disruption, reason)

