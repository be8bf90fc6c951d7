"""Last week's diary expressed over this week's options, so every solver stage can count the
room-sessions that change. With no last week nothing counts as a change."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from optimiser.problem import PERIODS, RoomSession


@dataclass
class LastWeek:
    given: bool
    option_last: np.ndarray
    """[option] rooms of the option's class that ran its template in that session last week."""
    class_time_open: dict[int, int] = field(default_factory=dict)
    """class × time key → rooms of the class open in that session last week."""
    constant: int = 0
    """Room-sessions last week whose template cannot run this week (each a certain change)."""


def compile_last_week(sessions: tuple[RoomSession, ...], classes, templates, days,
                      option_class: np.ndarray, option_template: np.ndarray,
                      option_t: np.ndarray) -> LastWeek:
    n_times = len(days) * len(PERIODS)
    if not sessions:
        return LastWeek(False, np.zeros(len(option_class), dtype=int))
    class_of_room = {room: c for c, cls in enumerate(classes) for room in cls.room_ids}
    template_index = {t.template_id: k for k, t in enumerate(templates)}
    day_of_weekday = {day.weekday(): d for d, day in enumerate(days)}
    ran: dict[tuple[int, int, int], int] = {}
    for session in sessions:
        c = class_of_room.get(session.room_id)
        k = template_index.get(session.template_id, -1)
        if c is None:
            continue
        t = day_of_weekday[session.date.weekday()] * len(PERIODS) + PERIODS.index(session.period)
        ran[(c, k, t)] = ran.get((c, k, t), 0) + 1
    option_keys = {(int(c), int(k), int(t)): o for o, (c, k, t)
                   in enumerate(zip(option_class, option_template, option_t, strict=True))}
    option_last = np.zeros(len(option_class), dtype=int)
    class_time_open: dict[int, int] = {}
    constant = 0
    for (c, k, t), count in ran.items():
        class_time_open[c * n_times + t] = class_time_open.get(c * n_times + t, 0) + count
        if (c, k, t) in option_keys:
            option_last[option_keys[(c, k, t)]] = count
        else:
            constant += count
    return LastWeek(True, option_last, class_time_open, constant)


def changed_room_sessions(last: LastWeek, x: np.ndarray, option_class_time: np.ndarray) -> float:
    """Rooms whose session differs from last week's (closed counts as a template)."""
    if not last.given:
        return 0.0
    template_diff = float(np.abs(x - last.option_last).sum()) + last.constant
    open_now: dict[int, int] = {}
    for key, count in zip(option_class_time, x, strict=True):
        if count:
            open_now[int(key)] = open_now.get(int(key), 0) + int(count)
    keys = set(open_now) | set(last.class_time_open)
    closed_diff = sum(abs(open_now.get(k, 0) - last.class_time_open.get(k, 0)) for k in keys)
    return 0.5 * (template_diff + closed_diff)
