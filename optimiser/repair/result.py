"""What a diary repair gives back: who moves from where to where and why, the sessions that
change, the patients it could not place (for the clerks' worklist) and the figures. Plain data,
so the booking service can apply it in one transaction and the CLI can print it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime

from domain.vocabulary import Priority, SessionPeriod


@dataclass(frozen=True)
class Place:
    """A run of slots in one room-session: where an appointment is or will be."""

    room_id: str
    site_id: str
    date: date
    period: SessionPeriod
    template_id: str
    start: datetime
    end: datetime

    def describe(self) -> str:
        return f"{self.site_id} {self.room_id} {self.start:%a %d %b %H:%M}"


@dataclass(frozen=True)
class Move:
    appointment_id: int
    request_id: int
    patient_id: int
    priority: Priority
    source: Place
    target: Place
    forced: bool
    """True when the patient's own slot disappeared; False for an excess move (made only to
    place someone else)."""
    reason: str
    delay_days: int
    """Days later than before (negative: earlier)."""
    extra_km: float | None
    """Further from home than before (None when home is unknown)."""
    past_breach: bool
    """The new date is after the patient's breach date."""


@dataclass(frozen=True)
class Unplaced:
    """A patient whose slot disappeared and who could not be given another: for the worklist."""

    appointment_id: int
    request_id: int
    patient_id: int
    priority: Priority
    source: Place
    forced: bool
    reason: str


@dataclass(frozen=True)
class SessionChange:
    room_id: str
    site_id: str
    date: date
    period: SessionPeriod
    before: str | None
    """Template before (None: no session)."""
    after: str | None
    """Template after (None: closed)."""
    by_disruption: bool
    """True when the disruption itself made the change (room down, list cancelled or added);
    False when the repair chose it (closing for staff, opening to take moved patients)."""
    reason: str


@dataclass(frozen=True)
class RepairResult:
    method: str
    """Which stage gave the plan: 'cp-sat' (with `status`), or 'greedy' (the floor)."""
    status: str
    moves: tuple[Move, ...]
    unplaced: tuple[Unplaced, ...]
    session_changes: tuple[SessionChange, ...]
    neighbourhood: Mapping[str, object]
    """Sites, days, sessions and patients the repair re-planned."""
    seconds: float
    timings: Mapping[str, float]
    log: tuple[str, ...] = ()
    seconds_to_moves: float = 0.0
    """When the moves were settled: the first plan found as good in disruption as this one
    (the time after it went on fewer changed lists and the patients' cost)."""

    @property
    def forced_moves(self) -> int:
        """Patients whose slot disappeared: moved or left unplaced."""
        return sum(m.forced for m in self.moves) + sum(u.forced for u in self.unplaced)

    @property
    def excess_moves(self) -> int:
        """Patients moved (or unplaced) although their own slot still exists."""
        return (sum(not m.forced for m in self.moves)
                + sum(not u.forced for u in self.unplaced))

    @property
    def changed_sessions(self) -> int:
        """Sessions the repair chose to open, close or change (beyond the disruption's own)."""
        return sum(not c.by_disruption for c in self.session_changes)

    def figures(self) -> dict[str, object]:
        """The headline numbers, as the benchmark and the CLI print them."""
        return {
            "method": self.method, "status": self.status,
            "forced_moves": self.forced_moves, "moves": len(self.moves),
            "excess_moves": self.excess_moves, "changed_sessions": self.changed_sessions,
            "unplaced": len(self.unplaced), "seconds": round(self.seconds, 3),
            "seconds_to_moves": round(self.seconds_to_moves, 3),
            "past_breach": sum(m.past_breach for m in self.moves),
        }

    def to_dict(self) -> dict[str, object]:
        """Everything, JSON-ready (dates and times as ISO strings)."""
        return _jsonable({
            **self.figures(),
            "moves": [asdict(m) for m in self.moves],
            "unplaced_patients": [asdict(u) for u in self.unplaced],
            "session_changes": [asdict(c) for c in self.session_changes],
            "neighbourhood": dict(self.neighbourhood),
            "timings": dict(self.timings), "log": list(self.log),
        })

    def lines(self) -> list[str]:
        """A dry run in words: one line per session change, move and unplaced patient."""
        out = [f"{c.room_id} {c.date} {c.period}: {c.before or 'no list'} -> "
               f"{c.after or 'closed'} ({c.reason})" for c in self.session_changes]
        out += [f"appointment {m.appointment_id} ({m.priority}): {m.source.describe()} -> "
                f"{m.target.describe()} ({m.reason})" for m in self.moves]
        out += [f"appointment {u.appointment_id} ({u.priority}): {u.source.describe()} -> "
                f"worklist ({u.reason})" for u in self.unplaced]
        return out


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value
