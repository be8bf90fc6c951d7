"""The shipped reference network passes its check with WMIN's totals, and the check (library and
`cdip network check`) refuses a broken copy with a message naming the file, row, id and field."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cdip_cli.main import app
from domain.network import REFERENCE_NETWORK_DIR, load_network, load_reference_network
from domain.network_check import REFERENCE_TOTALS, check_network, check_network_folder
from domain.vocabulary import Modality, SiteKind, StaffRole

NETWORK = load_reference_network()
runner = CliRunner()


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "network"
    shutil.copytree(REFERENCE_NETWORK_DIR, folder)
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _set_cell(folder: Path, file: str, row: int, column: str, value: str) -> None:
    """Set one cell; `row` counts like the messages do (the header is row 1)."""
    rows = _rows(folder / file)
    rows[row - 2][column] = value
    _write_rows(folder / file, rows)


def _keep_rows(folder: Path, file: str, keep) -> None:
    _write_rows(folder / file, [row for row in _rows(folder / file) if keep(row)])


def _run_check(*args: str):
    return runner.invoke(app, ["network", "check", *args])


# --- the shipped reference network ----------------------------------------------------------


def test_reference_network_passes_with_the_wmin_totals() -> None:
    report = check_network_folder(REFERENCE_NETWORK_DIR, REFERENCE_TOTALS)

    assert report.problems == ()
    assert report.totals == REFERENCE_TOTALS


def test_cli_json_reports_the_reference_totals_and_no_problems() -> None:
    result = _run_check("--json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {
        "trusts": 15, "icss": 6, "sites": 47, "cdcs": 14, "rooms": 797,
        "rooms_by_modality": {"XR": 290, "US": 371, "CT": 73, "MR": 63}, "problems": [],
    }


def test_cli_prints_the_totals_and_ok_for_the_reference_network() -> None:
    result = _run_check()

    assert result.exit_code == 0, result.output
    assert "797" in result.output
    assert "OK" in result.output


def test_every_site_has_x_ray_and_ultrasound() -> None:
    for site in NETWORK.sites:
        modalities = {room.modality for room in NETWORK.rooms_at(site.site_id)}
        assert {Modality.XR, Modality.US} <= modalities, site.site_id


def test_only_the_childrens_hospital_has_an_age_limit() -> None:
    limits = {site.site_id: site.age_limit_years for site in load_reference_network().sites
              if site.age_limit_years is not None}
    assert limits == {"BWC-BCH": 16}


def test_acute_sites_hold_most_ct_and_mr_rooms() -> None:
    kind = {site.site_id: site.kind for site in NETWORK.sites}
    scanners = [room for room in NETWORK.rooms if room.modality in (Modality.CT, Modality.MR)]
    acute = [room for room in scanners if kind[room.site_id] is SiteKind.ACUTE]

    assert len(acute) > 0.7 * len(scanners)


@pytest.mark.parametrize(("modality", "role", "crew"), [
    (Modality.XR, StaffRole.RADIOGRAPHER, 1), (Modality.CT, StaffRole.RADIOGRAPHER, 2),
    (Modality.MR, StaffRole.RADIOGRAPHER, 2), (Modality.US, StaffRole.SONOGRAPHER, 1),
])
def test_staff_cover_75_to_90_percent_of_weekday_room_sessions(
        modality: Modality, role: StaffRole, crew: int) -> None:
    """Staff are a real constraint on the diary, but not an absurd one."""
    rooms = sum(1 for room in NETWORK.rooms if room.modality is modality)
    # Radiographers with CT skills also run X-ray; count each group once, for its top modality.
    top = {Modality.XR: "XR", Modality.CT: "CT", Modality.MR: "MR", Modality.US: "US"}
    order = ("MR", "CT", "XR", "US")
    sessions = sum(group.sessions_per_week for group in NETWORK.staff_groups
                   if group.role is role
                   and next(code for code in order if code in group.skills) == top[modality])

    assert 0.75 <= sessions / crew / (rooms * 10) <= 0.90


def test_every_ct_or_mr_site_has_radiologist_sessions() -> None:
    for site in NETWORK.sites:
        scanners = [room for room in NETWORK.rooms_at(site.site_id)
                    if room.modality in (Modality.CT, Modality.MR)]
        radiologists = [group for group in NETWORK.staff_at(site.site_id)
                        if group.role is StaffRole.RADIOLOGIST]
        assert not scanners or sum(g.sessions_per_week for g in radiologists) > 0, site.site_id


# --- broken copies --------------------------------------------------------------------------

BROKEN_CELLS = [
    pytest.param("sites.csv", 2, "age_limit_years", "0",
                 "field 'age_limit_years': 0 is not a positive whole number",
                 id="zero-age-limit"),
    pytest.param("sites.csv", 2, "age_limit_years", "sixteen",
                 "field 'age_limit_years'", id="age-limit-not-a-number"),
    pytest.param("rooms.csv", 2, "site_id", "NOWHERE",
                 "rooms.csv, row 2 ('UHB-QE-XR1'), field 'site_id': unknown site 'NOWHERE'",
                 id="room-on-unknown-site"),
    pytest.param("rooms.csv", 3, "room_id", "UHB-QE-XR1",
                 "rooms.csv, row 3 ('UHB-QE-XR1'), field 'room_id': duplicate id, first used "
                 "at row 2", id="duplicate-room-id"),
    pytest.param("staff_groups.csv", 3, "staff_group_id", "UHB-QE-RG-XR",
                 "staff_groups.csv, row 3 ('UHB-QE-RG-XR'), field 'staff_group_id': duplicate",
                 id="duplicate-staff-group-id"),
    pytest.param("sites.csv", 2, "lat", "55.95",
                 "sites.csv, row 2 ('UHB-QE'), field 'lat': 55.95 is outside the region",
                 id="site-latitude-outside-region"),
    pytest.param("demand_areas.csv", 2, "lon", "-4.25",
                 "demand_areas.csv, row 2 ('B1'), field 'lon': -4.25 is outside the region",
                 id="area-longitude-outside-region"),
    pytest.param("sites.csv", 2, "lat", "abc",
                 "sites.csv, row 2, field 'lat': 'abc' is not a number", id="malformed-lat"),
    pytest.param("rooms.csv", 2, "modality", "PET",
                 "rooms.csv, row 2, field 'modality': 'PET' is not one of", id="unknown-modality"),
    pytest.param("sites.csv", 2, "weekday_close", "07:30",
                 "sites.csv, row 2 ('UHB-QE'), field 'weekday_close': closing time 07:30 is "
                 "not after opening time 08:00", id="closes-before-opening"),
    pytest.param("sites.csv", 2, "sunday_close", "",
                 "sites.csv, row 2 ('UHB-QE'), field 'sunday_close': is blank but sunday_open "
                 "is set", id="sunday-open-without-close"),
    pytest.param("sites.csv", 2, "saturday_close", "23:30",
                 "sites.csv, row 2 ('UHB-QE'), field 'saturday_close': 23:30 is outside "
                 "06:00-23:00", id="closes-too-late"),
    pytest.param("sites.csv", 2, "weekday_open", "8am",
                 "sites.csv, row 2, field 'weekday_open': '8am' is not a time as HH:MM",
                 id="malformed-opening-time"),
    pytest.param("trusts.csv", 2, "ics_id", "LONDON",
                 "trusts.csv, row 2 ('UHB'), field 'ics_id': unknown ICS 'LONDON'",
                 id="trust-in-unknown-ics"),
    pytest.param("demand_areas.csv", 2, "ics_id", "LONDON",
                 "demand_areas.csv, row 2 ('B1'), field 'ics_id': unknown ICS 'LONDON'",
                 id="area-in-unknown-ics"),
    pytest.param("sites.csv", 2, "trust_id", "BARTS",
                 "sites.csv, row 2 ('UHB-QE'), field 'trust_id': unknown trust 'BARTS'",
                 id="site-of-unknown-trust"),
    pytest.param("staff_groups.csv", 2, "site_id", "NOWHERE",
                 "staff_groups.csv, row 2 ('UHB-QE-RG-XR'), field 'site_id': unknown site",
                 id="staff-at-unknown-site"),
    pytest.param("rooms.csv", 4, "capabilities", "MR_3T",
                 "rooms.csv, row 4 ('UHB-QE-XR3'), field 'capabilities': MR_3T is not allowed "
                 "on XR rooms", id="3t-on-an-x-ray-room"),
    pytest.param("rooms.csv", 4, "capabilities", "BARIATRIC",
                 "rooms.csv, row 4 ('UHB-QE-XR3'), field 'max_weight_kg': a BARIATRIC room "
                 "must take at least 200 kg", id="bariatric-room-with-light-table"),
    pytest.param("staff_groups.csv", 2, "skills", "US",
                 "staff_groups.csv, row 2 ('UHB-QE-RG-XR'), field 'skills': a radiographer "
                 "does not run US rooms", id="radiographer-with-ultrasound"),
    pytest.param("staff_groups.csv", 2, "skills", "XR;CONTRAST_INJECTOR",
                 "field 'skills': CONTRAST_INJECTOR is room equipment, not a skill",
                 id="equipment-as-skill"),
    pytest.param("staff_groups.csv", 2, "skills", "XR;CARDIAC",
                 "field 'skills': CARDIAC needs one of the modalities CT, MR",
                 id="cardiac-without-ct-or-mr"),
    pytest.param("staff_groups.csv", 2, "headcount", "1",
                 "staff_groups.csv, row 2 ('UHB-QE-RG-XR'), field 'sessions_per_week': 96 "
                 "sessions is more than 10 per head", id="more-sessions-than-people"),
]


@pytest.mark.parametrize(("file", "row", "column", "value", "message"), BROKEN_CELLS)
def test_broken_copy_fails_naming_the_file_row_and_field(
        tmp_path: Path, file: str, row: int, column: str, value: str, message: str) -> None:
    folder = _copy(tmp_path)
    _set_cell(folder, file, row, column, value)

    report = check_network_folder(folder, REFERENCE_TOTALS)

    assert not report.ok
    assert any(message in str(problem) for problem in report.problems), report.problems


@pytest.mark.parametrize(("keep", "messages"), [
    pytest.param(lambda row: row["room_id"] != "UHB-QE-CT1",
                 ["rooms.csv: 796 rooms, expected 797",
                  "rooms.csv, field 'modality': 72 CT rooms, expected 73"], id="a-ct-room-missing"),
    pytest.param(lambda row: row["room_id"] not in {"UHB-WWH-MR1", "UHB-KNC-MR1"},
                 ["rooms.csv: 795 rooms, expected 797",
                  "rooms.csv, field 'modality': 61 MR rooms, expected 63"], id="mr-rooms-missing"),
])
def test_wrong_room_totals_fail_against_the_reference_totals(
        tmp_path: Path, keep, messages: list[str]) -> None:
    folder = _copy(tmp_path)
    _keep_rows(folder, "rooms.csv", keep)

    problems = [str(problem) for problem in check_network_folder(folder, REFERENCE_TOTALS).problems]

    assert problems == messages


def test_changed_modality_moves_a_room_between_totals(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _set_cell(folder, "rooms.csv", 4, "modality", "US")  # UHB-QE-XR3, no capabilities

    problems = [str(p) for p in check_network_folder(folder, REFERENCE_TOTALS).problems]

    assert problems == ["rooms.csv, field 'modality': 289 XR rooms, expected 290",
                        "rooms.csv, field 'modality': 372 US rooms, expected 371"]


def test_a_site_without_rooms_is_a_problem(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _keep_rows(folder, "rooms.csv", lambda row: row["site_id"] != "SATH-LUD")

    problems = [str(p) for p in check_network_folder(folder).problems]

    assert any("('SATH-LUD'), field 'site_id': the site has no rooms" in p for p in problems)


def test_missing_file_is_reported_as_a_problem(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    (folder / "staff_groups.csv").unlink()

    report = check_network_folder(folder)

    assert report.totals is None
    assert [str(p) for p in report.problems] == ["staff_groups.csv: file not found"]


# --- a trust's own network and the CLI on other folders ------------------------------------


def _one_trust_folder(tmp_path: Path, trust_id: str, ics_id: str) -> Path:
    folder = _copy(tmp_path)
    sites = {row["site_id"] for row in _rows(folder / "sites.csv") if row["trust_id"] == trust_id}
    _keep_rows(folder, "icss.csv", lambda row: row["ics_id"] == ics_id)
    _keep_rows(folder, "trusts.csv", lambda row: row["trust_id"] == trust_id)
    _keep_rows(folder, "demand_areas.csv", lambda row: row["ics_id"] == ics_id)
    for file in ("sites.csv", "rooms.csv", "staff_groups.csv"):
        _keep_rows(folder, file, lambda row: row["site_id"] in sites)
    return folder


def test_a_trusts_own_network_passes_without_the_reference_totals(tmp_path: Path) -> None:
    folder = _one_trust_folder(tmp_path, "SATH", "STW")

    report = check_network(load_network(folder))

    assert report.ok, report.problems
    assert (report.totals.trusts, report.totals.sites, report.totals.cdcs) == (1, 4, 1)


def test_cli_checks_another_folder_without_totals_unless_asked(tmp_path: Path) -> None:
    folder = _one_trust_folder(tmp_path, "SATH", "STW")

    plain = _run_check("--dir", str(folder), "--json")
    held_to_reference = _run_check("--dir", str(folder), "--json", "--expect-reference")

    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.output)["sites"] == 4
    assert held_to_reference.exit_code == 1
    assert "sites.csv: 4 sites, expected 47" in json.loads(held_to_reference.output)["problems"]


def test_cli_exits_one_and_lists_each_problem(tmp_path: Path) -> None:
    folder = _copy(tmp_path)
    _set_cell(folder, "rooms.csv", 2, "site_id", "NOWHERE")

    result = _run_check("--dir", str(folder))

    assert result.exit_code == 1
    assert "rooms.csv, row 2 ('UHB-QE-XR1'), field 'site_id': unknown site 'NOWHERE'" in (
        result.output)
    assert "OK" not in result.output


def test_cli_json_gives_nulls_and_the_problem_when_files_cannot_be_read(tmp_path: Path) -> None:
    result = _run_check("--dir", str(tmp_path / "missing"), "--json")

    assert result.exit_code == 1
    assert json.loads(result.output) == {
        "trusts": None, "icss": None, "sites": None, "cdcs": None, "rooms": None,
        "rooms_by_modality": None, "problems": ["icss.csv: file not found"],
    }


def test_build_script_reproduces_the_shipped_rooms_and_staff(tmp_path: Path) -> None:
    """rooms.csv and staff_groups.csv are generated: hand edits would be lost on the next run."""
    script = REFERENCE_NETWORK_DIR.parents[1] / "tools" / "build_reference_network.py"

    subprocess.run([sys.executable, str(script), str(tmp_path)], check=True, capture_output=True)

    for file in ("rooms.csv", "staff_groups.csv"):
        assert (tmp_path / file).read_bytes() == (REFERENCE_NETWORK_DIR / file).read_bytes(), file
