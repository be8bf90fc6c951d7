"""Session templates: what one room runs for one session (which exam families, how many
of each, in slots of what length) and the crew it needs. Read from
`catalogue/session_templates.csv`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from domain.data_files import (
    Column,
    DataFileError,
    boolean,
    list_of,
    non_negative_integer,
    one_of,
    read_table,
    text,
)
from domain.vocabulary import Capability, ExamFamily, Modality, SessionPeriod, StaffRole

if TYPE_CHECKING:
    from domain.exams import ExamType

CATALOGUE_DIR = Path(__file__).parent / "catalogue"


@dataclass(frozen=True)
class SessionTemplate:
    template_id: str
    name: str
    modality: Modality
    capacity: tuple[tuple[ExamFamily, int], ...]
    """Exams per session by family, in the order the slot pattern lays them out."""
    slot_minutes: int
    required_capabilities: frozenset[Capability]
    crew_role: StaffRole
    crew_per_room: int
    radiologist_required: bool
    rooms_per_radiologist: int
    periods: frozenset[SessionPeriod]

    @property
    def families(self) -> frozenset[ExamFamily]:
        return frozenset(family for family, _ in self.capacity)

    @property
    def total_slots(self) -> int:
        return sum(count for _, count in self.capacity)

    def capacity_for(self, family: ExamFamily) -> int:
        return sum(count for fam, count in self.capacity if fam is family)

    def slots_for(self, exam: ExamType) -> int:
        """Consecutive slots an exam takes: a short exam still takes a whole slot."""
        return -(-exam.duration_min // self.slot_minutes)

    def can_run(self, exam: ExamType) -> bool:
        """Whether a room running this template can fit the exam (family, capabilities, length)."""
        return (exam.family in self.families
                and exam.required_capabilities <= self.required_capabilities
                and self.slots_for(exam) <= self.capacity_for(exam.family))


def _family_capacity(value: str) -> tuple[ExamFamily, int]:
    try:
        family, count = value.split(":")
    except ValueError:
        raise ValueError(f"'{value}' is not FAMILY:COUNT") from None
    slots = non_negative_integer(count.strip())
    if slots == 0:
        raise ValueError(f"'{value}' gives no slots; leave the family out instead")
    return one_of(ExamFamily)(family.strip()), slots


_COLUMNS = [
    Column("template_id", text), Column("name", text), Column("modality", one_of(Modality)),
    Column("capacity", list_of(_family_capacity)),
    Column("slot_minutes", non_negative_integer),
    Column("required_capabilities", list_of(one_of(Capability)), required=False),
    Column("crew_role", one_of(StaffRole)), Column("crew_per_room", non_negative_integer),
    Column("radiologist_required", boolean),
    Column("rooms_per_radiologist", non_negative_integer),
    Column("periods", list_of(one_of(SessionPeriod))),
]


def load_session_templates(
    path: Path = CATALOGUE_DIR / "session_templates.csv",
) -> dict[str, SessionTemplate]:
    """Templates by id; a template whose slots overrun the shortest period it allows is refused."""
    templates: dict[str, SessionTemplate] = {}
    for row_number, row in enumerate(read_table(path, _COLUMNS), start=2):
        template = SessionTemplate(**{
            **row,
            "required_capabilities": frozenset(row["required_capabilities"] or ()),
            "periods": frozenset(row["periods"]),
        })
        _check_template(path, row_number, template, templates)
        templates[template.template_id] = template
    return templates


@cache
def session_templates() -> dict[str, SessionTemplate]:
    """The shipped templates, read once per process."""
    return load_session_templates()


def _check_template(path: Path, row: int, template: SessionTemplate,
                    seen: dict[str, SessionTemplate]) -> None:
    if template.template_id in seen:
        raise DataFileError(path, f"duplicate template id '{template.template_id}'", row,
                            "template_id")
    wrong = [f for f in template.families if f.modality is not template.modality]
    if wrong:
        raise DataFileError(path, f"family {wrong[0]} is not a {template.modality} family", row,
                            "capacity")
    if not template.capacity:
        raise DataFileError(path, "names no exam family", row, "capacity")
    if not template.periods:
        raise DataFileError(path, "names no session period", row, "periods")
    if template.slot_minutes == 0:
        raise DataFileError(path, "a slot must last at least one minute", row, "slot_minutes")
    if template.crew_per_room == 0:
        raise DataFileError(path, "a room needs at least one member of crew", row,
                            "crew_per_room")
    shortest = min(period.minutes for period in template.periods)
    if template.total_slots * template.slot_minutes > shortest:
        raise DataFileError(path, f"{template.total_slots} slots of {template.slot_minutes} min "
                            f"do not fit a {shortest}-minute session", row, "capacity")
    if template.radiologist_required and template.rooms_per_radiologist == 0:
        raise DataFileError(path, "a radiologist-led template must cover at least one room", row,
                            "rooms_per_radiologist")
