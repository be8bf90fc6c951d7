"""The shipped exam catalogue and session templates: complete, consistent with each other, and
guarded by loaders that refuse a bad copy naming the file, row and field."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from domain.data_files import DataFileError
from domain.exams import CATALOGUE_DIR, ExamType, exam_catalogue, load_exam_catalogue
from domain.session_templates import SessionTemplate, load_session_templates, session_templates
from domain.vocabulary import Capability, ExamFamily, Modality, SessionPeriod

EXAMS = exam_catalogue()
TEMPLATES = session_templates()

PLAUSIBLE_MINUTES = {
    ExamFamily.XR_PLAIN: (5, 15),
    ExamFamily.XR_FLUORO: (20, 40),
    Modality.US: (15, 30),
    Modality.CT: (10, 30),
    Modality.MR: (20, 60),
}


def _templates_able_to_run(exam: ExamType) -> list[SessionTemplate]:
    return [template for template in TEMPLATES.values() if template.can_run(exam)]


# --- the shipped catalogue ------------------------------------------------------------------


def test_catalogue_holds_at_least_sixty_exams() -> None:
    assert len(EXAMS) >= 60


def test_catalogue_covers_all_four_modalities() -> None:
    assert {exam.modality for exam in EXAMS.values()} == set(Modality)


@pytest.mark.parametrize("family", list(ExamFamily))
def test_every_family_has_exams(family: ExamFamily) -> None:
    assert any(exam.family is family for exam in EXAMS.values())


@pytest.mark.parametrize("family", list(ExamFamily))
def test_every_family_is_served_by_a_template(family: ExamFamily) -> None:
    assert any(family in template.families for template in TEMPLATES.values())


@pytest.mark.parametrize("code", sorted(EXAMS))
def test_every_exam_has_a_template_able_to_run_it(code: str) -> None:
    assert _templates_able_to_run(EXAMS[code]), f"no template can run {code}"


@pytest.mark.parametrize("code", sorted(EXAMS))
def test_exam_duration_is_plausible_for_its_modality(code: str) -> None:
    exam = EXAMS[code]
    low, high = PLAUSIBLE_MINUTES.get(exam.family) or PLAUSIBLE_MINUTES[exam.modality]
    assert low <= exam.duration_min <= high


def test_exam_codes_are_five_capitals_led_by_the_modality_letter() -> None:
    letters = {ExamFamily.XR_FLUORO: "F", Modality.XR: "X", Modality.US: "U", Modality.CT: "C",
               Modality.MR: "M"}
    wrong = [code for code, exam in EXAMS.items()
             if not (len(code) == 5 and code.isalpha() and code.isupper()
                     and code[0] == letters.get(exam.family, letters[exam.modality]))]
    assert wrong == []


def test_contrast_ct_exams_require_the_injector() -> None:
    contrast_ct = [e for e in EXAMS.values() if e.modality is Modality.CT and e.contrast]
    assert contrast_ct
    assert all(Capability.CONTRAST_INJECTOR in e.required_capabilities for e in contrast_ct)


def test_every_ct_contrast_family_exam_uses_contrast() -> None:
    assert all(e.contrast for e in EXAMS.values() if e.family is ExamFamily.CT_CONTRAST)


def test_exactly_the_xray_and_ct_exams_are_ionising() -> None:
    wrong = [e.code for e in EXAMS.values()
             if e.ionising != (e.modality in (Modality.XR, Modality.CT))]
    assert wrong == []


def test_family_capabilities_are_required_by_their_exams() -> None:
    needs = {ExamFamily.XR_FLUORO: Capability.FLUOROSCOPY,
             ExamFamily.CT_CARDIAC: Capability.CARDIAC, ExamFamily.MR_CARDIAC: Capability.CARDIAC,
             ExamFamily.US_PAEDIATRIC: Capability.PAEDIATRIC,
             ExamFamily.MR_PAEDIATRIC: Capability.PAEDIATRIC}
    wrong = [e.code for e in EXAMS.values()
             if e.family in needs and needs[e.family] not in e.required_capabilities]
    assert wrong == []


def test_preparation_gets_enough_notice() -> None:
    wrong = [e.code for e in EXAMS.values()
             if (e.fasting_hours and e.min_notice_days < 1)
             or (e.bowel_prep and e.min_notice_days < 7)]
    assert wrong == []


def test_only_ultrasound_asks_for_a_full_bladder() -> None:
    assert {e.modality for e in EXAMS.values() if e.full_bladder} == {Modality.US}


def test_ct_colonography_needs_bowel_preparation() -> None:
    assert [e.code for e in EXAMS.values() if e.bowel_prep] == ["CCOLO"]


def test_chest_xray_is_the_commonest_plain_film() -> None:
    plain = [e for e in EXAMS.values() if e.family is ExamFamily.XR_PLAIN]
    assert max(plain, key=lambda e: e.relative_frequency).code == "XCHES"


@pytest.mark.parametrize(("code", "expected"), [
    ("XPELV", True), ("XLSPI", True), ("FHSGR", True), ("CCAPC", True), ("CKUBU", True),
    ("CCOLO", True), ("FSBFT", True), ("XCHES", False), ("CHEAD", False), ("MPELV", False),
    ("UPELT", False),
])
def test_pregnancy_check_applies_to_ionising_pelvic_and_abdominal_exams(
        code: str, expected: bool) -> None:
    assert EXAMS[code].pelvis_or_abdomen is expected


def test_preparation_is_written_as_sentences() -> None:
    assert all(e.preparation[0].isupper() and e.preparation.endswith(".")
               for e in EXAMS.values())


def test_body_parts_are_lower_case_words() -> None:
    assert all(e.body_part == e.body_part.lower() or e.body_part == "upper GI"
               for e in EXAMS.values())


# --- the shipped templates ------------------------------------------------------------------


def test_every_template_runs_only_families_of_its_modality() -> None:
    assert all(f.modality is t.modality for t in TEMPLATES.values() for f in t.families)


def test_templates_able_to_run_a_radiologist_exam_have_a_radiologist() -> None:
    unsafe = [(e.code, t.template_id) for e in EXAMS.values() if e.radiologist_present
              for t in _templates_able_to_run(e) if not t.radiologist_required]
    assert unsafe == []


def test_fluoroscopy_cardiac_and_paediatric_lists_run_only_in_the_day() -> None:
    daytime = {SessionPeriod.MORNING, SessionPeriod.AFTERNOON}
    special = {Capability.FLUOROSCOPY, Capability.CARDIAC, Capability.PAEDIATRIC}
    wrong = [t.template_id for t in TEMPLATES.values()
             if t.required_capabilities & special and not t.periods <= daytime]
    assert wrong == []


def test_ct_and_mr_rooms_run_with_two_radiographers() -> None:
    assert all(t.crew_per_room == 2 for t in TEMPLATES.values()
               if t.modality in (Modality.CT, Modality.MR))


def test_a_longer_exam_takes_consecutive_slots() -> None:
    neuro = TEMPLATES["MR_NEURO"]
    assert neuro.slots_for(EXAMS["MBRAC"]) == 2  # 40 min in 30-min slots
    assert neuro.slots_for(EXAMS["MIAMS"]) == 1  # 20 min still takes a whole slot


def test_a_template_cannot_run_an_exam_needing_a_capability_it_lacks() -> None:
    assert not TEMPLATES["MR_NEURO"].can_run(EXAMS["MBREP"])
    assert TEMPLATES["MR_3T"].can_run(EXAMS["MBREP"])


# --- malformed copies are refused ----------------------------------------------------------


def _copy_with(tmp_path: Path, name: str, row: int, changes: dict[str, str]) -> Path:
    """A copy of a shipped file with cells of one data row (2 = first under the header) changed."""
    with (CATALOGUE_DIR / name).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header, rows = reader.fieldnames, list(reader)
    rows[row - 2].update(changes)
    copy = tmp_path / name
    with copy.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return copy


def _assert_names_place(error: DataFileError, copy: Path, row: int, field: str) -> None:
    assert (error.row, error.field) == (row, field)
    assert str(copy) in str(error)
    assert f"row {row}" in str(error)
    assert f"field '{field}'" in str(error)


EXAM_FIELDS_REQUIRED = [
    "code", "name", "modality", "family", "body_part", "duration_min", "contrast",
    "radiologist_present", "ionising", "fasting_hours", "full_bladder", "bowel_prep",
    "min_notice_days", "preparation", "relative_frequency",
]
FIRST_CODE = next(iter(EXAMS))

BAD_EXAM_ROWS = [
    pytest.param(2, {"modality": "PET"}, "modality", id="unknown modality"),
    pytest.param(2, {"family": "MR_NEURO"}, "family", id="family of the wrong modality"),
    pytest.param(3, {"code": FIRST_CODE}, "code", id="duplicate code"),
    pytest.param(2, {"duration_min": "0"}, "duration_min", id="duration 0"),
    pytest.param(2, {"duration_min": "ten"}, "duration_min", id="duration not a number"),
    pytest.param(2, {"fasting_hours": "-2"}, "fasting_hours", id="negative fasting"),
    pytest.param(2, {"required_capabilities": "TELEPORT"}, "required_capabilities",
                 id="unknown capability"),
    pytest.param(2, {"contrast": "maybe"}, "contrast", id="yes/no cell not yes or no"),
    pytest.param(2, {"relative_frequency": "0"}, "relative_frequency", id="zero weight"),
    pytest.param(2, {"relative_frequency": "nan"}, "relative_frequency", id="weight not a number"),
    *[pytest.param(4, {field: " "}, field, id=f"blank {field}") for field in EXAM_FIELDS_REQUIRED],
]


@pytest.mark.parametrize(("row", "changes", "field"), BAD_EXAM_ROWS)
def test_malformed_exam_catalogue_is_refused_naming_the_place(
        tmp_path: Path, row: int, changes: dict[str, str], field: str) -> None:
    copy = _copy_with(tmp_path, "exams.csv", row, changes)
    with pytest.raises(DataFileError) as caught:
        load_exam_catalogue(copy)
    _assert_names_place(caught.value, copy, row, field)


TEMPLATE_FIELDS_REQUIRED = [
    "template_id", "name", "modality", "capacity", "slot_minutes", "crew_role", "crew_per_room",
    "radiologist_required", "rooms_per_radiologist", "periods",
]
FIRST_TEMPLATE = next(iter(TEMPLATES))  # XR_PLAIN:24 at 10 minutes

BAD_TEMPLATE_ROWS = [
    pytest.param(2, {"modality": "PET"}, "modality", id="unknown modality"),
    pytest.param(2, {"capacity": "MR_NEURO:8"}, "capacity", id="family of the wrong modality"),
    pytest.param(2, {"capacity": "XR_TELEPORT:8"}, "capacity", id="unknown family"),
    pytest.param(2, {"capacity": "XR_PLAIN"}, "capacity", id="capacity without a count"),
    pytest.param(2, {"capacity": "XR_PLAIN:0"}, "capacity", id="capacity of zero slots"),
    pytest.param(2, {"capacity": ";"}, "capacity", id="capacity naming no family"),
    pytest.param(3, {"template_id": FIRST_TEMPLATE}, "template_id", id="duplicate id"),
    pytest.param(2, {"capacity": "XR_PLAIN:25"}, "capacity", id="template overrunning session"),
    pytest.param(2, {"slot_minutes": "0"}, "slot_minutes", id="slot of 0 minutes"),
    pytest.param(2, {"required_capabilities": "TELEPORT"}, "required_capabilities",
                 id="unknown capability"),
    pytest.param(2, {"crew_role": "porter"}, "crew_role", id="unknown crew role"),
    pytest.param(2, {"crew_per_room": "0"}, "crew_per_room", id="no crew"),
    pytest.param(2, {"radiologist_required": "yes", "rooms_per_radiologist": "0"},
                 "rooms_per_radiologist", id="radiologist covering no rooms"),
    pytest.param(2, {"periods": "night"}, "periods", id="unknown period"),
    pytest.param(2, {"periods": ";"}, "periods", id="no period"),
    *[pytest.param(4, {field: ""}, field, id=f"blank {field}")
      for field in TEMPLATE_FIELDS_REQUIRED],
]


@pytest.mark.parametrize(("row", "changes", "field"), BAD_TEMPLATE_ROWS)
def test_malformed_session_templates_are_refused_naming_the_place(
        tmp_path: Path, row: int, changes: dict[str, str], field: str) -> None:
    copy = _copy_with(tmp_path, "session_templates.csv", row, changes)
    with pytest.raises(DataFileError) as caught:
        load_session_templates(copy)
    _assert_names_place(caught.value, copy, row, field)


def test_unchanged_copies_load_like_the_shipped_files(tmp_path: Path) -> None:
    exams = _copy_with(tmp_path, "exams.csv", 2, {})
    templates = _copy_with(tmp_path, "session_templates.csv", 2, {})
    assert load_exam_catalogue(exams) == EXAMS
    assert load_session_templates(templates) == TEMPLATES
